import { api, file, t, header, message, session, el, today, addDays, weekday, serviceName, status, when } from "./app.js";

const $ = (id) => document.getElementById(id);
let services = [], chosen = { day: "", slot: null };
const days = 14;

async function init() {
  header(() => { renderService(); loadDays(); loadMine(); }, "resident", "resident");
  [services] = await Promise.all([api("GET", "/services")]);
  const stations = await api("GET", "/stations");
  $("service").replaceChildren(...services.map((s) => el("option", { value: s.id }, serviceName(s))));
  $("station").replaceChildren(...stations.map((s) => el("option", { value: s.id }, s.name)));
  const wanted = new URLSearchParams(location.search).get("service");
  if (wanted) $("service").value = wanted;
  $("service").addEventListener("change", () => { renderService(); loadDays(); });
  $("station").addEventListener("change", loadDays);
  $("otp-form").addEventListener("submit", sendCode);
  $("verify-form").addEventListener("submit", verify);
  $("book-form").addEventListener("submit", book);
  renderService();
  await loadDays();
  await loadMine();
}

function service() { return services.find((s) => s.id === $("service").value); }

function renderService() {
  const s = service();
  if (!s) return;
  const unit = s.time_limit_unit === "calendar" ? t("calendar_days") : t("working_days");
  $("service-info").replaceChildren(
    el("p", {}, el("b", {}, t("time_limit") + ": "), `${s.time_limit_days}${unit}`, s.online ? el("span", { class: "pill ok", style: "margin-left:.5rem" }, t("online")) : null),
    el("p", {}, el("b", {}, t("materials") + ": "), (s.materials || []).join("、") || t("none")));
}

async function loadDays() {
  const from = today(), to = addDays(from, days - 1);
  const [cal, slots] = await Promise.all([
    api("GET", `/calendar/working-days?from=${from}&to=${to}`),
    api("GET", `/stations/${$("station").value}/availability?service_id=${$("service").value}&from=${from}&to=${to}`),
  ]);
  const byDay = {};
  for (const s of slots) (byDay[s.date] ||= []).push(s);
  $("days").replaceChildren(...cal.days.map((d) => {
    const wd = new Date(d.date + "T00:00:00Z").getUTCDay();
    const kind = d.reason === "holiday" ? "holiday" : d.reason === "make-up" || d.reason === "makeup" ? "makeup" : (wd === 0 || wd === 6) ? "weekend" : "";
    const free = (byDay[d.date] || []).reduce((n, s) => n + s.available, 0);
    const label = kind ? t(kind) : "";
    const b = el("button", { type: "button", class: `day ${kind} ${free ? "" : "none"}`, "aria-pressed": String(chosen.day === d.date), "data-date": d.date,
      "aria-label": `${d.date} ${weekday(d.date)} ${label} ${free} ${t("left")}`,
      onclick: () => { chosen = { day: d.date, slot: null }; loadDays(); } },
      el("small", {}, `${weekday(d.date)} ${d.name || label}`), d.date.slice(5), el("small", {}, free ? `${t("left")} ${free}` : "—"));
    return b;
  }));
  const list = byDay[chosen.day] || [];
  $("slots").replaceChildren(...(chosen.day && !list.length ? [el("p", { class: "muted" }, t("no_slots"))] : []),
    ...list.map((s) => el("button", { type: "button", "aria-pressed": String(chosen.slot?.start === s.start), disabled: s.available <= 0, "data-start": s.start,
      onclick: () => { chosen.slot = s; loadDays(); } }, `${s.start}–${s.end}`, el("br"), el("small", {}, s.available > 0 ? `${t("left")} ${s.available}` : t("full")))));
  $("chosen").textContent = chosen.slot ? `${serviceName(service())} · ${chosen.day} ${chosen.slot.start}–${chosen.slot.end}` : t("choose_slot");
  $("book").disabled = !chosen.slot || !session.get("resident");
}

async function sendCode(ev) {
  ev.preventDefault();
  try {
    const out = await api("POST", "/auth/otp", { phone: $("phone").value });
    $("verify-form").hidden = false;
    message($("login-msg"), out && out.dev_code ? t("demo_code") + out.dev_code : "");
    if (out && out.dev_code) $("code").value = out.dev_code;
    $("code").focus();
  } catch (err) { message($("login-msg"), err); }
}

async function verify(ev) {
  ev.preventDefault();
  try {
    const out = await api("POST", "/auth/verify", { phone: $("phone").value, code: $("code").value });
    session.set("resident", out.token);
    $("book-phone").value = $("phone").value;
    showLoggedIn();
    await loadDays();
    await loadMine();
  } catch (err) { message($("login-msg"), err); }
}

function showLoggedIn() {
  $("otp-form").hidden = true;
  $("verify-form").hidden = true;
  $("login-msg").classList.remove("error");
  $("login-msg").replaceChildren("✓ ", el("button", { type: "button", class: "link", onclick: () => { session.clear("resident"); location.reload(); } }, t("logout")));
}

// confirmation shows the check-in code large, as a QR code for the kiosk,
// with the booking notes and a calendar file.
async function confirmation(out) {
  const token = session.get("resident");
  const [qr, ics] = await Promise.all([file(`/appointments/${out.id}/qr`, token), file(`/appointments/${out.id}/ics`, token)]);
  $("confirmation").replaceChildren(
    el("p", {}, t("show_at_kiosk")),
    el("div", { class: "number", id: "checkin-code" }, out.code),
    el("img", { src: qr, alt: `${t("checkin_code")} ${out.code}`, width: "160", height: "160" }),
    el("ul", {}, ...(out.booking_notes || []).map((n) => el("li", {}, document.documentElement.lang.startsWith("en") ? n.en : n.zh))),
    el("p", {}, el("a", { href: ics, download: "appointment.ics" }, t("add_to_calendar"))));
  $("confirmation").hidden = false;
}

async function book(ev) {
  ev.preventDefault();
  try {
    const out = await api("POST", "/appointments", {
      station_id: $("station").value, service_id: $("service").value, date: chosen.day, start: chosen.slot.start,
      resident: { name: $("name").value, id_number: $("id-number").value, phone: $("book-phone").value },
    }, session.get("resident"));
    message($("book-msg"), `${t("booked")}: ${out.date} ${out.start} · ${t("checkin_code")} ${out.code} · ${t("appointment_code")} ${out.id}`);
    confirmation(out).catch(() => { /* the message above holds the code */ });
    chosen.slot = null;
    await loadDays();
    await loadMine();
  } catch (err) { message($("book-msg"), err); }
}

async function loadMine() {
  const token = session.get("resident");
  if (!token) {
    $("appointments").replaceChildren(el("p", { class: "muted" }, t("login")));
    $("applications").replaceChildren();
    return;
  }
  showLoggedIn();
  try {
    const [mine, apps] = await Promise.all([api("GET", "/me/appointments", undefined, token), api("GET", "/me/applications", undefined, token)]);
    $("appointments").replaceChildren(mine.length ? el("table", {},
      el("thead", {}, el("tr", {}, ...["date", "time", "service", "status", "appointment_code", ""].map((k) => el("th", {}, k ? t(k) : "")))),
      el("tbody", {}, ...mine.map((a) => el("tr", {},
        el("td", {}, a.date), el("td", {}, `${a.start}–${a.end}`), el("td", {}, name(a.service_id)),
        el("td", {}, el("span", { class: "pill" }, status(a.status))), el("td", {}, el("code", {}, a.id)),
        el("td", {}, a.status === "booked" ? [
          el("button", { type: "button", class: "secondary", onclick: () => act(a.id, "cancel") }, t("cancel")), " ",
          el("button", { type: "button", class: "secondary", disabled: !chosen.slot, onclick: () => act(a.id, "reschedule", { date: chosen.day, start: chosen.slot.start }) }, t("reschedule")),
        ] : null))))) : el("p", { class: "muted" }, t("none")));
    $("applications").replaceChildren(apps.length ? el("table", {},
      el("thead", {}, el("tr", {}, ...["service", "status", "deadline", "history", ""].map((k) => el("th", {}, k ? t(k) : "")))),
      el("tbody", {}, ...apps.map((a) => el("tr", {},
        el("td", {}, name(a.service_id)), el("td", {}, el("span", { class: "pill" }, status(a.status))), el("td", {}, a.deadline || "—"),
        el("td", { class: "muted" }, (a.history || []).map((h) => `${when(h.at).slice(0, 10)} ${h.type}`).join(" · ")),
        el("td", {}, (a.status === "completed" || a.status === "rejected") && !a.score ? rateForm(a.id) : a.score ? "★".repeat(a.score) : null))))) : el("p", { class: "muted" }, t("none")));
  } catch (err) { message($("book-msg"), err); }
}

function name(id) { const s = services.find((x) => x.id === id); return s ? serviceName(s) : id; }

function rateForm(id) {
  const score = el("select", { "aria-label": t("rate") }, ...[5, 4, 3, 2, 1].map((n) => el("option", { value: n }, "★".repeat(n))));
  return el("span", {}, score, " ", el("button", { type: "button", onclick: () => act(id, "rate", { score: Number(score.value), comment: "" }, "applications") }, t("rate")));
}

async function act(id, action, body, kind = "appointments") {
  try {
    await api("POST", `/${kind}/${id}/${action}`, body, session.get("resident"));
    await loadDays();
    await loadMine();
  } catch (err) { message($("book-msg"), err); }
}

init().catch((err) => message($("book-msg"), err));
