import { api, t, header, message, session, el, loginForm, serviceName, status, when } from "./app.js";

const $ = (id) => document.getElementById(id);
let station = "", st = null, services = [], current = null;
const token = () => session.get("staff");

async function init() {
  header(() => refresh(), "staff", "staff");
  if (!token()) {
    $("login-box").hidden = false;
    loginForm($("login-box"), (tok, out) => { session.set("station", out.station_id || ""); location.reload(); }, "staff");
    return;
  }
  station = session.get("station");
  [st, services] = await Promise.all([api("GET", `/stations/${station}`), api("GET", "/services")]);
  session.named("staff", st.name);
  $("counter").replaceChildren(...st.counters.map((c) => el("option", { value: c.id }, c.name)));
  const saved = localStorage.getItem("counter");
  if (saved && st.counters.some((c) => c.id === saved)) $("counter").value = saved;
  $("counter").addEventListener("change", () => { localStorage.setItem("counter", $("counter").value); refresh(); });
  const opts = () => services.map((s) => el("option", { value: s.id }, serviceName(s)));
  $("transfer-to").replaceChildren(...opts());
  $("app-service").replaceChildren(...opts());
  $("console").hidden = false;
  $("open").addEventListener("click", () => {
    const c = st.counters.find((x) => x.id === $("counter").value);
    act("open", { service_ids: c.service_ids });
  });
  const actions = { "call-next": "n", recall: "r", start: "s", complete: "c", "no-show": "x" };
  for (const [action, key] of Object.entries(actions)) $(action).addEventListener("click", () => act(action));
  $("transfer").addEventListener("click", () => act("transfer", { service_id: $("transfer-to").value }));
  $("pause").addEventListener("click", () => act("pause"));
  $("close").addEventListener("click", () => act("close"));
  document.addEventListener("keydown", (ev) => {
    if (ev.target.matches("input, select, textarea") || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const action = Object.keys(actions).find((a) => actions[a] === ev.key.toLowerCase());
    if (action) { ev.preventDefault(); act(action); }
  });
  $("new-app").addEventListener("submit", submitApplication);
  $("load-app").addEventListener("click", () => loadApplication($("app-lookup").value.trim()));
  for (const [id, action, body] of [["accept", "accept"], ["supplement-request", "request-supplement", () => ({ missing: $("app-text").value.split(/[,，、]/).map((s) => s.trim()).filter(Boolean) })],
    ["supplement", "supplement"], ["approve", "approve", () => ({ note: $("app-text").value })], ["reject", "reject", () => ({ reason: $("app-text").value })], ["app-complete", "complete"]]) {
    $(id).addEventListener("click", () => applicationAction(action, body && body()));
  }
  await refresh();
  setInterval(refresh, 5000);
}

async function act(action, body) {
  try {
    const out = await api("POST", `/counters/${$("counter").value}/${action}`, body, token());
    message($("msg"), out && out.ticket ? `${t(action.replace("-", "_"))}: ${out.ticket.number}` : action === "call-next" && !out ? t("none") : "✓");
    await refresh();
  } catch (err) { message($("msg"), err); }
}

async function refresh() {
  if (!st) return;
  const q = await api("GET", `/stations/${station}/queue`, undefined, token());
  const mine = q.serving.find((s) => s.counter_id === $("counter").value);
  current = mine ? mine.ticket : null;
  $("current").textContent = current ? current.number : "—";
  $("current-info").textContent = current ? `${name(current.service_id)} · ${t(current.state)}${current.recalls ? " · " + t("recall") + " " + current.recalls : ""}` : "";
  if (current) $("app-service").value = current.service_id;
  $("waiting").replaceChildren(q.waiting.length ? el("table", {},
    el("thead", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, t("service")), el("th", {}, t("priority")))),
    el("tbody", {}, ...q.waiting.map((w) => el("tr", {}, el("td", {}, w.number), el("td", {}, name(w.service_id)), el("td", {}, t(w.priority) || ""))))) :
    el("p", { class: "muted" }, t("none")));
}

function name(id) { const s = services.find((x) => x.id === id); return s ? serviceName(s) : id; }

async function submitApplication(ev) {
  ev.preventDefault();
  try {
    const out = await api("POST", "/applications", {
      station_id: station, service_id: $("app-service").value, channel: "counter", ticket_id: current ? current.id : undefined,
      applicant: { name: $("app-name").value, id_number: $("app-id").value, phone: $("app-phone").value },
    }, token());
    $("app-lookup").value = out.id;
    $("new-app").reset();
    await loadApplication(out.id);
  } catch (err) { message($("app-msg"), err); }
}

async function loadApplication(id) {
  if (!id) return;
  try {
    const a = await api("GET", `/applications/${encodeURIComponent(id)}`, undefined, token());
    $("app-view").replaceChildren(
      el("p", {}, el("b", {}, name(a.service_id)), " · ", el("span", { class: "pill", id: "app-status", "data-status": a.status }, status(a.status)),
        a.deadline ? ` · ${t("deadline")} ${a.deadline} (${t("days_left")} ${a.working_days_left})` : ""),
      el("p", { class: "muted" }, `${a.applicant.name} ${a.applicant.id_number}`),
      el("ol", { class: "muted" }, ...(a.history || []).map((h) => el("li", {}, `${when(h.at)} ${h.type} — ${h.actor}`))));
    $("app-actions").hidden = false;
    message($("app-msg"), "");
  } catch (err) { message($("app-msg"), err); }
}

async function applicationAction(action, body) {
  const id = $("app-lookup").value.trim();
  try {
    await api("POST", `/applications/${encodeURIComponent(id)}/${action}`, body, token());
    await loadApplication(id);
  } catch (err) { message($("app-msg"), err); }
}

init().catch((err) => message($("msg"), err));
