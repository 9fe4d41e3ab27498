import { api, t, header, message, session, el, loginForm, today, addDays, serviceName, pct, stateLabel, when } from "./app.js";

const $ = (id) => document.getElementById(id);
const token = () => session.get("manager");
let services = [];

async function init() {
  header(() => load(), "staff", "manager");
  if (!token()) {
    $("login-box").hidden = false;
    loginForm($("login-box"), (tok, out) => { session.set("manager-station", out.station_id || ""); location.reload(); }, "manager");
    return;
  }
  $("dash").hidden = false;
  const home = session.get("manager-station");
  if (home) api("GET", `/stations/${home}`).then((st) => session.named("manager", st.name)).catch(() => {});
  else session.named("manager", t("bureau"));
  const d = today();
  $("from").value = addDays(d, -30);
  $("to").value = addDays(d, 30);
  $("queue-date").value = addDays(d, -1);
  services = await api("GET", "/services");
  calendarWarning(Number(d.slice(0, 4)) + 1);
  $("filters").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  $("audit-form").addEventListener("submit", (ev) => { ev.preventDefault(); audit($("audit-id").value.trim()); });
  await load();
}

// calendarWarning says so while next year's holiday notice is missing:
// the slots released into it rest on computed holidays.
async function calendarWarning(year) {
  try {
    const out = await api("GET", `/calendar/working-days?from=${year}-01-01&to=${year}-01-01`);
    if (out.days.length && out.days[0].reason === "provisional") {
      $("calendar-warning").textContent = t("notice_missing").replace("{y}", year);
      $("calendar-warning").hidden = false;
    }
  } catch { /* the warning is a courtesy */ }
}

function name(id) { const s = services.find((x) => x.id === id); return s ? serviceName(s) : id; }

async function load() {
  const station = session.get("manager-station") || "gulou";
  const asOf = $("as-of").value ? `&as_of=${$("as-of").value}` : "";
  const range = `station_id=${station}&from=${$("from").value}&to=${$("to").value}`;
  try {
    const [bySvc, byDay, sla, queue] = await Promise.all([
      api("GET", `/stats/completion?${range}&by=service${asOf}`, undefined, token()),
      api("GET", `/stats/completion?${range}&by=day${asOf}`, undefined, token()),
      api("GET", `/sla?station_id=${station}${asOf}`, undefined, token()),
      api("GET", `/stats/queue?station_id=${station}&date=${$("queue-date").value}${asOf}`, undefined, token()),
    ]);
    const sum = (k) => bySvc.reduce((n, r) => n + (r[k] || 0), 0);
    const due = sum("due"), done = sum("completed"), onTime = sum("completed_on_time"), ratings = sum("ratings");
    $("kpi-completion").textContent = due ? pct(done / due) : "—";
    $("kpi-ontime").textContent = done ? pct(onTime / done) : "—";
    $("kpi-approval").textContent = done ? pct(sum("approved") / done) : "—";
    $("rate-note").textContent = t("rate_note").replace("{n}", String(sum("withdrawn")));
    $("kpi-satisfaction").textContent = ratings ? (sum("score_sum") / ratings).toFixed(2) + " / 5" : "—";
    $("kpi-overdue").textContent = String(sla.filter((r) => r.state === "overdue").length);
    $("kpi-wait").textContent = `${queue.avg_wait_minutes} ${t("minutes")}`;
    $("kpi-service").textContent = `${queue.avg_service_minutes} ${t("minutes")}`;
    $("chart-service").replaceChildren(bars(bySvc.map((r) => ({ label: name(r.key), a: r.completion_rate, b: r.on_time_rate, n: r.due }))));
    $("chart-day").replaceChildren(bars(byDay.map((r) => ({ label: r.key.slice(5), a: r.completion_rate, b: r.on_time_rate, n: r.due }))));
    $("sla").replaceChildren(sla.length ? el("table", {},
      el("thead", {}, el("tr", {}, ...["application_id", "service", "deadline", "days_left", "status", "escalation"].map((k) => el("th", {}, t(k))))),
      el("tbody", {}, ...sla.map((r) => el("tr", {},
        el("td", {}, el("button", { type: "button", class: "link", onclick: () => { $("audit-id").value = r.application_id; audit(r.application_id); } }, r.application_id)),
        el("td", {}, name(r.service_id)), el("td", {}, r.deadline), el("td", {}, String(r.working_days_left)), el("td", {}, stateLabel(r.state)),
        el("td", {}, r.escalation_level ? el("span", { class: "pill bad" }, "L" + r.escalation_level) : "—"))))) : el("p", { class: "muted" }, t("none")));
    $("queue").replaceChildren(el("table", {}, el("tbody", {},
      ...[["tickets", queue.tickets], ["served", queue.served], ["no_show", queue.no_shows], ["avg_wait", `${queue.avg_wait_minutes} ${t("minutes")}`], ["avg_service", `${queue.avg_service_minutes} ${t("minutes")}`]]
        .map(([k, v]) => el("tr", {}, el("th", {}, t(k)), el("td", {}, String(v)))))));
    message($("msg"), $("as-of").value ? `${t("as_of")}: ${$("as-of").value}` : "");
  } catch (err) { message($("msg"), err); }
}

// bars draws paired bars (completion rate, on-time rate) per row as SVG.
function bars(rows) {
  if (!rows.length) return el("p", { class: "muted" }, t("none"));
  const w = 560, h = 200, pad = 28, bw = (w - pad) / rows.length;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h + 40}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", rows.map((r) => `${r.label}: ${t("completion_rate")} ${pct(r.a)}, ${t("on_time_rate")} ${pct(r.b)}`).join("; "));
  const add = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text) e.textContent = text;
    svg.append(e);
  };
  for (const y of [0, 0.5, 1]) {
    add("line", { x1: pad, x2: w, y1: h - y * h + 10, y2: h - y * h + 10, stroke: "#d7dde6" });
    add("text", { x: 0, y: h - y * h + 14 }, `${y * 100}%`);
  }
  rows.forEach((r, i) => {
    const x = pad + i * bw + bw * 0.15, bar = bw * 0.33;
    add("rect", { x, y: h - r.a * h + 10, width: bar, height: r.a * h, fill: "#0b4f9c" });
    add("rect", { x: x + bar, y: h - r.b * h + 10, width: bar, height: r.b * h, fill: "#5fa8e8" });
    add("text", { x: x, y: h + 26 }, r.label.length > 6 ? r.label.slice(0, 6) + "…" : r.label);
  });
  const legend = el("p", { class: "legend" }, el("span", {}, el("i", { style: "background:#0b4f9c" }), t("completion_rate")), el("span", {}, el("i", { style: "background:#5fa8e8" }), t("on_time_rate")));
  return el("div", {}, svg, legend);
}

async function audit(id) {
  if (!id) return;
  try {
    const rows = await api("GET", `/audit?stream=application-${encodeURIComponent(id)}`, undefined, token());
    $("audit").replaceChildren(el("table", {},
      el("thead", {}, el("tr", {}, ...["at", "event", "actor"].map((k) => el("th", {}, t(k))))),
      el("tbody", {}, ...rows.map((r) => el("tr", {}, el("td", {}, when(r.at)), el("td", {}, r.type), el("td", {}, `${r.actor} (${r.role})`))))));
  } catch (err) { message($("msg"), err); }
}

init().catch((err) => message($("msg"), err));
