import { api, file, t, texts, lang, header, message, session, el, loginForm, today, addDays, serviceName, pct, stateLabel, when, put, named, daysLeft } from "./app.js";

texts({
  basis: ["统计口径", "Count by"], basis_due: ["期内到期", "due in the period"], basis_accepted: ["期内受理", "accepted in the period"], basis_completed: ["期内办结", "concluded in the period"],
  all_stations: ["全部派出所", "Every station"], by_station: ["按派出所", "By station"], no_data: ["无数据", "no data"],
  days_left_h: ["剩余期限", "Time left"],
  of_due: ["{done}/{due} 件", "{done} of {due}"],
  by_hour: ["等候与办理时长（按取号小时）", "Wait and service by hour of issue"], tickets_per_hour: ["每小时取号", "Tickets per hour"],
  rating_spread: ["评价分布", "Ratings"], by_counter_clerk: ["按窗口与经办人", "By counter and clerk"], bad_ratings: ["差评整改", "Bad ratings"],
  export: ["导出 Excel", "Export to Excel"], stars: ["{n} 星", "{n} stars"], star: ["1 星", "1 star"],
  wait_min: ["平均等候（分钟）", "Average wait (min)"], service_min: ["平均办理（分钟）", "Average service (min)"],
  served_n: ["已服务", "Served"], who: ["窗口/经办人", "Counter / clerk"], ratings_n: ["评价数", "Ratings"], average: ["平均分", "Average"], bad: ["差评", "Bad"],
  comment: ["评价内容", "Comment"], step: ["进度", "Step"], due_by: ["整改期限", "Due"], note: ["说明", "Note"],
  step_opened: ["待核实", "to verify"], step_verify: ["已核实", "verified"], step_rectify: ["已整改", "rectified"], step_reply: ["已回访", "followed up"],
  do_verify: ["核实", "Verify"], do_rectify: ["整改", "Rectify"], do_reply: ["回访", "Follow up"], step_done: ["已记录", "Recorded"],
  kind_ticket: ["现场", "visit"], clerk: ["经办人", "Clerk"], kind_application: ["办件", "application"],
});

const $ = (id) => document.getElementById(id);
// The login this page was opened with; a login in another tab reloads it.
const signedIn = session.get("manager");
const token = () => signedIn;
addEventListener("storage", (ev) => { if (ev.key === "token.manager" && ev.newValue !== signedIn) location.reload(); });
let home = "";
let services = [], stations = [];

async function init() {
  header(() => load(), "staff", "manager");
  if (!token()) {
    $("login-box").hidden = false;
    loginForm($("login-box"), (tok, out) => { session.set("manager-station", out.station_id || ""); location.reload(); }, "manager", "manager");
    return;
  }
  $("dash").hidden = false;
  home = session.get("manager-station");
  if (home) api("GET", `/stations/${home}`).then((st) => session.named("manager", st.name)).catch(() => {});
  else session.named("manager", t("bureau"));
  const d = today();
  // The period ends today: cases not yet due are not counted as unfinished.
  $("from").value = addDays(d, -30);
  $("to").value = d;
  // The queue's day: the last working day before today, not a weekend.
  const week = await api("GET", `/calendar/working-days?from=${addDays(d, -10)}&to=${addDays(d, -1)}`).catch(() => ({ days: [] }));
  $("queue-date").value = (week.days || []).filter((x) => x.working).map((x) => x.date).pop() || addDays(d, -1);
  [services, stations] = await Promise.all([api("GET", "/services"), api("GET", "/stations")]);
  if (!home) { // a bureau manager picks a station, or sees them all
    put($("station-pick"), el("option", { value: "" }, t("all_stations")), ...stations.map((s) => el("option", { value: s.id }, named(s))));
    $("station-pick-box").hidden = false;
  }
  calendarWarning(Number(d.slice(0, 4)) + 1);
  $("filters").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  $("export").addEventListener("click", exportBook);
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
  const station = session.get("manager-station") || $("station-pick").value;
  const asOf = $("as-of").value ? `&as_of=${$("as-of").value}` : "";
  const at = station ? `station_id=${station}&` : "";
  const range = `${at}from=${$("from").value}&to=${$("to").value}&basis=${$("basis").value}`;
  try {
    const span = `${at}from=${$("from").value}&to=${$("to").value}${asOf}`;
    const [byHour, byCounterQ, byClerkQ, byCounterC, byClerkC, spread] = await Promise.all([
      api("GET", `/stats/queue?${span}&by=hour`, undefined, token()),
      api("GET", `/stats/queue?${span}&by=counter`, undefined, token()),
      api("GET", `/stats/queue?${span}&by=clerk`, undefined, token()),
      api("GET", `/stats/completion?${range}&by=counter${asOf}`, undefined, token()),
      api("GET", `/stats/completion?${range}&by=clerk${asOf}`, undefined, token()),
      api("GET", `/stats/ratings?${span}`, undefined, token()),
    ]);
    const hours = byHour.rows || [];
    put($("chart-hour"), columns(hours.map((r) => ({ label: r.key + ":00", values: [r.avg_wait_minutes, r.avg_service_minutes] })), [t("wait_min"), t("service_min")]));
    put($("chart-tickets"), columns(hours.map((r) => ({ label: r.key + ":00", values: [r.tickets] })), [t("tickets")]));
    put($("chart-ratings"), columns(spread.by_score.map((n, i) => ({ label: i === 0 ? t("star") : t("stars").replace("{n}", i + 1), values: [n] })), [t("ratings_n")]),
      spread.by_staff.length ? el("table", {}, el("thead", {}, el("tr", {}, ...["who", "ratings_n", "average", "bad"].map((k) => el("th", {}, t(k))))),
        el("tbody", {}, ...spread.by_staff.map((r) => el("tr", {}, el("td", {}, r.staff), el("td", {}, String(r.ratings)), el("td", {}, r.average.toFixed(1)), el("td", {}, String(r.bad))))))
        : null);
    put($("people"), people("counter", byCounterQ.rows || [], byCounterC), people("clerk", byClerkQ.rows || [], byClerkC));
    remediations(station);
    const [bySvc, byDay, sla, queue, byStation] = await Promise.all([
      api("GET", `/stats/completion?${range}&by=service${asOf}`, undefined, token()),
      api("GET", `/stats/completion?${range}&by=day${asOf}`, undefined, token()),
      api("GET", `/sla?${at}${asOf.slice(1)}`, undefined, token()),
      api("GET", `/stats/queue?${at}date=${$("queue-date").value}${asOf}`, undefined, token()),
      station ? null : api("GET", `/stats/completion?${range}&by=station${asOf}`, undefined, token()),
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
    put($("chart-service"), bars(bySvc.map((r) => ({ label: name(r.key), a: r.completion_rate, b: r.on_time_rate, n: r.due, done: r.completed }))));
    put($("chart-day"), bars(byDay.filter((r) => r.key <= today()).map((r) => ({ label: r.key.slice(5), a: r.completion_rate, b: r.on_time_rate, n: r.due, done: r.completed }))));
    $("station-card").hidden = !byStation;
    if (byStation) {
      put($("chart-station"), bars(byStation.map((r) => ({ label: named(stations.find((s) => s.id === r.key) || { name: r.key }), a: r.completion_rate, b: r.on_time_rate, n: r.due, done: r.completed }))));
    }
    put($("sla"), sla.length ? el("table", {},
      el("thead", {}, el("tr", {}, ...["application_id", "service", "deadline", "days_left_h", "status", "escalation"].map((k) => el("th", {}, t(k))))),
      el("tbody", {}, ...sla.map((r) => el("tr", {},
        el("td", {}, el("button", { type: "button", class: "link", onclick: () => { $("audit-id").value = r.application_id; audit(r.application_id); } }, r.application_id)),
        el("td", {}, name(r.service_id)), el("td", {}, r.deadline), el("td", { class: r.working_days_left < 0 ? "bad" : "" }, daysLeft(r.working_days_left, r.time_limit_unit)), el("td", {}, stateLabel(r.state)),
        el("td", {}, r.escalation_level ? el("span", { class: "pill bad" }, "L" + r.escalation_level) : "—"))))) : el("p", { class: "muted" }, t("none")));
    put($("queue"), el("table", {}, el("tbody", {},
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
  svg.setAttribute("viewBox", `0 0 ${w} ${h + 48}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", rows.map((r) => r.n ? `${r.label}: ${t("completion_rate")} ${pct(r.a)}, ${t("on_time_rate")} ${pct(r.b)}` : `${r.label}: ${t("no_data")}`).join("; "));
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
  // Each bar carries its value and the count beneath; a row with nothing
  // due says "no data" rather than drawing an empty 0 % bar.
  rows.forEach((r, i) => {
    const x = pad + i * bw + bw * 0.15, bar = bw * 0.33;
    if (r.n) {
      add("rect", { x, y: h - r.a * h + 10, width: bar, height: r.a * h, fill: "#0b4f9c" });
      add("rect", { x: x + bar, y: h - r.b * h + 10, width: bar, height: r.b * h, fill: "#5fa8e8" });
      if (rows.length <= 12) {
        add("text", { x: x, y: h - r.a * h + 6, class: "value" }, Math.round(r.a * 100) + "%");
        add("text", { x: x, y: h + 38 }, t("of_due").replace("{done}", r.done ?? "").replace("{due}", r.n));
      }
    } else {
      add("text", { x: x, y: h + 4 }, t("no_data"));
    }
    add("text", { x: x, y: h + 26 }, r.label.length > 6 ? r.label.slice(0, 6) + "…" : r.label);
  });
  const legend = el("p", { class: "legend" }, el("span", {}, el("i", { style: "background:#0b4f9c" }), t("completion_rate")), el("span", {}, el("i", { style: "background:#5fa8e8" }), t("on_time_rate")));
  return el("div", {}, svg, legend);
}

async function audit(id) {
  if (!id) return;
  try {
    const rows = await api("GET", `/audit?stream=application-${encodeURIComponent(id)}`, undefined, token());
    put($("audit"), el("table", {},
      el("thead", {}, el("tr", {}, ...["at", "event", "actor"].map((k) => el("th", {}, t(k))))),
      el("tbody", {}, ...rows.map((r) => el("tr", {}, el("td", {}, when(r.at)), el("td", {}, t(r.type)), el("td", {}, `${r.actor} (${r.role})`))))));
  } catch (err) { put($("audit")); message($("msg"), err); }
}

init().catch((err) => message($("msg"), err));

// columns draws bars of one or two series per row, each with its value;
// a row whose values are all 0 or missing shows no bar at all.
function columns(rows, series) {
  if (!rows.length) return el("p", { class: "muted" }, t("none"));
  const w = 560, h = 160, pad = 10, bw = (w - pad) / rows.length, max = Math.max(1, ...rows.flatMap((r) => r.values.map((v) => v || 0)));
  const ns = "http://www.w3.org/2000/svg", colours = ["#0b4f9c", "#5fa8e8"];
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h + 36}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", rows.map((r) => `${r.label}: ${r.values.map((v, i) => `${series[i]} ${v ?? "—"}`).join(", ")}`).join("; "));
  const add = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    svg.append(e);
  };
  rows.forEach((r, i) => {
    const bar = bw * 0.7 / r.values.length, x0 = pad + i * bw + bw * 0.15;
    r.values.forEach((v, j) => {
      if (!v) return;
      const bh = v / max * (h - 16), x = x0 + j * bar;
      add("rect", { x, y: h - bh + 10, width: bar - 1, height: bh, fill: colours[j] });
      add("text", { x, y: h - bh + 6, class: "value" }, String(Math.round(v * 10) / 10));
    });
    add("text", { x: x0, y: h + 26 }, r.label);
  });
  const legend = series.length > 1 ? el("p", { class: "legend" }, ...series.map((s, j) => el("span", {}, el("i", { style: `background:${colours[j]}` }), s))) : null;
  return el("div", {}, svg, legend);
}

// people is the counters' (or clerks') throughput and waits beside their
// on-time rate, one row each.
function people(kind, queue, rates) {
  const keys = [...new Set([...queue.map((r) => r.key), ...rates.map((r) => r.key)])].filter((k) => k && k !== "none").sort();
  if (!keys.length) return null;
  return el("table", { class: "people", "data-kind": kind },
    el("thead", {}, el("tr", {}, ...[kind === "counter" ? "counter" : "clerk", "served_n", "avg_wait", "avg_service", "completion_rate", "on_time_rate"].map((k) => el("th", {}, t(k))))),
    el("tbody", {}, ...keys.map((k) => {
      const q = queue.find((r) => r.key === k) || {}, c = rates.find((r) => r.key === k) || {};
      // The bureau's counters are "station/counter": ids are a station's own.
      const [sid, cid] = k.includes("/") ? k.split("/") : ["", k], st = stations.find((x) => x.id === sid);
      const counter = kind === "counter" && (st ? st.counters || [] : stations.flatMap((x) => x.counters || [])).find((c) => c.id === cid);
      const label = counter ? `${st ? named(st) + " " : ""}${(lang() === "en" && counter.name_en) || counter.name}` : k;
      return el("tr", {}, el("td", {}, label), el("td", {}, String(q.served ?? 0)), el("td", {}, q.tickets ? `${q.avg_wait_minutes} ${t("minutes")}` : "—"),
        el("td", {}, q.served ? `${q.avg_service_minutes} ${t("minutes")}` : "—"), el("td", {}, c.due ? pct(c.completion_rate) : "—"), el("td", {}, c.completed ? pct(c.on_time_rate) : "—"));
    })));
}

// remediations lists the open bad ratings (差评) with what the resident
// said, each to carry through verify, rectify and the follow-up within its
// deadline.
async function remediations(station) {
  try {
    const rows = await api("GET", `/remediations${station ? `?station_id=${station}` : ""}`, undefined, token());
    const next = { opened: "verify", verify: "rectify", rectify: "reply" };
    put($("remediations"), rows.length ? el("table", {},
      el("thead", {}, el("tr", {}, ...["service", "actor", "rate", "comment", "due_by", "status", "step", ""].map((k) => el("th", {}, k ? t(k) : "")))),
      el("tbody", {}, ...rows.map((r) => {
        const step = next[r.step], note = el("input", { "aria-label": t("note"), class: "note", autocomplete: "off" });
        const kind = r.kind === "ticket" ? "tickets" : "applications";
        return el("tr", { "data-id": r.id },
          el("td", {}, `${name(r.service_id)} `, el("small", { class: "muted" }, t("kind_" + r.kind))), el("td", {}, r.staff),
          el("td", {}, "★".repeat(r.score)), el("td", {}, r.comment || "—"),
          el("td", {}, r.due, el("br"), el("small", { class: r.working_days_left < 0 ? "bad" : "muted" }, r.working_days_left === undefined ? "" : daysLeft(r.working_days_left, "working"))),
          el("td", {}, stateLabel(r.state)), el("td", {}, t("step_" + r.step)),
          el("td", {}, step ? el("span", { class: "confirm" }, note, el("button", { type: "button", class: "secondary remedy", "data-step": step, onclick: async () => {
            try {
              await api("POST", `/${kind}/${r.id}/remediation/${step}`, { note: note.value }, token());
              message($("bad-msg"), `${t("step_done")}：${t("do_" + step)}`);
              remediations(station);
            } catch (err) { message($("bad-msg"), err); }
          } }, t("do_" + step))) : null));
      }))) : el("p", { class: "muted" }, t("none")));
  } catch (err) { message($("bad-msg"), err); }
}

// exportBook downloads the tables as an Excel workbook.
async function exportBook() {
  const station = session.get("manager-station") || $("station-pick").value;
  const q = `${station ? `station_id=${station}&` : ""}from=${$("from").value}&to=${$("to").value}&basis=${$("basis").value}`;
  try {
    const url = await file(`/stats/export?${q}`, token());
    const a = el("a", { href: url, download: `servicehall-${station || "all"}-${$("from").value}-${$("to").value}.xlsx` });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (err) { message($("msg"), err); }
}
