import { api, t, texts, lang, header, message, session, el, loginForm, serviceName, status, when, today, put, say, named, daysLeft } from "./app.js";

texts({
  counter_state: ["窗口状态", "Counter state"], state_open: ["开启", "open"], state_paused: ["暂停", "paused"], state_closed: ["已关闭", "closed"], state_none: ["未开启", "not opened"],
  serves: ["本窗口办理", "Serves"], park: ["暂挂", "Park"], resume: ["恢复", "Resume"], call_number: ["指定叫号", "Call a number"], call: ["叫号", "Call"],
  confirm_no_show: ["确认 {n} 号过号？过号后需重新取号。", "Mark {n} as a no-show? They would have to take a new ticket."],
  confirm_close: ["确认关闭窗口？等候的号将由其他窗口办理。", "Close the counter? Waiting tickets go to other counters."],
  yes: ["确认", "Confirm"], no: ["返回", "Go back"], register: ["登记", "Register"],
  worklist: ["待办办件", "Worklist"], work_state: ["类别", "Show"], work_submitted: ["待受理", "to accept"], work_accepted: ["办理中", "in progress"],
  work_supplement: ["待补正", "awaiting materials"], work_warning: ["临期", "due soon"], work_overdue: ["逾期", "overdue"],
  work_approved: ["待办结", "to complete"], work_ready: ["待领取", "to collect"],
  applicant: ["申请人", "Applicant"], open_app: ["办理", "Open"], channel_online: ["网上", "online"], channel_counter: ["窗口", "counter"],
  tick_missing: ["勾选缺少的材料（一次性告知）", "Tick the missing materials (told once, all at once)"], other_material: ["其他材料", "Other material"],
  send_supplement: ["出具一次性告知书", "Issue the notice"], approve_note: ["审批意见", "Decision note"],
  reject_reason: ["不予许可的理由", "Reason for refusal"], reject_basis: ["法律依据", "Legal basis"], reject_confirm: ["作出不予许可决定", "Refuse"],
  reject_app: ["不予许可", "Refuse"], ready: ["可领取", "Ready to collect"], collect_where: ["领取地点", "Collect at"], collected: ["已领取", "Collected"],
  print_receipt: ["打印受理回执", "Print the receipt"], print_notice: ["打印一次性告知书", "Print the notice"], print_decision: ["打印不予许可决定书", "Print the decision"],
  doc_receipt: ["受理回执", "Acceptance receipt"], doc_notice: ["一次性告知书", "Notice of missing materials"], doc_decision: ["不予许可决定书", "Decision of refusal"],
  doc_no: ["编号", "No."], doc_accepted_on: ["受理日期", "Accepted on"], doc_deadline: ["承诺办结日期", "Promised by"], doc_limit: ["办理时限", "Time limit"],
  doc_receipt_text: ["您的申请已受理。请凭本回执查询办理进度、领取证件。", "Your application is accepted. Keep this receipt to follow it and to collect the document."],
  doc_notice_text: ["经审查，您的申请材料不齐全，现一次性告知需补正的材料如下。补齐后请到本所窗口提交，办理时限自补齐之日起继续计算。", "Your application lacks the materials below, told to you once and all at once. Bring them to this station's desk; the time limit runs on from the day they arrive."],
  doc_decision_text: ["经审查，您的申请不符合法定条件，决定不予许可。", "Having examined your application, this station refuses it: it does not meet the legal conditions."],
  doc_remedy: ["如不服本决定，可自收到本决定书之日起六十日内依法申请行政复议，或者六个月内依法向人民法院提起行政诉讼。", "If you disagree, you may apply for administrative reconsideration within 60 days of receiving this decision, or sue in a people's court within six months."],
  doc_clerk: ["经办人", "Clerk"], doc_date: ["日期", "Date"], doc_seal: ["（盖章）", "(seal)"],
});

const $ = (id) => document.getElementById(id);
let station = "", st = null, services = [], current = null, app = null, q = null;
// The login this page was opened with: a login in another tab (another
// clerk) must not change whom this page acts as; the page reloads instead.
const signedIn = session.get("staff");
const token = () => signedIn;
addEventListener("storage", (ev) => { if (ev.key === "token.staff" && ev.newValue !== signedIn) location.reload(); });

async function init() {
  header(() => { refresh(); worklist(); if (app) showApplication(app); }, "staff", "staff");
  if (!token()) {
    $("login-box").hidden = false;
    loginForm($("login-box"), (tok, out) => { session.set("station", out.station_id || ""); location.reload(); }, "staff", "staff");
    return;
  }
  station = session.get("station");
  [st, services] = await Promise.all([api("GET", `/stations/${station}`, undefined, token()), api("GET", "/services")]);
  session.named("staff", st.name);
  put($("counter"), ...st.counters.map((c) => el("option", { value: c.id }, named(c))));
  const saved = localStorage.getItem("counter");
  if (saved && st.counters.some((c) => c.id === saved)) $("counter").value = saved;
  $("counter").addEventListener("change", () => { localStorage.setItem("counter", $("counter").value); refresh(); });
  const opts = () => services.map((s) => el("option", { value: s.id }, serviceName(s)));
  put($("transfer-to"), ...opts());
  put($("app-service"), ...opts());
  $("console").hidden = false;
  $("open").addEventListener("click", () => {
    const c = st.counters.find((x) => x.id === $("counter").value);
    act("open", { service_ids: c.service_ids });
  });
  const keys = { "call-next": "n", recall: "r", start: "s", complete: "c", park: "p", "no-show": "x" };
  for (const action of Object.keys(keys)) $(action).addEventListener("click", () => step(action));
  $("transfer").addEventListener("click", () => act("transfer", { service_id: $("transfer-to").value }));
  $("call").addEventListener("click", () => act("call", { number: $("call-number").value.trim().toUpperCase() }).then(() => { $("call-number").value = ""; }));
  $("pause").addEventListener("click", () => act("pause"));
  $("close").addEventListener("click", () => step("close"));
  document.addEventListener("keydown", (ev) => {
    if (ev.target.matches("input, select, textarea") || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "Escape") { ask(null); return; }
    const action = Object.keys(keys).find((a) => keys[a] === ev.key.toLowerCase());
    if (action && !$(action).disabled) { ev.preventDefault(); step(action); }
  });
  $("new-app").addEventListener("submit", submitApplication);
  $("load-app").addEventListener("click", () => loadApplication($("app-lookup").value.trim()));
  $("work-state").addEventListener("change", worklist);
  await Promise.all([refresh(), worklist()]);
  setInterval(refresh, 5000);
}

function name(id) { const s = services.find((x) => x.id === id); return s ? serviceName(s) : id; }

// step does a counter action; a no-show and closing the counter ask first,
// from the keyboard too: one key press must not send a person away.
function step(action) {
  if (action === "no-show" && current) {
    const asked = current; // the one named in the question, whatever is current by the answer
    return ask(say("confirm_no_show", { n: asked.number }), () => act("no-show", { ticket_id: asked.id }));
  }
  if (action === "close") return ask(t("confirm_close"), () => act("close"));
  return act(action);
}

function ask(question, then) {
  const box = $("confirm-box");
  if (!question) { box.hidden = true; put(box); return; }
  const yes = el("button", { type: "button", class: "danger", id: "confirm-yes", onclick: () => { ask(null); then(); } }, t("yes"));
  put(box, el("p", {}, question), el("div", { class: "actions" }, yes,
    el("button", { type: "button", class: "secondary", id: "confirm-no", onclick: () => ask(null) }, t("no"))));
  box.hidden = false;
  yes.focus();
}

// The steps on the counter's current ticket name it: the server refuses
// one whose ticket is no longer current (a colleague called meanwhile).
const onCurrent = new Set(["recall", "start", "complete", "park", "no-show", "transfer"]);

async function act(action, body) {
  if (onCurrent.has(action) && current && !body?.ticket_id) body = { ...body, ticket_id: current.id };
  try {
    const out = await api("POST", `/counters/${$("counter").value}/${action}`, body, token());
    message($("msg"), out && out.ticket ? `${t(action.replace("-", "_"))}：${out.ticket.number}` : action === "call-next" && !out ? t("none") : "✓");
    await refresh();
  } catch (err) { message($("msg"), err); }
}

async function refresh() {
  if (!st) return;
  try {
    q = await api("GET", `/stations/${station}/queue`, undefined, token());
  } catch (err) { message($("msg"), err); return; }
  const id = $("counter").value;
  const state = (q.counters || {})[id] || "none";
  $("counter-state").textContent = t("state_" + state);
  $("counter-state").className = "pill " + ({ open: "ok", paused: "warn", closed: "bad" }[state] || "");
  $("counter-state").dataset.state = state;
  const lines = (q.lines || {})[id] || st.counters.find((c) => c.id === id)?.service_ids || [];
  $("lines").textContent = `${t("serves")}：${lines.map(name).join(lang() === "en" ? ", " : "、")}`;
  const mine = q.serving.find((s) => s.counter_id === id);
  current = mine ? mine.ticket : null;
  $("current").textContent = current ? current.number : "—";
  $("current-info").textContent = current ? `${name(current.service_id)} · ${t(current.state)}${current.recalls ? " · " + t("recall") + " " + current.recalls : ""}` : "";
  if (current) $("app-service").value = current.service_id;
  // Only what the counter's state allows is offered.
  const open = state === "open", called = current?.state === "called", serving = current?.state === "serving";
  $("open").disabled = open;
  $("pause").disabled = !open || !!current;
  $("close").disabled = state === "closed" || state === "none" || !!current;
  $("call-next").disabled = !open || !!current;
  $("call").disabled = !open || !!current;
  $("recall").disabled = !called;
  $("start").disabled = !called;
  $("complete").disabled = !called && !serving;
  $("park").disabled = !called && !serving;
  $("no-show").disabled = !called;
  $("transfer").disabled = !called && !serving;
  put($("waiting"), q.waiting.length ? el("table", {},
    el("thead", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, t("service")), el("th", {}, t("priority")))),
    el("tbody", {}, ...q.waiting.map((w) => el("tr", {}, el("td", {}, w.number), el("td", {}, name(w.service_id)), el("td", {}, t(w.priority) || ""))))) :
    el("p", { class: "muted" }, t("none")));
  put($("parked"), q.parked.length ? el("ul", { class: "items" }, ...q.parked.map((p) => el("li", { "data-number": p.number },
    el("b", {}, p.number), ` ${name(p.service_id)} `,
    el("button", { type: "button", class: "secondary resume", disabled: !open || !!current, onclick: () => act("resume", { ticket_id: p.id }) }, t("resume"))))) :
    el("p", { class: "muted" }, t("none")));
}

// worklist lists the station's applications in the chosen state, the most
// urgent first.
async function worklist() {
  try {
    const rows = await api("GET", `/applications?station_id=${station}&state=${$("work-state").value}`, undefined, token());
    put($("worklist"), rows.length ? el("table", {},
      el("thead", {}, el("tr", {}, ...["service", "applicant", "deadline", "status", ""].map((k) => el("th", {}, k ? t(k) : "")))),
      el("tbody", {}, ...rows.map((r) => el("tr", { "data-id": r.id },
        el("td", {}, name(r.service_id), " ", el("small", { class: "muted" }, t("channel_" + r.channel))),
        el("td", {}, r.applicant?.name || ""),
        el("td", {}, r.due || "—", el("br"), el("small", { class: r.days_left < 0 ? "bad" : "muted" }, r.due && r.sla ? daysLeft(r.days_left, r.time_limit_unit) : "")),
        el("td", {}, el("span", { class: "pill" }, status(r.status))),
        el("td", {}, el("button", { type: "button", class: "secondary open-app", onclick: () => loadApplication(r.id) }, t("open_app"))))))) :
      el("p", { class: "muted" }, t("none")));
  } catch (err) { message($("app-msg"), err); }
}

async function submitApplication(ev) {
  ev.preventDefault();
  try {
    const out = await api("POST", "/applications", {
      station_id: station, service_id: $("app-service").value, channel: "counter", ticket_id: current ? current.id : undefined,
      applicant: { name: $("app-name").value, id_number: $("app-id").value, phone: $("app-phone").value },
    }, token());
    $("new-app").reset();
    await loadApplication(out.id);
  } catch (err) { message($("app-msg"), err); }
}

async function loadApplication(id) {
  if (!id) return;
  try {
    app = await api("GET", `/applications/${encodeURIComponent(id)}`, undefined, token());
    $("app-lookup").value = app.id;
    showApplication(app);
    message($("app-msg"), "");
  } catch (err) { message($("app-msg"), err); }
}

function showApplication(a) {
  const unit = a.time_limit_unit === "calendar" ? "calendar" : "working";
  put($("app-view"), 
    el("p", {}, el("b", {}, name(a.service_id)), " · ", el("span", { class: "pill", id: "app-status", "data-status": a.status }, status(a.status)),
      a.deadline ? ` · ${t("deadline")} ${a.deadline}` : "", a.working_days_left !== undefined && ["accepted", "supplement_requested"].includes(a.status) ? ` · ${daysLeft(a.working_days_left, unit)}` : ""),
    el("p", { class: "muted" }, `${t("applicant")}：${a.applicant.name} ${a.applicant.id_number || ""}`),
    a.missing?.length ? el("p", {}, el("b", {}, t("doc_notice") + "："), a.missing.join("、")) : null,
    a.reason ? el("p", {}, el("b", {}, t("reject_reason") + "："), a.reason, a.basis ? `（${a.basis}）` : "") : null,
    el("ol", { class: "history muted" }, ...(a.history || []).map((h) => el("li", {}, `${when(h.at)} ${t(h.type)} — ${h.actor}`))));
  // The actions the application's state allows, and no others.
  const b = (id, key, onclick, cls = "") => el("button", { type: "button", id, class: cls, onclick }, t(key));
  const acts = {
    submitted: [b("accept", "accept", () => decide("accept"))],
    accepted: [b("supplement-request", "supplement_request", supplementForm, "secondary"), b("approve", "approve", approveForm), b("reject", "reject_app", rejectForm, "danger")],
    supplement_requested: [b("supplement", "supplement_received", () => decide("supplement"), "secondary"), b("reject", "reject_app", rejectForm, "danger")],
    approved: [b("app-complete", "complete", () => decide("complete"))],
    completed: a.collected ? [] : a.ready_for_collection ? [b("collect", "collected", () => decide("collect"), "secondary")] : [b("ready", "ready", readyForm, "secondary")],
  }[a.status] || [];
  const prints = [];
  if (a.accepted) prints.push(b("print-receipt", "print_receipt", () => printDoc("receipt"), "secondary"));
  if ((a.history || []).some((h) => h.type === "SupplementRequested")) prints.push(b("print-notice", "print_notice", () => printDoc("notice"), "secondary"));
  if (a.status === "rejected") prints.push(b("print-decision", "print_decision", () => printDoc("decision"), "secondary"));
  put($("app-actions"), ...acts, ...prints);
  put($("app-form"));
}

async function decide(action, body) {
  try {
    await api("POST", `/applications/${encodeURIComponent(app.id)}/${action}`, body, token());
    await loadApplication(app.id);
    await worklist();
  } catch (err) { message($("app-msg"), err); }
}

// supplementForm is the 一次性告知: a checklist of the catalogue's
// materials for the service, and any other, all recorded at once.
function supplementForm() {
  const svc = services.find((s) => s.id === app.service_id) || { materials: [] };
  const list = (svc.materials || []).map((m, i) => el("label", { class: "check" },
    el("input", { type: "checkbox", value: m, name: "missing", id: `missing-${i}` }), " ", lang() === "en" && svc.materials_en?.[i] ? `${m} (${svc.materials_en[i]})` : m));
  const other = el("input", { id: "missing-other", autocomplete: "off" });
  form("supplement-form", [el("fieldset", {}, el("legend", {}, t("tick_missing")), ...list),
    el("label", { for: "missing-other" }, t("other_material")), other], t("send_supplement"), () => {
    const missing = [...document.querySelectorAll('#supplement-form input[name="missing"]:checked')].map((x) => x.value);
    if (other.value.trim()) missing.push(other.value.trim());
    return decide("request-supplement", { missing });
  });
}

function approveForm() {
  const note = el("input", { id: "approve-note", autocomplete: "off" });
  form("approve-form", [el("label", { for: "approve-note" }, t("approve_note")), note], t("approve"), () => decide("approve", { note: note.value }));
}

function rejectForm() {
  const reason = el("textarea", { id: "reject-reason", rows: "2", required: true });
  const basis = el("input", { id: "reject-basis", autocomplete: "off" });
  form("reject-form", [el("label", { for: "reject-reason" }, t("reject_reason")), reason, el("label", { for: "reject-basis" }, t("reject_basis")), basis],
    t("reject_confirm"), () => decide("reject", { reason: reason.value, basis: basis.value }), "danger");
}

function readyForm() {
  const where = el("input", { id: "ready-where", value: `${st.name} 1号窗口`, autocomplete: "off" });
  form("ready-form", [el("label", { for: "ready-where" }, t("collect_where")), where], t("ready"), () => decide("ready", { where: where.value }));
}

function form(id, fields, submit, onsubmit, cls = "") {
  const f = el("form", { id }, ...fields, el("p", {}, el("button", { type: "submit", class: cls, id: id + "-submit" }, submit)));
  f.addEventListener("submit", (ev) => { ev.preventDefault(); onsubmit(); });
  put($("app-form"), f);
  f.querySelector("input, textarea")?.focus();
}

// printDoc lays out one of the desk's documents and prints it: only it
// is printed (the page's other parts are marked noprint).
function printDoc(kind) {
  const a = app, svc = services.find((s) => s.id === a.service_id);
  const asked = [...(a.history || [])].reverse().find((h) => h.type === "SupplementRequested");
  const missing = a.missing?.length ? a.missing : a.asked_for || [];
  const clerk = session.who("staff").user || "";
  const body = {
    receipt: [el("p", {}, t("doc_receipt_text")),
      el("table", {}, el("tbody", {},
        ...[["doc_no", a.id], ["service", name(a.service_id)], ["applicant", a.applicant.name], ["doc_accepted_on", a.accepted || ""],
          ["doc_limit", svc ? `${svc.time_limit_days}${svc.time_limit_unit === "calendar" ? t("calendar_days") : t("working_days")}` : ""],
          ["doc_deadline", a.deadline || ""]].map(([k, v]) => el("tr", {}, el("th", {}, t(k)), el("td", {}, v)))))],
    notice: [el("p", {}, `${a.applicant.name}：`), el("p", {}, t("doc_notice_text")),
      el("ol", {}, ...missing.map((m) => el("li", {}, m))),
      el("p", {}, `${t("service")}：${name(a.service_id)} · ${t("doc_no")}：${a.id}`),
      asked ? el("p", {}, `${t("doc_date")}：${when(asked.at).slice(0, 10)}`) : null],
    decision: [el("p", {}, `${a.applicant.name}：`), el("p", {}, `${t("service")}：${name(a.service_id)} · ${t("doc_no")}：${a.id}`),
      el("p", {}, t("doc_decision_text")), el("p", {}, el("b", {}, t("reject_reason") + "："), a.reason || ""),
      a.basis ? el("p", {}, el("b", {}, t("reject_basis") + "："), a.basis) : null, el("p", {}, t("doc_remedy"))],
  }[kind];
  put($("print-doc"), 
    el("h1", {}, `${st.name} ${t("doc_" + kind)}`), ...body,
    el("p", { class: "sign" }, `${t("doc_clerk")}：${clerk} · ${t("doc_date")}：${today()} ${t("doc_seal")}`));
  $("print-doc").hidden = false;
  $("print-doc").dataset.kind = kind;
  window.print();
}

init().catch((err) => message($("msg"), err));
