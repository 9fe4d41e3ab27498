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
  title_admin: ["系统管理", "Administration"],
  approval_rate: ["批准率", "Approval rate"],
  rate_note: ["办结率 = 已办结（批准、不予许可或办结）÷ 期内应办结；按时办结率 = 期限内办结 ÷ 已办结；批准率 = 批准 ÷ 已办结。撤回的办件不计入任何比率（本期撤回 {n} 件）。", "Completion rate = concluded (approved, refused or completed) ÷ due in the period; on-time rate = concluded by the deadline ÷ concluded; approval rate = approved ÷ concluded. Withdrawn applications count in no rate ({n} withdrawn in the period)."],
  notice_missing: ["{y} 年放假安排尚未导入：节假日为按《全国年节及纪念日放假办法》推算的暂定日期，调休未知。", "The State Council's holiday notice for {y} is not imported: its holidays are computed from the statutory list and provisional, make-up days unknown."],
  lang: ["English", "中文"],
  bureau: ["分局（全部派出所）", "Bureau (every station)"],
  nav_book: ["网上预约", "Book"], nav_guide: ["办事指南", "Service guide"], big_text: ["大字", "Large text"],
  offline: ["无法连接服务器，请检查网络后重试。", "The server cannot be reached; check the network and try again."],
  error_0: ["操作未成功，请重试。", "That did not work; please try again."],
  field_name: ["姓名", "Name"], field_id_number: ["身份证号", "ID number"], field_phone: ["手机号", "Mobile phone"],
  field_code: ["验证码", "Code"], field_date: ["日期", "Date"], field_start: ["时段", "Time"], field_service_id: ["业务", "Service"],
  field_station_id: ["派出所", "Station"], field_score: ["评分", "Score"], field_username: ["用户名", "Username"], field_password: ["密码", "Password"],
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
  book: ["确认预约", "Book"], booked_ok: ["预约成功", "Booked"], logged_in: ["✓ 已登录，可以预约", "✓ Logged in: you can book"],
  my_appointments: ["我的预约", "My appointments"], my_applications: ["我的办件", "My applications"],
  cancel: ["取消预约", "Cancel"], reschedule: ["改约到所选时段", "Move to the chosen time"],
  none: ["暂无", "None"], status: ["状态", "Status"], deadline: ["办结期限", "Deadline"], days_left: ["剩余工作日", "Working days left"],
  history: ["办理记录", "History"], rate: ["评价", "Rate"], comment: ["评价内容", "Comment"],
  username: ["用户名", "Username"], password: ["密码", "Password"],
  appointment_code: ["预约编号", "Appointment code"], show_at_kiosk: ["到大厅后在自助机扫码或输入签到码", "At the hall, scan this at the kiosk or type the code"], add_to_calendar: ["加入日历", "Add to calendar"], checkin_code: ["签到码", "Check-in code"], code_or_id: ["签到码（或预约编号）", "Check-in code (or appointment number)"], check_in: ["签到取号", "Check in"],
  walk_in: ["现场取号", "Take a ticket"], priority: ["优先", "Priority"],
  normal: ["普通", "Normal"], elderly: ["老年人", "Elderly"], disabled: ["残障人士", "Disabled"], green: ["绿色通道", "Green channel"],
  kiosk_account: ["请使用本所自助机账号登录", "Log in with the station's kiosk account"],
  staff_account: ["请使用窗口工作人员账号登录", "Log in with a counter clerk's account"],
  manager_account: ["请使用所长或分局管理人员账号登录", "Log in with a station head's or the bureau's account"],
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
  // An application's history, event by event.
  ApplicationSubmitted: ["提交申请", "submitted"], ApplicationAccepted: ["已受理", "accepted"], SupplementRequested: ["一次性告知补正", "materials requested"],
  SupplementReceived: ["补正材料已收", "materials received"], DeadlineExtended: ["延长期限", "deadline extended"], DeadlineRecomputed: ["期限按新放假安排重算", "deadline recounted on the new holidays"],
  ApplicationApproved: ["批准", "approved"], ApplicationRejected: ["不予办理", "refused"], ApplicationCompleted: ["办结", "completed"],
  ApplicationWithdrawn: ["撤回", "withdrawn"], ApplicationReady: ["证件可领取", "ready to collect"], ApplicationCollected: ["已领取", "collected"],
  ApplicationRated: ["评价", "rated"], ApplicationWarned: ["临期提醒", "deadline near"], ApplicationOverdue: ["逾期", "overdue"],
  ApplicationEscalated: ["督办", "escalated"], AcceptanceWarned: ["受理临期", "acceptance due soon"], AcceptanceOverdue: ["受理逾期", "acceptance overdue"],
  LegalLimitPassed: ["超过法定时限", "legal limit passed"], ApplicationNoticed: ["已通知申请人", "applicant told"],
  left_working: ["剩余 {n} 个工作日", "{n} working days left"], left_working_1: ["剩余 1 个工作日", "1 working day left"],
  left_calendar: ["剩余 {n} 天", "{n} days left"], left_calendar_1: ["剩余 1 天", "1 day left"],
  overdue_working: ["逾期 {n} 个工作日", "{n} working days overdue"], overdue_working_1: ["逾期 1 个工作日", "1 working day overdue"],
  overdue_calendar: ["逾期 {n} 天", "{n} days overdue"], overdue_calendar_1: ["逾期 1 天", "1 day overdue"],
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

// texts adds a page's own [Chinese, English] pairs to the dictionary.
export function texts(pairs) { Object.assign(dict, pairs); }

// count says "n people" in the page's language: English has plurals.
export function count(n, one, many = one + "s") {
  return lang() === "en" ? `${n} ${n === 1 ? one : many}` : `${n}`;
}

// The bar's links: residents move between booking, the service guide and
// their bookings; staff between the hall's pages.
const links = {
  resident: [["/", "nav_book"], ["/#guide-h", "nav_guide"], ["/#mine-h", "my_appointments"]],
  staff: [["/counter", "title_counter"], ["/kiosk?setup", "title_kiosk"], ["/board", "title_board"], ["/dashboard", "title_dashboard"], ["/admin", "title_admin"]],
  // A kiosk or a board faces the public: no way off the page.
  kiosk: [], board: [],
};

// header fills the page's bar: links for its users, who is signed in here
// and a logout, the large-text switch (适老化, kept across visits) and the
// language switch; rerender runs after a switch. role names the page's
// login (its token in storage).
export function header(rerender, kind = "staff", role = "") {
  const nav = document.querySelector("header.bar nav");
  const btn = document.getElementById("lang");
  if (!nav || !btn) return;
  document.documentElement.classList.toggle("big", localStorage.getItem("big") === "1");
  const draw = () => {
    const who = role && session.get(role) ? session.who(role) : null;
    const here = location.pathname + location.hash;
    const items = links[kind].map(([href, key]) => {
      const to = href === "/board" && who?.station ? `/board?station=${who.station}` : href;
      return el("a", { href: to, "aria-current": to === here || to === location.pathname && !location.hash ? "page" : false }, t(key));
    });
    if (who) {
      items.push(el("span", { class: "who", id: "who" }, [who.user, who.stationName || who.station].filter(Boolean).join(" · ")),
        el("button", { type: "button", class: "link", id: "logout", onclick: () => { session.clear(role); location.reload(); } }, t("logout")));
    }
    items.push(el("button", { type: "button", class: "link", id: "big-text", "aria-pressed": String(localStorage.getItem("big") === "1"),
      onclick: () => {
        localStorage.setItem("big", localStorage.getItem("big") === "1" ? "0" : "1");
        document.documentElement.classList.toggle("big", localStorage.getItem("big") === "1");
        draw();
      } }, t("big_text")));
    // The page's own controls in the bar (the board's sound and clock) stay.
    nav.querySelectorAll("[data-bar]").forEach((n) => n.remove());
    items.forEach((n) => n.setAttribute("data-bar", ""));
    btn.before(...items);
  };
  btn.addEventListener("click", () => {
    localStorage.setItem("lang", lang() === "en" ? "zh" : "en");
    translate();
    draw();
    rerender && rerender();
    // Problems read again in the new language; a result in words the
    // page made goes, rather than stay in the old language.
    for (const [id, what] of shown) {
      const box = document.getElementById(id);
      if (box) message(box, what instanceof Error ? what : "");
    }
  });
  translate();
  draw();
  header.redraw = draw;
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

// localize picks the page's language from a server text, which reads
// "English (中文)", and drops the kind of refusal the status already says.
export function localize(text) {
  if (!text) return "";
  text = text.replace(/^(invalid input|not found|not allowed now|fully booked|booking limit hit): /, "");
  const m = text.match(/^(.*?)\s*[(（]([^()（）]*[\u3400-\u9fff][^()（）]*)[)）]\s*$/s);
  if (!m) return text;
  if (lang() === "en") return m[1];
  // State names inside the Chinese read as words, not codes.
  return m[2].replace(/\b[a-z_]+\b/g, (w) => dict[w] ? t(w) : w);
}

// fieldName names an input field of the API in the page's language.
function fieldName(f) {
  const key = f.split(".").pop();
  return dict["field_" + key] ? t("field_" + key) : f;
}

// message shows a result or a problem in el, in the page's language: the
// problem's own words, each field's error by the field's label. A result
// (even an empty one) clears the problem shown before.
export function message(el, what) {
  if (el.id) shown.set(el.id, what);
  el.classList.toggle("error", what instanceof Error);
  if (what instanceof Problem) {
    const p = what.problem;
    const fields = (p.errors || []).map((e) => `${fieldName(e.field)}${colon()}${localize(e.message)}`);
    el.textContent = fields.length ? fields.join(lang() === "en" ? "; " : "；") : localize(p.detail) || localize(p.title) || t("error_" + (p.status || 0));
  } else if (what instanceof TypeError) {
    el.textContent = t("offline"); // fetch found no server
  } else if (what instanceof Error) {
    el.textContent = localize(what.message);
  } else {
    el.textContent = what || "";
  }
}

// guarded runs an async handler one at a time: a second click or submit
// while the first request is out does nothing (a double tap books once).
// The form's buttons show they are busy meanwhile.
export function guarded(fn) {
  let running = false;
  return async (ev) => {
    ev?.preventDefault?.();
    if (running) return;
    running = true;
    const form = ev?.target?.closest?.("form");
    const buttons = form ? [...form.querySelectorAll("button")] : ev?.currentTarget?.tagName === "BUTTON" ? [ev.currentTarget] : [];
    buttons.forEach((b) => b.setAttribute("aria-busy", "true"));
    try {
      return await fn(ev);
    } finally {
      running = false;
      buttons.forEach((b) => b.removeAttribute("aria-busy"));
    }
  };
}

// Messages shown, with what they said: a language switch says them again.
const shown = new Map();

// colon ends a label in the page's language.
export function colon() { return lang() === "en" ? ": " : "："; }

// session keeps one role's token in the browser, and who holds it.
export const session = {
  get(role) { return localStorage.getItem("token." + role) || ""; },
  set(role, token) { localStorage.setItem("token." + role, token); },
  clear(role) { localStorage.removeItem("token." + role); localStorage.removeItem("who." + role); },
  who(role) { try { return JSON.parse(localStorage.getItem("who." + role)) || {}; } catch { return {}; } },
  // signIn keeps a staff login: its token, user and station.
  signIn(role, out, user) {
    localStorage.setItem("token." + role, out.token);
    localStorage.setItem("who." + role, JSON.stringify({ user, role: out.role, station: out.station_id || "" }));
  },
  // station names the login's station once it is known, for the bar.
  named(role, stationName) {
    const w = session.who(role);
    localStorage.setItem("who." + role, JSON.stringify({ ...w, stationName }));
    header.redraw && header.redraw();
  },
};

// put fills box with children, leaving out the ones a condition left
// null (replaceChildren would print "null").
export function put(box, ...children) {
  box.replaceChildren(...children.flat().filter((c) => c != null && c !== false));
}

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

// named is a station's or a counter's name in the page's language.
export function named(x) { return (lang() === "en" && x.name_en) || x.name; }

// say is a text of the dictionary with its {names} filled in.
export function say(key, vars = {}) {
  return Object.entries(vars).reduce((s, [k, v]) => s.replaceAll(`{${k}}`, v), t(key));
}

// daysLeft reads the days of a limit left (below 0: overdue) in its unit,
// working or calendar days, as the server counted them.
export function daysLeft(n, unit) {
  const key = `${n < 0 ? "overdue" : "left"}_${unit === "calendar" ? "calendar" : "working"}`;
  const m = Math.abs(n);
  return say(m === 1 && dict[key + "_1"] ? key + "_1" : key, { n: m });
}

export function pct(x) { return (x * 100).toFixed(1) + "%"; }

// status names an appointment's or application's state in the page's language.
export function status(s) { return t(s === "no_show" ? "no_show_status" : s); }

export function stateLabel(s) {
  const cls = { on_track: "ok", warning: "warn", overdue: "bad", paused: "" }[s] ?? "";
  return el("span", { class: "pill " + cls }, t(s));
}

// loginForm asks for a username and password, keeps the login under store
// and calls done(token, answer); with only, it takes only a login of that
// role and says so (the kiosk never holds a staff token).
export function loginForm(box, done, store, only) {
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
      if (only && out.role !== only) { message(msg, t(only + "_account")); return; }
      session.signIn(store, out, user.value);
      done(out.token, out);
    } catch (err) { message(msg, err); }
  });
  box.replaceChildren(el("h2", {}, t("login")), form);
}
