// Shared by every page: the API client, the login token, Chinese/English
// text and small formatting helpers. No framework: each page is a module
// that renders into a few elements.

const dict = {
  // [Chinese, English]
  title_resident: ["网上预约", "Book an appointment"],
  title_kiosk: ["自助取号", "Check-in kiosk"],
  title_counter: ["窗口工作台", "Counter console"],
  title_board: ["叫号大屏", "Hall board"],
  title_dashboard: ["管理看板", "Manager dashboard"],
  approval_rate: ["批准率", "Approval rate"],
  rate_note: ["办结率 = 已办结（批准、不予许可或办结）÷ 期内应办结；按时办结率 = 期限内办结 ÷ 已办结；批准率 = 批准 ÷ 已办结。撤回的办件不计入任何比率（本期撤回 {n} 件）。", "Completion rate = concluded (approved, refused or completed) ÷ due in the period; on-time rate = concluded by the deadline ÷ concluded; approval rate = approved ÷ concluded. Withdrawn applications count in no rate ({n} withdrawn in the period)."],
  notice_missing: ["{y} 年放假安排尚未导入：节假日为按《全国年节及纪念日放假办法》推算的暂定日期，调休未知。", "The State Council's holiday notice for {y} is not imported: its holidays are computed from the statutory list and provisional, make-up days unknown."],
  lang: ["English", "中文"],
  station: ["派出所", "Station"], service: ["业务", "Service"], date: ["日期", "Date"], time: ["时段", "Time"],
  materials: ["所需材料", "Materials"], time_limit: ["办理时限", "Time limit"],
  working_days: ["个工作日", " working days"], calendar_days: ["日（自然日）", " calendar days"],
  online: ["可网上申请", "online application"],
  choose_day: ["选择日期", "Choose a day"], choose_slot: ["选择时段", "Choose a time"],
  no_slots: ["当日无可约时段", "No free times on this day"],
  left: ["余", "left"], full: ["约满", "full"],
  weekend: ["周末", "weekend"], holiday: ["节假日", "holiday"], makeup: ["调休上班", "make-up working day"], workday: ["工作日", "working day"],
  login: ["登录", "Log in"], logout: ["退出", "Log out"], phone: ["手机号", "Mobile phone"], code: ["验证码", "Code"],
  send_code: ["获取验证码", "Send code"], verify: ["验证并登录", "Verify and log in"],
  demo_code: ["演示验证码：", "Demo code: "],
  name: ["姓名", "Name"], id_number: ["身份证号", "ID number"],
  book: ["确认预约", "Book"], booked: ["预约成功", "Booked"],
  my_appointments: ["我的预约", "My appointments"], my_applications: ["我的办件", "My applications"],
  cancel: ["取消预约", "Cancel"], reschedule: ["改约到所选时段", "Move to the chosen time"],
  none: ["暂无", "None"], status: ["状态", "Status"], deadline: ["办结期限", "Deadline"], days_left: ["剩余工作日", "Working days left"],
  history: ["办理记录", "History"], rate: ["评价", "Rate"], comment: ["评价内容", "Comment"],
  username: ["用户名", "Username"], password: ["密码", "Password"],
  appointment_code: ["预约编号", "Appointment code"], show_at_kiosk: ["到大厅后在自助机扫码或输入签到码", "At the hall, scan this at the kiosk or type the code"], add_to_calendar: ["加入日历", "Add to calendar"], checkin_code: ["签到码", "Check-in code"], code_or_id: ["签到码（或预约编号）", "Check-in code (or appointment number)"], check_in: ["签到取号", "Check in"],
  walk_in: ["现场取号", "Take a ticket"], priority: ["优先", "Priority"],
  normal: ["普通", "Normal"], elderly: ["老年人", "Elderly"], disabled: ["残障人士", "Disabled"], green: ["绿色通道", "Green channel"],
  kiosk_account: ["请使用本所自助机账号登录", "Log in with the station's kiosk account"],
  your_number: ["您的号码", "Your number"], ahead: ["前面等候", "Ahead of you"], people: ["人", "people"],
  est_wait: ["预计等候", "Estimated wait"], minutes: ["分钟", "min"], print: ["打印", "Print"],
  counter: ["窗口", "Counter"], open_counter: ["开启窗口", "Open counter"], call_next: ["叫下一位", "Call next"],
  recall: ["重呼", "Recall"], no_show: ["过号", "No-show"], start: ["开始办理", "Start"], complete: ["办结", "Complete"],
  transfer: ["转办", "Transfer"], pause: ["暂停", "Pause"], close: ["关闭窗口", "Close"],
  waiting: ["等候中", "Waiting"], serving: ["办理中", "Serving"], called: ["已叫号", "Called"], parked: ["暂挂", "Parked"], current: ["当前号", "Current ticket"],
  application: ["办件", "Application"], application_id: ["办件编号", "Application id"], load: ["查询", "Look up"],
  accept: ["受理", "Accept"], supplement_request: ["一次性告知补正", "Request materials"], supplement_received: ["补正材料已收", "Materials received"],
  approve: ["批准", "Approve"], reject: ["不予办理", "Reject"], reason: ["理由", "Reason"], missing: ["缺少的材料（逗号分隔）", "Missing materials (comma separated)"],
  new_application: ["为当前号登记办件", "Register an application for this ticket"],
  latest_calls: ["最新叫号", "Latest calls"], sound: ["开启提示音", "Sound on"], please_go: ["请到", "please go to"],
  from: ["从", "From"], to: ["至", "To"], as_of: ["截至（历史视图）", "As of (past view)"], refresh: ["刷新", "Refresh"],
  completion_rate: ["办结率", "Completion rate"], on_time_rate: ["按时办结率", "On-time rate"], satisfaction: ["满意度", "Satisfaction"],
  due: ["到期", "Due"], completed: ["已办结", "Completed"], overdue: ["逾期", "Overdue"], escalation: ["督办级别", "Escalation"],
  sla: ["时限监控", "Deadlines"], queue_day: ["当日排队", "Queue of the day"], tickets: ["取号", "Tickets"], served: ["已服务", "Served"],
  avg_wait: ["平均等候", "Average wait"], avg_service: ["平均办理", "Average service"], audit: ["审计记录", "Audit trail"],
  by_service: ["按业务", "By service"], by_day: ["按日", "By day"], actor: ["操作人", "Actor"], event: ["事件", "Event"], at: ["时间", "Time"],
  booked: ["已预约", "booked"], cancelled: ["已取消", "cancelled"], checked_in: ["已签到", "checked in"], no_show_status: ["爽约", "no-show"],
  submitted: ["已提交", "submitted"], accepted: ["已受理", "accepted"], supplement_requested: ["待补正", "awaiting materials"],
  approved: ["已批准", "approved"], rejected: ["不予办理", "rejected"], withdrawn: ["已撤回", "withdrawn"],
  on_track: ["正常", "on track"], warning: ["预警", "warning"], paused: ["补正中", "paused"],
};

export function lang() { return localStorage.getItem("lang") || "zh"; }

export function t(key) {
  const pair = dict[key];
  if (!pair) return key;
  return lang() === "en" ? pair[1] : pair[0];
}

// translate fills every element with data-i18n (and labels' text).
export function translate(root = document) {
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
}

// header adds the language switch to the page's bar and calls rerender
// after a switch.
export function header(rerender) {
  const btn = document.getElementById("lang");
  if (!btn) return;
  btn.addEventListener("click", () => {
    localStorage.setItem("lang", lang() === "en" ? "zh" : "en");
    translate();
    rerender && rerender();
  });
  translate();
}

export class Problem extends Error {
  constructor(p) {
    super(p.detail || p.title || "error");
    this.problem = p;
  }
}

// The log position of this page's last write: reads wait for their views
// to reach it, so a page always shows what it just did.
let written = 0;

// api calls the HTTP API with the page's token; it throws a Problem for
// an error answer and returns the JSON (or null for 204). Every POST
// carries an Idempotency-Key, so when the network fails before the answer
// arrives the same request is sent again (three tries) and the server
// answers it once.
export async function api(method, path, body, token) {
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers["Authorization"] = "Bearer " + token;
  if (method === "GET" && written) headers["X-Min-Position"] = String(written);
  const retry = method === "GET" || method === "POST";
  if (method === "POST") headers["Idempotency-Key"] = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
  let resp;
  for (let attempt = 1; ; attempt++) {
    try {
      resp = await fetch("/api/v1" + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      break;
    } catch (err) { // no answer: the network or the server is down
      if (!retry || attempt >= 3) throw err;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
  const pos = Number(resp.headers.get("X-Position") || 0);
  if (pos > written) written = pos;
  if (resp.status === 204) return null;
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Problem(data);
  return data;
}

// file fetches a signed-in GET that answers a file (an image, a calendar
// entry) as an object URL for the page.
export async function file(path, token) {
  const headers = { "Authorization": "Bearer " + token };
  if (written) headers["X-Min-Position"] = String(written); // the booking just made
  const resp = await fetch("/api/v1" + path, { headers });
  if (!resp.ok) throw new Problem(await resp.json().catch(() => ({})));
  return URL.createObjectURL(await resp.blob());
}

// message shows a result or a problem (with its field errors) in el.
export function message(el, what) {
  el.classList.toggle("error", what instanceof Error);
  if (what instanceof Problem) {
    const p = what.problem;
    const fields = (p.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
    el.textContent = [p.title, fields || p.detail].filter(Boolean).join(" — ");
  } else if (what instanceof Error) {
    el.textContent = what.message;
  } else {
    el.textContent = what || "";
  }
}

// session keeps one role's token in the browser.
export const session = {
  get(role) { return localStorage.getItem("token." + role) || ""; },
  set(role, token) { localStorage.setItem("token." + role, token); },
  clear(role) { localStorage.removeItem("token." + role); },
};

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, "");
    else if (v !== false && v != null) e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c != null) e.append(c);
  return e;
}

export function today() {
  // The stations' day, in China Standard Time.
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
}

// when shows an instant as the stations' local date and time.
export function when(iso) {
  const parts = new Intl.DateTimeFormat("sv-SE", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
  return parts.replace("T", " ");
}

export function addDays(date, n) {
  const d = new Date(date + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export function weekday(date) {
  const names = lang() === "en" ? ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] : ["日", "一", "二", "三", "四", "五", "六"];
  return names[new Date(date + "T00:00:00Z").getUTCDay()];
}

export function serviceName(s) { return lang() === "en" ? s.name : s.name_zh; }

export function pct(x) { return (x * 100).toFixed(1) + "%"; }

// status names an appointment's or application's state in the page's language.
export function status(s) { return t(s === "no_show" ? "no_show_status" : s); }

export function stateLabel(s) {
  const cls = { on_track: "ok", warning: "warn", overdue: "bad", paused: "" }[s] ?? "";
  return el("span", { class: "pill " + cls }, t(s));
}

// loginForm renders a username/password login for a staff role into box
// and calls done(token, answer) on success.
// loginForm asks for a username and password; with role, it takes only a
// login of that role and says so (the kiosk never holds a staff token).
export function loginForm(box, done, role) {
  const msg = el("p", { class: "msg", role: "status" });
  const user = el("input", { id: "username", autocomplete: "username", required: true });
  const pass = el("input", { id: "password", type: "password", autocomplete: "current-password", required: true });
  const form = el("form", {},
    el("label", { for: "username" }, t("username")), user,
    el("label", { for: "password" }, t("password")), pass,
    el("p", {}, el("button", { type: "submit", id: "login" }, t("login"))), msg);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const out = await api("POST", "/auth/login", { username: user.value, password: pass.value });
      if (role && out.role !== role) { message(msg, t(role + "_account")); return; }
      done(out.token, out);
    } catch (err) { message(msg, err); }
  });
  box.replaceChildren(el("h2", {}, t("login")), form);
}
