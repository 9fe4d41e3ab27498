import { api, file, t, texts, lang, header, message, session, el, today, addDays, weekday, serviceName, status, when, guarded, colon, put, say, named, daysLeft } from "./app.js";

texts({
  hours: ["办公时间", "Opening hours"], address: ["地址", "Address"], tel: ["电话", "Phone"], closed_day: ["不办公", "closed"],
  why_slot: ["请先在上方选择日期和时段", "Choose a day and a time above first"],
  why_login: ["请先用手机号登录", "Log in with your phone first"],
  why_move: ["先在日历中选择新时段，再点此改约", "Choose the new time in the calendar first"],
  why_same: ["改约须为同一业务和派出所：请先在上方选择{s}", "A new time must be for the same service and station: choose {s} above first"],
  move: ["改约", "Reschedule"], show_code: ["签到码", "Check-in code"], hide: ["收起", "Hide"],
  confirm_cancel: ["确认取消这次预约？", "Cancel this appointment?"], yes_cancel: ["确认取消", "Yes, cancel"], keep: ["保留预约", "Keep it"],
  cancelled_ok: ["预约已取消", "The appointment is cancelled"], moved_ok: ["已改约到", "Moved to"],
  withdraw: ["撤回申请", "Withdraw"], confirm_withdraw: ["确认撤回这件申请？撤回后需重新申请。", "Withdraw this application? You would have to apply again."],
  yes_withdraw: ["确认撤回", "Yes, withdraw"], keep_app: ["不撤回", "Keep it"], withdrawn_ok: ["申请已撤回", "The application is withdrawn"],
  awaiting: ["需补正的材料", "Materials still needed"], asked_on: ["告知日期", "asked on"],
  left_after: ["补齐后剩余", "left once they arrive"], refused_because: ["不予办理的理由", "Why it was refused"],
  decision_note: ["审批意见", "Decision note"], collect_at: ["领取地点", "Collect at"], ready: ["可领取", "ready to collect"],
  due_on: ["应于 {d} 前办结", "due by {d}"], accept_by: ["窗口应于 {d} 前受理", "the desk answers by {d}"],
  concluded_on: ["{d} 已办结（按时）", "concluded on {d}, on time"], concluded_late: ["{d} 办结（超期）", "concluded on {d}, late"],
  apply_online: ["网上申请", "Apply online"], apply_online_hint: ["本业务可网上申请：提交后窗口将于下一工作日内受理。", "This service takes online applications: the desk answers by the next working day."],
  submit_online: ["提交申请", "Submit the application"], submitted_ok: ["申请已提交", "Application submitted"],
  rated_ok: ["感谢评价", "Thank you for rating"],
});

const $ = (id) => document.getElementById(id);
let services = [], stations = [], chosen = { day: "", slot: null }, opened = "", asking = "";
const files = new Map(); // appointment id → its QR code and calendar file, as object URLs
const span = 14;

async function init() {
  header(() => {
    renderService(); loadDays(); loadMine();
    if (booked) { // the last booking's message and card, in the new language
      bookedMessage();
      card($("confirmation"), booked).catch(() => {});
    }
  }, "resident", "resident");
  [services, stations] = await Promise.all([api("GET", "/services"), api("GET", "/stations")]);
  stations = await Promise.all(stations.map((s) => api("GET", `/stations/${s.id}`)));
  const wanted = new URLSearchParams(location.search).get("service");
  renderChoices();
  if (wanted) $("service").value = wanted;
  // Another service or station: another calendar, and my bookings say
  // which of them a new time could move.
  const chose = () => { chosen = { day: "", slot: null }; renderService(); loadDays(); renderMine(); };
  $("service").addEventListener("change", chose);
  $("station").addEventListener("change", chose);
  $("otp-form").addEventListener("submit", guarded(sendCode));
  $("verify-form").addEventListener("submit", guarded(verify));
  $("book-form").addEventListener("submit", guarded(book));
  renderService();
  await loadDays();
  await loadMine();
}

function renderChoices() {
  const s = $("service").value, st = $("station").value;
  put($("service"), ...services.map((x) => el("option", { value: x.id }, serviceName(x))));
  put($("station"), ...stations.map((x) => el("option", { value: x.id }, named(x))));
  if (s) $("service").value = s;
  if (st) $("station").value = st;
}

function service() { return services.find((s) => s.id === $("service").value); }
function station(id = $("station").value) { return stations.find((s) => s.id === id); }
function serviceOf(id) { const s = services.find((x) => x.id === id); return s ? serviceName(s) : id; }
function materials(s) { return (lang() === "en" && s.materials_en?.length ? s.materials_en : s.materials) || []; }

// limit reads a time limit in its unit: working days, or calendar days.
function limit(n, unit) { return `${n}${unit === "calendar" ? t("calendar_days") : t("working_days")}`; }

// hoursOn lists a station's opening hours on a date: the weekly hours, or
// the weekend windows on a Saturday or Sunday.
function hoursOn(st, date) {
  const wd = new Date(date + "T00:00:00Z").getUTCDay();
  const rows = [...(st.hours?.weekly || []), ...(st.weekend_windows || [])].filter((h) => h.weekday === wd);
  return rows.length ? rows.map((h) => `${h.start}–${h.end}`).join("，") : t("closed_day");
}

function renderService() {
  renderChoices();
  const s = service(), st = station();
  if (!s || !st) return;
  put($("service-info"), 
    el("p", {}, el("b", {}, t("time_limit") + colon()), limit(s.time_limit_days, s.time_limit_unit), s.online ? el("span", { class: "pill ok gap" }, t("online")) : null),
    el("p", {}, el("b", {}, t("materials") + colon()), materials(s).join(lang() === "en" ? ", " : "、") || t("none")));
  const week = [1, 2, 3, 4, 5, 6, 0].map((wd) => {
    const rows = [...(st.hours?.weekly || []), ...(st.weekend_windows || [])].filter((h) => h.weekday === wd);
    return rows.length ? `${weekday("2024-01-0" + (wd === 0 ? 7 : wd))} ${rows.map((h) => `${h.start}–${h.end}`).join(", ")}` : null;
  }).filter(Boolean);
  put($("station-info"), 
    st.address ? el("p", {}, el("b", {}, t("address") + colon()), st.address, st.phone ? ` · ${t("tel")} ${st.phone}` : "") : null,
    el("p", {}, el("b", {}, t("hours") + colon()), week.join(lang() === "en" ? "; " : "；")));
  renderOnline();
}

async function loadDays() {
  const from = today(), to = addDays(from, span - 1);
  const [cal, slots] = await Promise.all([
    api("GET", `/calendar/working-days?from=${from}&to=${to}`),
    api("GET", `/stations/${$("station").value}/availability?service_id=${$("service").value}&from=${from}&to=${to}`),
  ]);
  const byDay = {};
  for (const s of slots) (byDay[s.date] ||= []).push(s);
  // Monday first, as Chinese calendars are; the first week starts blank.
  const names = lang() === "en" ? ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] : [..."一二三四五六日"];
  put($("weekdays"), ...names.map((n) => el("span", {}, n)));
  const lead = (new Date(from + "T00:00:00Z").getUTCDay() + 6) % 7;
  put($("days"), ...Array.from({ length: lead }, () => el("span", { class: "blank" })), ...cal.days.map((d) => {
    const wd = new Date(d.date + "T00:00:00Z").getUTCDay();
    const kind = d.reason === "holiday" || d.reason === "provisional" ? "holiday" : d.reason === "make-up" || d.reason === "makeup" ? "makeup" : (wd === 0 || wd === 6) ? "weekend" : "";
    const free = (byDay[d.date] || []).reduce((n, s) => n + s.available, 0);
    const label = kind ? t(kind) : "";
    return el("button", { type: "button", class: `day ${kind} ${free ? "" : "none"}`, "aria-pressed": String(chosen.day === d.date), "data-date": d.date,
      title: `${d.date} ${weekday(d.date)} ${label}`,
      onclick: () => { chosen = { day: d.date, slot: null }; loadDays(); renderMine(); } },
      el("small", {}, d.name || label || "\u00a0"), el("span", { class: "m" }, d.date.slice(5, 8)), d.date.slice(8), el("small", { class: "free" }, free ? [el("span", { class: "l" }, `${t("left")} `), String(free)] : "—"));
  }));
  const list = byDay[chosen.day] || [];
  put($("slots"), ...(chosen.day && !list.length ? [el("p", { class: "muted" }, t("no_slots"))] : []),
    ...list.map((s) => el("button", { type: "button", "aria-pressed": String(chosen.slot?.start === s.start), disabled: s.available <= 0, "data-start": s.start,
      onclick: () => { chosen.slot = s; loadDays(); renderMine(); } }, `${s.start}–${s.end}`, el("br"), el("small", {}, s.available > 0 ? `${t("left")} ${s.available}` : t("full")))));
  $("chosen").textContent = chosen.slot ? `${serviceName(service())} · ${named(station())} · ${chosen.day} ${chosen.slot.start}–${chosen.slot.end}` : t("choose_slot");
  const why = !chosen.slot ? t("why_slot") : !session.get("resident") ? t("why_login") : "";
  $("book").disabled = !!why;
  $("book-why").textContent = why;
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
    header.redraw && header.redraw();
    showLoggedIn();
    await loadDays();
    await loadMine();
  } catch (err) { message($("login-msg"), err); }
}

function showLoggedIn() {
  $("otp-form").hidden = true;
  $("verify-form").hidden = true;
  message($("login-msg"), t("logged_in"));
  renderOnline();
}

// card shows what a resident needs on the day: the check-in code large
// and as a QR code for the kiosk, where and when, what to bring, the
// booking notes and a calendar file.
async function card(box, a) {
  const token = session.get("resident");
  const st = station(a.station_id) || { name: a.station_id }, s = services.find((x) => x.id === a.service_id);
  // Fetched once an appointment: the list is drawn again on every click.
  if (!files.has(a.id)) files.set(a.id, Promise.all([file(`/appointments/${a.id}/qr`, token), file(`/appointments/${a.id}/ics`, token)]));
  const [qr, ics] = await files.get(a.id).catch((err) => { files.delete(a.id); throw err; });
  put(box, 
    el("p", {}, t("show_at_kiosk")),
    el("div", { class: "code-row" },
      el("div", { class: "number checkin-code" }, a.code),
      el("img", { src: qr, alt: `${t("checkin_code")} ${a.code}`, width: "160", height: "160" })),
    el("p", {}, el("b", {}, `${a.date} ${a.start}–${a.end}`), ` · ${s ? serviceName(s) : a.service_id}`),
    el("p", {}, el("b", {}, named(st)), st.address ? ` · ${st.address}` : "", st.phone ? ` · ${t("tel")} ${st.phone}` : ""),
    el("p", {}, el("b", {}, t("hours") + colon()), st.hours ? hoursOn(st, a.date) : ""),
    s ? el("p", {}, el("b", {}, t("materials") + colon()), materials(s).join(lang() === "en" ? ", " : "、")) : null,
    el("ul", { class: "notes" }, ...(st.booking_notes || a.booking_notes || []).map((n) => el("li", {}, lang() === "en" ? n.en : n.zh))),
    el("p", {}, el("a", { href: ics, download: "appointment.ics" }, t("add_to_calendar"))));
  box.hidden = false;
}

// booked is the booking made on this page, for its message and card.
let booked = null;

function bookedMessage() {
  message($("book-msg"), `${t("booked_ok")}${colon()}${booked.date} ${booked.start} · ${t("checkin_code")} ${booked.code}`);
}

async function book(ev) {
  ev.preventDefault();
  try {
    const out = await api("POST", "/appointments", {
      station_id: $("station").value, service_id: $("service").value, date: chosen.day, start: chosen.slot.start,
      resident: { name: $("name").value, id_number: $("id-number").value, phone: $("book-phone").value },
    }, session.get("resident"));
    booked = out;
    bookedMessage();
    message($("mine-msg"), "");
    $("book-msg").dataset.id = out.id;
    card($("confirmation"), out).catch(() => { /* the message above holds the code */ });
    chosen.slot = null;
    await loadDays();
    await loadMine();
  } catch (err) { message($("book-msg"), err); }
}

let mine = [], apps = [];

async function loadMine() {
  const token = session.get("resident");
  if (!token) {
    put($("appointments"), el("p", { class: "muted" }, t("why_login")));
    put($("applications"));
    return;
  }
  showLoggedIn();
  try {
    [mine, apps] = await Promise.all([api("GET", "/me/appointments", undefined, token), api("GET", "/me/applications", undefined, token)]);
    renderMine();
    renderApps();
  } catch (err) { message($("mine-msg"), err); }
}

function renderMine() {
  if (!session.get("resident")) return;
  put($("appointments"), mine.length ? el("ul", { class: "items" }, ...mine.map((a) => {
    const live = a.status === "booked";
    const detail = el("div", { class: "confirmation", hidden: true });
    if (opened === a.id && live) card(detail, a).catch((err) => message($("mine-msg"), err));
    // A new time for this booking: a slot of its own service and station.
    const same = a.service_id === $("service").value && a.station_id === $("station").value;
    const why = !same ? t("why_same").replace("{s}", `${serviceOf(a.service_id)} · ${named(station(a.station_id) || { name: a.station_id })}`) : chosen.slot ? "" : t("why_move");
    return el("li", { "data-id": a.id },
      el("div", { class: "item-head" },
        el("b", {}, `${a.date} ${a.start}–${a.end}`), el("span", {}, serviceOf(a.service_id)),
        el("span", { class: "pill" }, status(a.status)), live && a.code ? el("span", { class: "code" }, `${t("checkin_code")} ${a.code}`) : null),
      live ? el("div", { class: "actions" },
        el("button", { type: "button", class: "secondary show", "aria-expanded": String(opened === a.id), onclick: () => { opened = opened === a.id ? "" : a.id; renderMine(); } }, opened === a.id ? t("hide") : t("show_code")),
        el("button", { type: "button", class: "secondary move", disabled: !!why, title: why, "aria-describedby": `why-${a.id}`,
          onclick: () => act(a.id, "reschedule", { date: chosen.day, start: chosen.slot.start }, "appointments", `${t("moved_ok")} ${chosen.day} ${chosen.slot.start}`) }, chosen.slot && !why ? `${t("move")} → ${chosen.day.slice(5)} ${chosen.slot.start}` : t("move")),
        asking === a.id
          ? el("span", { class: "confirm", role: "group", "aria-label": t("confirm_cancel") }, t("confirm_cancel"), " ",
            el("button", { type: "button", class: "danger yes", onclick: () => { asking = ""; act(a.id, "cancel", {}, "appointments", t("cancelled_ok")); } }, t("yes_cancel")), " ",
            el("button", { type: "button", class: "secondary no", onclick: () => { asking = ""; renderMine(); } }, t("keep")))
          : el("button", { type: "button", class: "secondary cancel", onclick: () => { asking = a.id; renderMine(); } }, t("cancel")),
        why ? el("small", { class: "muted", id: `why-${a.id}` }, why) : null) : null,
      detail);
  })) : el("p", { class: "muted" }, t("none")));
}

// deadline reads an application's deadline in its unit, with the days
// left or overdue.
function deadline(a) {
  if (a.status === "withdrawn") return "";
  if (a.completed) return say(a.on_time ? "concluded_on" : "concluded_late", { d: a.completed });
  if (a.status === "submitted") return a.accept_by ? say("accept_by", { d: a.accept_by }) : "";
  if (!a.deadline) return "";
  const left = a.days_left === undefined ? "" : daysLeft(a.days_left, a.time_limit_unit);
  return [say("due_on", { d: a.deadline }), left].filter(Boolean).join(" · ");
}

function renderApps() {
  put($("applications"), apps.length ? el("ul", { class: "items" }, ...apps.map((a) => {
    const open = a.status === "submitted" || a.status === "accepted" || a.status === "supplement_requested";
    const asked = [...(a.history || [])].reverse().find((h) => h.type === "SupplementRequested");
    return el("li", { "data-id": a.id },
      el("div", { class: "item-head" }, el("b", {}, serviceOf(a.service_id)), el("span", { class: "pill app-status", "data-status": a.status }, status(a.status)),
        a.ready_for_collection ? el("span", { class: "pill ok" }, t("ready")) : null),
      deadline(a) ? el("p", { class: "deadline" }, el("b", {}, t("deadline") + colon()), deadline(a)) : null,
      a.missing?.length ? el("div", { class: "missing" }, el("b", {}, t("awaiting") + colon()),
        el("ul", {}, ...a.missing.map((m) => el("li", {}, m))),
        el("small", { class: "muted" }, [asked ? `${t("asked_on")} ${when(asked.at).slice(0, 10)}` : "", a.left ? `${t("left_after")} ${limit(a.left, a.time_limit_unit)}` : ""].filter(Boolean).join(" · "))) : null,
      a.reason ? el("p", { class: "reason" }, el("b", {}, t("refused_because") + colon()), a.reason) : null,
      a.note ? el("p", {}, el("b", {}, t("decision_note") + colon()), a.note) : null,
      a.collect_at ? el("p", {}, el("b", {}, t("collect_at") + colon()), a.collect_at) : null,
      el("ol", { class: "history muted" }, ...(a.history || []).map((h) => el("li", {}, `${when(h.at).slice(0, 10)} ${t(h.type)}`))),
      el("div", { class: "actions" },
        open ? (asking === a.id
          ? el("span", { class: "confirm" }, t("confirm_withdraw"), " ",
            el("button", { type: "button", class: "danger yes", onclick: () => { asking = ""; act(a.id, "withdraw", undefined, "applications", t("withdrawn_ok")); } }, t("yes_withdraw")), " ",
            el("button", { type: "button", class: "secondary no", onclick: () => { asking = ""; renderApps(); } }, t("keep_app")))
          : el("button", { type: "button", class: "secondary withdraw", onclick: () => { asking = a.id; renderApps(); } }, t("withdraw"))) : null,
        (a.status === "completed" || a.status === "rejected") && !a.score ? rateForm(a.id) : a.score ? el("span", { "aria-label": `${a.score}/5` }, "★".repeat(a.score)) : null));
  })) : el("p", { class: "muted" }, t("none")));
}

function rateForm(id) {
  const score = el("select", { "aria-label": t("rate") }, ...[5, 4, 3, 2, 1].map((n) => el("option", { value: n }, "★".repeat(n))));
  return el("span", {}, score, " ", el("button", { type: "button", onclick: () => act(id, "rate", { score: Number(score.value), comment: "" }, "applications", t("rated_ok")) }, t("rate")));
}

// renderOnline offers the online application for a service that takes one.
function renderOnline() {
  const s = service();
  if (!s || !s.online || !session.get("resident")) { put($("online-box")); delete $("online-box").dataset.key; return; }
  const key = `${s.id} ${lang()}`; // drawn again only when it changes: the form may be half filled
  if ($("online-box").dataset.key === key) return;
  $("online-box").dataset.key = key;
  const name = el("input", { id: "online-name", autocomplete: "name", required: true });
  const id = el("input", { id: "online-id", required: true, maxlength: "18", autocomplete: "off" });
  const phone = el("input", { id: "online-phone", inputmode: "numeric", required: true, value: $("book-phone").value || $("phone").value });
  const msg = el("p", { class: "msg", role: "status", id: "online-msg" });
  const form = el("form", { id: "online-form" },
    el("p", { class: "muted" }, t("apply_online_hint")),
    el("div", { class: "row" },
      el("div", {}, el("label", { for: "online-name" }, t("name")), name),
      el("div", {}, el("label", { for: "online-id" }, t("id_number")), id),
      el("div", {}, el("label", { for: "online-phone" }, t("phone")), phone)),
    el("p", {}, el("button", { type: "submit", id: "submit-online" }, t("submit_online"))), msg);
  form.addEventListener("submit", guarded(async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", "/applications", { station_id: $("station").value, service_id: s.id, channel: "online",
        applicant: { name: name.value, id_number: id.value, phone: phone.value } }, session.get("resident"));
      message(msg, t("submitted_ok"));
      form.reset();
      await loadMine();
    } catch (err) { message(msg, err); }
  }));
  put($("online-box"), el("details", {}, el("summary", {}, t("apply_online")), form));
}

// acting is true while an action is out: a double click acts once.
let acting = false;

async function act(id, action, body, kind, done) {
  const box = kind === "applications" ? $("apps-msg") : $("mine-msg");
  if (acting) return;
  acting = true;
  try {
    await api("POST", `/${kind}/${id}/${action}`, body, session.get("resident"));
    files.delete(id); // a moved booking's calendar file moves too
    if (booked?.id === id) { // the confirmation above no longer holds
      booked = null;
      $("confirmation").hidden = true;
      message($("book-msg"), "");
    }
    message(box, done);
    if (action === "reschedule") chosen.slot = null;
    await loadDays();
    await loadMine();
  } catch (err) { message(box, err); } finally { acting = false; }
}

init().catch((err) => message($("book-msg"), err));
