// The admin console: the service guide, stations with counters and hours
// (with a preview of the slots they release), the holiday calendar, users,
// jobs and projections, and the configuration's history.
import { api, t, texts, lang, header, message, session, el, loginForm, serviceName, when, today, addDays, put } from "./app.js";

texts({
  sep: ["；", "; "],
  admin_account: ["请使用管理员账号登录", "Log in with an admin account"],
  sec_guide: ["办事指南", "Service guide"], sec_stations: ["派出所与办公时间", "Stations and hours"], sec_calendar: ["节假日", "Holiday calendar"],
  sec_users: ["用户", "Users"], sec_jobs: ["任务与投影", "Jobs and projections"], sec_history: ["配置变更记录", "Configuration history"],
  svc_edit: ["新增或修改业务", "Add or change a service"], svc_id: ["业务编号", "Service id"], svc_name_zh: ["名称（中文）", "Name (Chinese)"],
  svc_name_en: ["名称（英文）", "Name (English)"], svc_category: ["类别", "Category"], cat_household: ["户籍", "Household"], cat_license: ["证照", "Licences"],
  promised_limit: ["承诺时限（天）", "Promised limit (days)"], legal_limit: ["法定时限（天，0 = 同承诺时限）", "Legal limit (days, 0 = the promised one)"],
  unit: ["单位", "Unit"], unit_working: ["工作日", "working days"], unit_calendar: ["自然日", "calendar days"],
  materials_lines: ["所需材料（每行一项）", "Materials (one a line)"], materials_en_lines: ["材料英文名（每行一项，顺序相同）", "Materials in English (one a line, same order)"],
  fee: ["收费标准", "Fee"], legal_basis: ["设定依据", "Legal basis"], online_channel: ["可网上申请", "Can be applied for online"],
  save: ["保存", "Save"], saved: ["已保存", "Saved"], edit: ["修改", "Edit"], add: ["添加", "Add"], added: ["已添加", "Added"],
  promised: ["承诺", "promised"], legal: ["法定", "legal"], channel: ["办理渠道", "Channel"], channel_online: ["网上申请或窗口办理", "online or at the counter"],
  channel_counter: ["仅窗口办理", "at the counter only"], no_fee: ["未登记收费信息", "no fee recorded"], not_recorded: ["未登记", "not recorded"],
  n_days_working: ["{n} 个工作日", "{n} working days"], n_days_calendar: ["{n} 日（自然日）", "{n} calendar days"],
  add_counter: ["新增窗口", "Add a counter"], counter_id: ["窗口编号", "Counter id"], counter_name: ["窗口名称", "Counter name"], counter_name_en: ["英文名称", "English name"],
  services_served: ["办理业务", "Services"], counters: ["窗口", "Counters"], address: ["地址", "Address"], station_phone: ["电话", "Phone"],
  add_station: ["新增派出所", "Add a station"], station_id: ["编号", "Id"], station_name: ["名称", "Name"], station_name_en: ["英文名称", "English name"],
  hours_title: ["办公时间与周末窗口", "Hours and weekend windows"],
  hours_note: ["每周时段用于工作日（调休上班日按周一）；周末窗口只在普通周末开放；节假日都不开放。", "Weekly hours apply on working days (a make-up working day takes Monday's); weekend windows on ordinary weekends only; neither on holidays."],
  weekly: ["每周办公时间", "Weekly hours"], weekend_windows: ["周末窗口", "Weekend windows"], add_row: ["添加时段", "Add a window"], remove: ["删除", "Remove"],
  weekday: ["星期", "Weekday"], start_time: ["开始", "Start"], end_time: ["结束", "End"], slot_minutes: ["每段分钟", "Slot minutes"],
  capacity: ["每段名额", "Places per slot"], walk_in_places: ["其中现场名额", "of which walk-in"],
  preview_date: ["预览日期", "Preview date"], preview: ["预览开放时段", "Preview the slots"], save_hours: ["保存办公时间", "Save the hours"],
  preview_of: ["{d}（{w}）按上表将开放：", "On {d} ({w}) these hours release:"], preview_none: ["{d}（{w}）不开放预约时段。", "On {d} ({w}) no slots are released."],
  preview_unsaved: ["预览，尚未保存", "preview, not saved"], released_n: ["已保存，新开放 {n} 个时段（至 {d}）。已开放的日子不变：如需停止其中的预约，请用临时闭厅。", "Saved; {n} new slots released (through {d}). Days already released keep their slots: close them (临时闭厅) to stop their bookings."],
  slot_time: ["时段", "Time"], places: ["名额", "Places"], walk_in_short: ["现场", "Walk-in"], bookable: ["可预约", "Bookable"],
  wd1: ["周一", "Monday"], wd2: ["周二", "Tuesday"], wd3: ["周三", "Wednesday"], wd4: ["周四", "Thursday"], wd5: ["周五", "Friday"], wd6: ["周六", "Saturday"], wd7: ["周日", "Sunday"],
  reason_workday: ["工作日", "working day"], reason_weekend: ["周末", "weekend"], reason_holiday: ["节假日", "holiday"], reason_makeup: ["调休上班", "make-up working day"], reason_provisional: ["节假日（暂定）", "holiday (provisional)"],
  calendar_note: ["导入国务院办公厅当年放假安排（holiday-cn 格式 JSON），导入后立即按新安排开放或关闭时段。", "Import the State Council's holiday notice for a year (holiday-cn JSON); slots open or close at once by it."],
  calendar_file: ["放假安排文件（JSON）", "Holiday notice (JSON file)"], import: ["导入", "Import"], year: ["年份", "Year"], show: ["查看", "Show"],
  choose_file: ["请先选择文件", "Choose a file first"], bad_json: ["文件不是有效的 JSON", "The file is not valid JSON"],
  imported: ["已导入 {y} 年放假安排（{n} 天）", "Imported the {y} notice ({n} days)"],
  holidays: ["节假日", "Holidays"], makeup_days: ["调休上班日", "Make-up working days"], working_days_n: ["全年工作日 {n} 天", "{n} working days in the year"],
  provisional_year: ["暂定：{y} 年放假安排尚未导入，节假日按《全国年节及纪念日放假办法》推算，调休未知。", "Provisional: the {y} notice is not imported; holidays are computed from the statutory list, make-up days unknown."],
  official_year: ["已按 {y} 年官方放假安排", "By the official {y} notice"], n_days: ["{n} 天", "{n} days"],
  add_user: ["新增用户", "Add a user"], initial_password: ["初始密码", "Initial password"], role: ["角色", "Role"],
  role_staff: ["窗口人员", "staff"], role_manager: ["管理人员", "manager"], role_kiosk: ["自助机", "kiosk"], role_admin: ["管理员", "admin"],
  password_rule: ["密码至少10个字符，且不能过于常见。", "At least 10 characters, and not a common one."],
  no_station: ["（无，分局或管理员）", "(none: bureau or admin)"], active: ["正常", "active"], user_disabled: ["已停用", "disabled"],
  disable: ["停用", "Disable"], enable: ["启用", "Enable"], reset_password: ["重设密码", "Reset password"], new_password: ["新密码", "New password"],
  confirm_disable: ["确认停用 {u}？其登录立即失效。", "Disable {u}? Their sessions end at once."], yes: ["确认", "Confirm"], no: ["取消", "Cancel"],
  user_added: ["已添加用户 {u}", "Added user {u}"], user_now_disabled: ["已停用 {u}", "Disabled {u}"], user_now_enabled: ["已启用 {u}", "Enabled {u}"],
  password_reset: ["已重设 {u} 的密码，其原有登录已失效", "Reset the password of {u}; their earlier sessions ended"],
  jobs: ["定时任务", "Jobs"], job: ["任务", "Job"], schedule: ["计划", "Schedule"], last_run: ["上次运行", "Last run"], next_run: ["下次运行", "Next run"],
  result: ["结果", "Result"], run_now: ["立即运行", "Run now"], never: ["未运行", "never"], job_done: ["{j} 已运行：{r}", "{j} ran: {r}"],
  projections: ["投影（读模型）", "Projections (read models)"], projection: ["投影", "Projection"], position: ["位置", "Position"], lag: ["落后", "Lag"],
  rebuild: ["重建", "Rebuild"], rebuilding: ["重建中", "rebuilding"], caught_up: ["正常", "caught up"],
  confirm_rebuild: ["确认重建投影 {p}？重建期间仍用旧视图服务。", "Rebuild projection {p}? The old view serves meanwhile."],
  rebuild_started: ["已开始重建 {p}", "Rebuilding {p}"],
  who_when: ["时间", "When"], actor: ["操作人", "Actor"], change: ["变更", "Change"], no_history: ["暂无配置变更", "No changes yet"],
  h_ServiceDefined: ["定义业务「{name}」（{id}），承诺时限 {limit}", "Defined service “{name}” ({id}), promised in {limit}"],
  h_StationRegistered: ["新增派出所「{name}」（{id}）", "Registered station “{name}” ({id})"],
  h_CounterAdded: ["{station}：新增窗口「{name}」（{id}）", "{station}: added counter “{name}” ({id})"],
  h_HoursSet: ["{station}：设置办公时间，每周 {w} 段、周末窗口 {e} 段", "{station}: set hours, {w} weekly and {e} weekend windows"],
  h_CalendarImported: ["导入 {y} 年放假安排：节假日 {h} 天、调休上班 {m} 天", "Imported the {y} holiday notice: {h} holidays, {m} make-up days"],
  h_UserCreated: ["新增用户 {u}（{role}{station}）", "Created user {u} ({role}{station})"],
  h_PasswordChanged: ["重设用户 {u} 的密码", "Reset the password of {u}"], h_UserDisabled: ["停用用户 {u}", "Disabled user {u}"], h_UserEnabled: ["启用用户 {u}", "Enabled user {u}"],
  h_WebhookSubscribed: ["新增事件订阅（{n} 类事件）", "Subscribed a webhook ({n} event types)"],
});

const $ = (id) => document.getElementById(id);
const token = () => session.get("admin");
const fmt = (key, vals) => t(key).replace(/\{(\w+)\}/g, (_, k) => vals[k] ?? "");
let services = [], stations = [];

function stationLabel(s) { return (lang() === "en" && s.name_en) || s.name; }
function svcName(id) { const s = services.find((x) => x.id === id); return s ? serviceName(s) : id; }
function limitText(days, unit) { return fmt(unit === "calendar" ? "n_days_calendar" : "n_days_working", { n: days }); }
const call = (method, path, body) => api(method, path, body, token());

// ask puts a question in the confirmation box; then runs on yes.
function ask(text, then) {
  const box = $("confirm-box");
  if (!text) { box.hidden = true; put(box); return; }
  put(box, el("p", { id: "confirm-text" }, text), el("div", { class: "confirm" },
    el("button", { type: "button", class: "danger", id: "confirm-yes", onclick: () => { ask(null); then(); } }, t("yes")),
    el("button", { type: "button", class: "secondary", id: "confirm-no", onclick: () => ask(null) }, t("no"))));
  box.hidden = false;
  $("confirm-yes").focus();
}

async function init() {
  header(() => renderAll(), "staff", "admin");
  if (!token()) {
    $("login-box").hidden = false;
    loginForm($("login-box"), () => location.reload(), "admin", "admin");
    return;
  }
  $("console").hidden = false;
  $("svc-form").addEventListener("submit", (ev) => { ev.preventDefault(); saveService(); });
  $("station").addEventListener("change", () => showStation());
  $("counter-form").addEventListener("submit", (ev) => { ev.preventDefault(); addCounter(); });
  $("station-form").addEventListener("submit", (ev) => { ev.preventDefault(); addStation(); });
  $("add-weekly").addEventListener("click", () => $("hours-weekly").append(hoursRow({ weekday: 1, start: "09:00", end: "12:00", service_ids: [], slot_minutes: 30, capacity: 4, walk_in: 0 }, 1, 7)));
  $("add-weekend").addEventListener("click", () => $("hours-weekend").append(hoursRow({ weekday: 6, start: "09:00", end: "12:00", service_ids: [], slot_minutes: 30, capacity: 3, walk_in: 0 }, 6, 7)));
  $("preview").addEventListener("click", () => preview());
  $("hours-save").addEventListener("click", () => saveHours());
  $("cal-import").addEventListener("click", () => importCalendar());
  $("cal-show").addEventListener("click", () => showYear());
  $("user-form").addEventListener("submit", (ev) => { ev.preventDefault(); addUser(); });
  $("history-refresh").addEventListener("click", () => loadHistory());
  $("preview-date").value = addDays(today(), 1);
  $("cal-year").value = today().slice(0, 4);
  try {
    await loadCatalogue();
    await loadStations();
  } catch (err) { message($("svc-msg"), err); }
  showYear();
  loadUsers();
  loadJobs();
  loadHistory();
}

// renderAll draws everything again in the language just chosen.
function renderAll() {
  renderGuide();
  renderStationOptions();
  showStation();
  showYear();
  loadUsers();
  loadJobs();
  loadHistory();
}

// ---- the service guide (办事指南)

async function loadCatalogue() {
  services = await call("GET", "/services");
  renderGuide();
}

function renderGuide() {
  put($("guide-list"), ...services.map((s) => {
    const [legalDays, legalUnit] = s.legal_limit_days ? [s.legal_limit_days, s.legal_limit_unit] : [s.time_limit_days, s.time_limit_unit];
    const materials = lang() === "en" && s.materials_en?.length ? s.materials_en : s.materials;
    return el("li", { "data-id": s.id },
      el("div", { class: "item-head" }, el("strong", {}, serviceName(s)), el("span", { class: "muted" }, s.id),
        el("span", { class: "pill" }, t("cat_" + s.category))),
      el("dl", { class: "guide" },
        el("dt", {}, t("time_limit")), el("dd", {}, `${t("promised")} ${limitText(s.time_limit_days, s.time_limit_unit)}${t("sep")}${t("legal")} ${limitText(legalDays, legalUnit)}`),
        el("dt", {}, t("channel")), el("dd", {}, t(s.online ? "channel_online" : "channel_counter")),
        el("dt", {}, t("materials")), el("dd", {}, materials.length ? el("ul", {}, materials.map((m) => el("li", {}, m))) : t("none")),
        el("dt", {}, t("fee")), el("dd", {}, s.fee || t("no_fee")),
        el("dt", {}, t("legal_basis")), el("dd", {}, s.legal_basis || t("not_recorded"))),
      el("div", { class: "actions" }, el("button", { type: "button", class: "secondary edit", "data-id": s.id, onclick: () => editService(s) }, `${t("edit")} ${serviceName(s)}`)));
  }));
  const boxes = (box, name) => put(box, box.querySelector("legend") || "", ...services.map((s) =>
    el("label", { class: "check" }, el("input", { type: "checkbox", name, value: s.id }), " " + serviceName(s))));
  boxes($("ct-services"), "ct-svc");
}

function editService(s) {
  $("svc-id").value = s.id; $("svc-name-zh").value = s.name_zh; $("svc-name").value = s.name; $("svc-category").value = s.category;
  $("svc-limit").value = s.time_limit_days; $("svc-unit").value = s.time_limit_unit || "working";
  $("svc-legal").value = s.legal_limit_days || 0; $("svc-legal-unit").value = s.legal_limit_unit || "working";
  $("svc-materials").value = (s.materials || []).join("\n"); $("svc-materials-en").value = (s.materials_en || []).join("\n");
  $("svc-fee").value = s.fee || ""; $("svc-basis").value = s.legal_basis || ""; $("svc-online").checked = !!s.online;
  message($("svc-msg"), "");
  $("svc-id").focus();
}

const lines = (v) => v.split("\n").map((x) => x.trim()).filter(Boolean);

async function saveService() {
  const legal = Number($("svc-legal").value || 0);
  const body = {
    id: $("svc-id").value.trim(), name: $("svc-name").value.trim(), name_zh: $("svc-name-zh").value.trim(), category: $("svc-category").value,
    time_limit_days: Number($("svc-limit").value), time_limit_unit: $("svc-unit").value, online: $("svc-online").checked,
    materials: lines($("svc-materials").value), materials_en: lines($("svc-materials-en").value),
    fee: $("svc-fee").value.trim(), legal_basis: $("svc-basis").value.trim(),
  };
  if (legal) { body.legal_limit_days = legal; body.legal_limit_unit = $("svc-legal-unit").value; }
  try {
    await call("POST", "/services", body);
    message($("svc-msg"), t("saved"));
    await loadCatalogue();
    loadHistory();
  } catch (err) { message($("svc-msg"), err); }
}

// ---- stations, counters and hours

async function loadStations(select) {
  stations = await call("GET", "/stations");
  renderStationOptions(select);
  await showStation();
}

function renderStationOptions(select) {
  const keep = select || $("station").value;
  put($("station"), ...stations.map((s) => el("option", { value: s.id }, `${stationLabel(s)} (${s.id})`)));
  if (keep && stations.some((s) => s.id === keep)) $("station").value = keep;
  const u = $("u-station").value;
  put($("u-station"), el("option", { value: "" }, t("no_station")), ...stations.map((s) => el("option", { value: s.id }, stationLabel(s))));
  $("u-station").value = u;
}

function current() { return stations.find((s) => s.id === $("station").value); }

function hoursSummary(hs) {
  return hs.map((h) => `${t("wd" + h.weekday)} ${h.start}–${h.end}`).join("，");
}

async function showStation() {
  const s = current();
  if (!s) { put($("station-info")); return; }
  put($("station-info"), el("dl", { class: "guide" },
    el("dt", {}, t("address")), el("dd", {}, s.address || t("not_recorded")),
    el("dt", {}, t("station_phone")), el("dd", {}, s.phone || t("not_recorded")),
    el("dt", {}, t("counters")), el("dd", {}, s.counters.length ? el("ul", {}, s.counters.map((c) =>
      el("li", {}, `${(lang() === "en" && c.name_en) || c.name} (${c.id})：${c.service_ids.map(svcName).join("、")}`))) : t("none")),
    el("dt", {}, t("weekly")), el("dd", { id: "hours-weekly-now" }, hoursSummary(s.hours.weekly) || t("none")),
    el("dt", {}, t("weekend_windows")), el("dd", { id: "hours-weekend-now" }, hoursSummary(s.weekend_windows) || t("none"))));
  put($("hours-weekly"), ...s.hours.weekly.map((h) => hoursRow(h, 1, 7)));
  put($("hours-weekend"), ...s.weekend_windows.map((h) => hoursRow(h, 6, 7)));
  put($("preview-out"));
}

let rowSeq = 0;

// hoursRow is one opening window as form fields, each with its label.
function hoursRow(h, lo, hi) {
  const n = ++rowSeq;
  const field = (key, input) => el("div", {}, el("label", { for: `h${n}-${key}` }, t(key)), input);
  const num = (cls, key, v, min, max) => el("input", { type: "number", id: `h${n}-${key}`, class: cls, min, max, value: v, required: true });
  const days = [];
  for (let d = lo; d <= hi; d++) days.push(el("option", { value: d, selected: d === h.weekday }, t("wd" + d)));
  const row = el("fieldset", { class: "hours-row" },
    el("legend", {}, `${t("wd" + h.weekday)} ${h.start}–${h.end}`),
    el("div", { class: "row" },
      field("weekday", el("select", { id: `h${n}-weekday`, class: "h-weekday" }, days)),
      field("start_time", el("input", { type: "time", id: `h${n}-start_time`, class: "h-start", value: h.start, required: true })),
      field("end_time", el("input", { type: "time", id: `h${n}-end_time`, class: "h-end", value: h.end, required: true })),
      field("slot_minutes", num("h-slot", "slot_minutes", h.slot_minutes, 5, 240)),
      field("capacity", num("h-cap", "capacity", h.capacity, 1, 1000)),
      field("walk_in_places", num("h-walkin", "walk_in_places", h.walk_in || 0, 0, 1000))),
    el("div", { class: "checks", role: "group", "aria-label": t("services_served") }, services.map((s) =>
      el("label", { class: "check" }, el("input", { type: "checkbox", class: "h-svc", value: s.id, checked: h.service_ids.includes(s.id) }), " " + serviceName(s)))),
    el("button", { type: "button", class: "link remove", onclick: () => row.remove() }, t("remove")));
  return row;
}

function readRows(box) {
  return [...box.querySelectorAll(".hours-row")].map((r) => ({
    weekday: Number(r.querySelector(".h-weekday").value), start: r.querySelector(".h-start").value, end: r.querySelector(".h-end").value,
    service_ids: [...r.querySelectorAll(".h-svc:checked")].map((c) => c.value),
    slot_minutes: Number(r.querySelector(".h-slot").value), capacity: Number(r.querySelector(".h-cap").value), walk_in: Number(r.querySelector(".h-walkin").value),
  }));
}

function hoursForm() { return { weekly: readRows($("hours-weekly")), weekend_windows: readRows($("hours-weekend")) }; }

// preview shows the slots the form's hours would release on the chosen
// day, as the server's release computes them; nothing is saved.
async function preview() {
  const s = current(), d = $("preview-date").value;
  if (!s || !d) return;
  try {
    const out = await call("POST", `/stations/${s.id}/hours/preview`, { ...hoursForm(), from: d, to: d });
    message($("hours-msg"), "");
    const day = out.days[0];
    const vals = { d: day.date, w: `${t("wd" + ((new Date(day.date + "T00:00:00Z").getUTCDay() + 6) % 7 + 1))}，${t("reason_" + day.reason)}${day.name ? " " + day.name : ""}` };
    if (!day.slots.length) { put($("preview-out"), el("p", { class: "muted", id: "preview-day" }, fmt("preview_none", vals))); return; }
    put($("preview-out"), 
      el("p", { id: "preview-day" }, fmt("preview_of", vals), " ", el("span", { class: "pill warn" }, t("preview_unsaved"))),
      el("table", {}, el("thead", {}, el("tr", {}, ["slot_time", "service", "places", "walk_in_short", "bookable"].map((k) => el("th", { scope: "col" }, t(k))))),
        el("tbody", {}, day.slots.map((sl) => el("tr", {},
          el("td", {}, `${sl.start}–${sl.end}`), el("td", {}, sl.service_ids.map(svcName).join("、")),
          el("td", {}, String(sl.capacity)), el("td", {}, String(sl.walk_in)), el("td", {}, String(sl.capacity - sl.walk_in)))))));
  } catch (err) { message($("hours-msg"), err); put($("preview-out")); }
}

async function saveHours() {
  const s = current();
  if (!s) return;
  try {
    const out = await call("PUT", `/stations/${s.id}/hours`, hoursForm());
    await loadStations(s.id);
    message($("hours-msg"), fmt("released_n", { n: out.released, d: out.through }));
    loadHistory();
  } catch (err) { message($("hours-msg"), err); }
}

async function addCounter() {
  const s = current();
  if (!s) return;
  try {
    await call("POST", `/stations/${s.id}/counters`, { id: $("ct-id").value.trim(), name: $("ct-name").value.trim(), name_en: $("ct-name-en").value.trim(),
      service_ids: [...document.querySelectorAll("#ct-services input:checked")].map((c) => c.value) });
    message($("ct-msg"), t("added"));
    $("counter-form").reset();
    await loadStations(s.id);
    loadHistory();
  } catch (err) { message($("ct-msg"), err); }
}

async function addStation() {
  const id = $("st-id").value.trim();
  try {
    await call("POST", "/stations", { id, name: $("st-name").value.trim(), name_en: $("st-name-en").value.trim(), address: $("st-address").value.trim(), phone: $("st-phone").value.trim() });
    message($("st-msg"), t("added"));
    $("station-form").reset();
    await loadStations(id);
    loadHistory();
  } catch (err) { message($("st-msg"), err); }
}

// ---- the holiday calendar

async function importCalendar() {
  const f = $("cal-file").files[0];
  if (!f) { message($("cal-msg"), new Error(t("choose_file"))); return; }
  let doc;
  try { doc = JSON.parse(await f.text()); } catch { message($("cal-msg"), new Error(t("bad_json"))); return; }
  try {
    const out = await call("PUT", `/calendar/${doc.year}`, doc);
    message($("cal-msg"), fmt("imported", { y: out.year, n: out.days }));
    $("cal-year").value = out.year;
    await showYear();
    loadHistory();
  } catch (err) { message($("cal-msg"), err); }
}

// showYear lists the year's holidays (consecutive days of one name as one
// span) and make-up working days, and says whether the year is official.
async function showYear() {
  const y = Number($("cal-year").value);
  if (!y) return;
  try {
    const out = await call("GET", `/calendar/working-days?from=${y}-01-01&to=${y}-12-31`);
    const off = out.days.filter((d) => d.reason === "holiday" || d.reason === "provisional");
    const makeup = out.days.filter((d) => d.reason === "makeup");
    const provisional = off.some((d) => d.reason === "provisional");
    const spans = [];
    for (const d of off) {
      const last = spans[spans.length - 1];
      if (last && last.name === d.name && addDays(last.to, 1) === d.date) { last.to = d.date; last.n++; } else spans.push({ name: d.name, from: d.date, to: d.date, n: 1 });
    }
    put($("cal-out"), 
      el("p", { id: "cal-standing", class: provisional ? "msg error" : "muted" }, provisional ? fmt("provisional_year", { y }) : fmt("official_year", { y }),
        t("sep"), fmt("working_days_n", { n: out.days.filter((d) => d.working).length })),
      el("div", { class: "grid2" },
        el("div", {}, el("h3", {}, t("holidays")), el("ul", { id: "cal-holidays" }, spans.map((s) =>
          el("li", {}, el("strong", {}, s.name || t("reason_holiday")), ` ${s.from}${s.to !== s.from ? " – " + s.to : ""}（${fmt("n_days", { n: s.n })}）`,
            provisional ? el("span", { class: "pill warn gap" }, t("reason_provisional")) : null)))),
        el("div", {}, el("h3", {}, t("makeup_days")), makeup.length ? el("ul", { id: "cal-makeup" }, makeup.map((d) =>
          el("li", {}, `${d.date} ${t("wd" + ((new Date(d.date + "T00:00:00Z").getUTCDay() + 6) % 7 + 1))}${d.name ? "（" + d.name + "）" : ""}`))) : el("p", { class: "muted" }, t("none")))));
  } catch (err) { message($("cal-msg"), err); }
}

// ---- users

async function loadUsers() {
  try {
    const users = await call("GET", "/users");
    const me = session.who("admin").user;
    put($("users-list"), el("table", {},
      el("thead", {}, el("tr", {}, ["username", "role", "station", "status", "change"].map((k) => el("th", { scope: "col" }, t(k))))),
      el("tbody", {}, users.map((u) => el("tr", { "data-user": u.username },
        el("td", {}, u.username), el("td", {}, t("role_" + u.role)),
        el("td", {}, u.station_id ? stationLabel(stations.find((s) => s.id === u.station_id) || { name: u.station_id }) : "—"),
        el("td", { class: "state" }, el("span", { class: "pill " + (u.disabled ? "bad" : "ok") }, t(u.disabled ? "user_disabled" : "active"))),
        el("td", {}, el("div", { class: "actions" },
          u.username === me ? null : u.disabled
            ? el("button", { type: "button", class: "secondary enable", "data-user": u.username, onclick: () => setDisabled(u.username, false) }, `${t("enable")} ${u.username}`)
            : el("button", { type: "button", class: "danger disable", "data-user": u.username,
              onclick: () => ask(fmt("confirm_disable", { u: u.username }), () => setDisabled(u.username, true)) }, `${t("disable")} ${u.username}`),
          el("button", { type: "button", class: "secondary reset", "data-user": u.username, onclick: () => resetForm(u.username) }, `${t("reset_password")} ${u.username}`))))))));
  } catch (err) { message($("users-msg"), err); }
}

async function setDisabled(name, disabled) {
  try {
    await call("PATCH", `/users/${encodeURIComponent(name)}`, { disabled });
    message($("users-msg"), fmt(disabled ? "user_now_disabled" : "user_now_enabled", { u: name }));
    await loadUsers();
    loadHistory();
  } catch (err) { message($("users-msg"), err); }
}

function resetForm(name) {
  const box = $("reset-box");
  const input = el("input", { id: "reset-pass", type: "password", autocomplete: "new-password", required: true });
  const form = el("form", { class: "row" },
    el("div", {}, el("label", { for: "reset-pass" }, `${t("new_password")}（${name}）`), input),
    el("div", {}, el("button", { type: "submit", id: "reset-save" }, t("reset_password"))),
    el("div", {}, el("button", { type: "button", class: "secondary", onclick: () => { box.hidden = true; } }, t("no"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await call("PATCH", `/users/${encodeURIComponent(name)}`, { password: input.value });
      box.hidden = true;
      message($("users-msg"), fmt("password_reset", { u: name }));
      loadHistory();
    } catch (err) { message($("users-msg"), err); }
  });
  put(box, form);
  box.hidden = false;
  input.focus();
}

async function addUser() {
  const username = $("u-name").value.trim();
  try {
    await call("POST", "/users", { username, password: $("u-pass").value, role: $("u-role").value, station_id: $("u-station").value });
    message($("u-msg"), fmt("user_added", { u: username }));
    $("user-form").reset();
    await loadUsers();
    loadHistory();
  } catch (err) { message($("u-msg"), err); }
}

// ---- jobs and projections

async function loadJobs() {
  try {
    const [jobs, projs] = await Promise.all([call("GET", "/admin/jobs"), call("GET", "/admin/projections")]);
    put($("jobs-list"), el("table", {},
      el("thead", {}, el("tr", {}, ["job", "schedule", "last_run", "next_run", "result", "change"].map((k) => el("th", { scope: "col" }, t(k))))),
      el("tbody", {}, jobs.map((j) => el("tr", { "data-job": j.name },
        el("td", {}, j.name), el("td", {}, el("code", {}, j.schedule)),
        el("td", { class: "last-run" }, j.last_run ? when(j.last_run) : t("never")), el("td", {}, j.next_run ? when(j.next_run) : "—"),
        el("td", { class: "last-result" }, j.last_result || "—"),
        el("td", {}, el("button", { type: "button", class: "secondary run", "data-job": j.name, onclick: () => runJob(j.name) }, `${t("run_now")} ${j.name}`)))))));
    put($("proj-list"), el("table", {},
      el("thead", {}, el("tr", {}, ["projection", "position", "lag", "status", "change"].map((k) => el("th", { scope: "col" }, t(k))))),
      el("tbody", {}, projs.map((p) => el("tr", { "data-name": p.name },
        el("td", {}, p.name), el("td", {}, String(p.position)), el("td", {}, String(p.lag)),
        el("td", { class: "state" }, p.error ? el("span", { class: "pill bad" }, p.error)
          : p.rebuild?.running ? el("span", { class: "pill warn" }, `${t("rebuilding")} ${p.rebuild.position}/${p.rebuild.head}`)
            : el("span", { class: "pill ok" }, t("caught_up"))),
        el("td", {}, el("button", { type: "button", class: "secondary rebuild", "data-name": p.name, disabled: !!p.rebuild?.running,
          onclick: () => ask(fmt("confirm_rebuild", { p: p.name }), () => rebuild(p.name)) }, `${t("rebuild")} ${p.name}`)))))));
  } catch (err) { message($("jobs-msg"), err); }
}

async function runJob(name) {
  try {
    const out = await call("POST", `/admin/jobs/${name}/run`);
    message($("jobs-msg"), fmt("job_done", { j: name, r: out.result || "ok" }));
    await loadJobs();
  } catch (err) { message($("jobs-msg"), err); }
}

async function rebuild(name) {
  try {
    await call("POST", `/admin/projections/${name}/rebuild`);
    message($("proj-msg"), fmt("rebuild_started", { p: name }));
    for (let i = 0; i < 10; i++) { // follow it for a few seconds
      await loadJobs();
      if (!document.querySelector(`#proj-list tr[data-name="${name}"] .pill.warn`)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
  } catch (err) { message($("proj-msg"), err); }
}

// ---- the configuration's history

function describe(h) {
  const d = h.detail || {};
  const station = (() => {
    const id = h.stream.startsWith("station-") ? h.stream.slice(8) : "";
    const s = stations.find((x) => x.id === id);
    return s ? stationLabel(s) : id;
  })();
  const user = h.stream.startsWith("user-") ? h.stream.slice(5) : "";
  switch (h.type) {
    case "ServiceDefined": return fmt("h_ServiceDefined", { name: lang() === "en" ? d.name : d.name_zh, id: d.service_id, limit: limitText(d.time_limit_days, d.time_limit_unit) });
    case "StationRegistered": return fmt("h_StationRegistered", { name: (lang() === "en" && d.name_en) || d.name, id: d.station_id });
    case "CounterAdded": return fmt("h_CounterAdded", { station, name: d.name, id: d.counter_id });
    case "HoursSet": return fmt("h_HoursSet", { station, w: d.weekly, e: d.weekend_windows });
    case "CalendarImported": return fmt("h_CalendarImported", { y: d.year, h: d.holidays, m: d.make_up_days });
    case "UserCreated": return fmt("h_UserCreated", { u: d.username, role: t("role_" + d.role), station: d.station_id ? ", " + d.station_id : "" });
    case "WebhookSubscribed": return fmt("h_WebhookSubscribed", { n: (d.event_types || []).length });
    default: return dictHas("h_" + h.type) ? fmt("h_" + h.type, { u: user }) : h.type;
  }
}

function dictHas(key) { return t(key) !== key; }

async function loadHistory() {
  try {
    const hist = await call("GET", "/admin/history?limit=200");
    if (!hist.length) { put($("history-list"), el("p", { class: "muted" }, t("no_history"))); return; }
    put($("history-list"), el("table", {},
      el("thead", {}, el("tr", {}, ["who_when", "actor", "change"].map((k) => el("th", { scope: "col" }, t(k))))),
      el("tbody", {}, hist.map((h) => el("tr", { "data-type": h.type },
        el("td", { class: "nowrap" }, when(h.at)), el("td", {}, h.actor), el("td", {}, describe(h)))))));
  } catch (err) { const p = el("p", { class: "msg", role: "status" }); put($("history-list"), p); message(p, err); }
}

init();
