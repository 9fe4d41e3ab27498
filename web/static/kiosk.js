import { api, t, header, message, session, el, loginForm, serviceName } from "./app.js";

const $ = (id) => document.getElementById(id);
let station = "", services = [];

async function init() {
  header(() => {}, "kiosk", new URLSearchParams(location.search).has("setup") ? "kiosk" : "");
  const token = session.get("kiosk");
  if (!token) {
    $("login-box").hidden = false;
    loginForm($("login-box"), (tok, out) => { session.set("kiosk.station", out.station_id || ""); location.reload(); }, "kiosk", "kiosk");
    return;
  }
  station = session.get("kiosk.station");
  const [st, all] = await Promise.all([api("GET", `/stations/${station}`), api("GET", "/services")]);
  $("station-name").textContent = st.name;
  const offered = new Set(st.counters.flatMap((c) => c.service_ids));
  services = all.filter((s) => offered.has(s.id));
  $("service").replaceChildren(...services.map((s) => el("option", { value: s.id }, serviceName(s))));
  $("kiosk").hidden = false;
  $("checkin-form").addEventListener("submit", checkIn);
  $("walkin-form").addEventListener("submit", walkIn);
}

async function checkIn(ev) {
  ev.preventDefault();
  try {
    const typed = $("appointment").value.trim();
    // The short code from the booking; a full appointment number still works.
    const out = typed.length > 8
      ? await api("POST", `/appointments/${encodeURIComponent(typed)}/check-in`, undefined, session.get("kiosk"))
      : await api("POST", `/stations/${station}/check-in`, { code: typed }, session.get("kiosk"));
    show(out.ticket, out.service_id, out.estimated_wait_minutes);
    $("appointment").value = "";
  } catch (err) { message($("msg"), err); }
}

async function walkIn(ev) {
  ev.preventDefault();
  try {
    const out = await api("POST", `/stations/${station}/tickets`, { service_id: $("service").value, priority: $("priority").value }, session.get("kiosk"));
    show(out, $("service").value, out.estimated_wait_minutes);
  } catch (err) { message($("msg"), err); }
}

function show(ticket, serviceID, wait) {
  const s = services.find((x) => x.id === serviceID);
  message($("msg"), "");
  $("ticket").hidden = false;
  $("ticket").replaceChildren(
    el("p", {}, t("your_number")),
    el("div", { class: "number", id: "ticket-number" }, ticket.number),
    el("p", {}, s ? serviceName(s) : serviceID),
    el("p", {}, `${t("ahead")} ${ticket.position} ${t("people")} · ${t("est_wait")} ${wait} ${t("minutes")}`),
    el("p", { class: "muted" }, new Date().toLocaleString(document.documentElement.lang)),
    el("p", { class: "noprint" }, el("button", { type: "button", onclick: () => print() }, t("print"))));
}

init().catch((err) => message($("msg"), err));
