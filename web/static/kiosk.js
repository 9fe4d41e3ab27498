// The hall's kiosk, for a portrait touch screen: check-in by the short
// code on a large keypad, by the booking's QR code held to the camera, or
// by the ID card on the reader (which types the number); a walk-in ticket
// otherwise. The ticket shows the station, number, service, place, wait
// and time in the station's zone, with a QR code that follows the ticket
// on a phone. The screen clears itself after a short idle time, so the
// next person never sees (or prints) the previous one's ticket.
import { api, t, texts, lang, header, message, session, el, loginForm, serviceName, count, when, Problem, put } from "./app.js";

texts({
  code_or_id_card: ["签到码（身份证请在读卡器上刷卡）", "Check-in code (or hold your ID card to the reader)"],
  checkin_how: ["输入预约签到码，或扫描预约二维码，或在读卡器上刷身份证", "Type the check-in code of your booking, scan its QR code, or put your ID card on the reader"],
  keypad: ["签到码键盘", "Check-in code keypad"],
  key_delete: ["删除", "Delete"], key_clear: ["清空", "Clear"],
  scan: ["扫描预约二维码", "Scan the booking's QR code"], scan_stop: ["停止扫描", "Stop scanning"],
  scan_hint: ["请将预约确认页的二维码对准摄像头", "Hold the QR code of your booking confirmation up to the camera"],
  camera_denied: ["无法使用摄像头，请输入签到码", "The camera cannot be used; please type the code"],
  priority_hint: ["优先办理（如适用）", "Priority (where it applies)"],
  choose_service: ["请选择业务取号", "Choose a service for a ticket"],
  walk_in_instead: ["改为现场取号", "Take a walk-in ticket instead"],
  ticket_ahead: ["前面还有 {n} 人等候", "{n} ahead of you"],
  ticket_wait: ["预计等候约 {n} 分钟", "Estimated wait about {n} min"],
  ticket_follow: ["手机扫码，随时查看排队进度", "Scan with your phone to follow your place in the queue"],
  ticket_time: ["取号时间", "Issued"],
  print_ticket: ["打印号票", "Print ticket"], done: ["完成", "Done"],
  clears_in: ["{n} 秒后自动清空", "Clears in {n} s"],
});

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
// Seconds without a touch before the screen clears (?idle=N to try it).
const IDLE = Math.max(3, Number(params.get("idle")) || 30);
// The code's alphabet (domain.CheckInCode): no characters that read alike.
const ALPHABET = "34679ACDEFHJKMNPRTUVWXY";
const ID_NUMBER = /^\d{17}[\dX]$/;
let station = "", stationName = "", here = null, services = [], shown = null, idleTimer = 0, tick = 0, stream = null;

async function init() {
  header(rerender, "kiosk", params.has("setup") ? "kiosk" : "");
  const token = session.get("kiosk");
  if (!token) {
    $("login-box").hidden = false;
    loginForm($("login-box"), (tok, out) => { session.set("kiosk.station", out.station_id || ""); location.reload(); }, "kiosk", "kiosk");
    return;
  }
  station = session.get("kiosk.station");
  const [st, all] = await Promise.all([api("GET", `/stations/${station}`), api("GET", "/services")]);
  here = st;
  nameStation();
  session.named("kiosk", st.name);
  const offered = new Set(st.counters.flatMap((c) => c.service_ids));
  services = all.filter((s) => offered.has(s.id));
  keypad();
  drawServices();
  $("kiosk").hidden = false;
  $("checkin-form").addEventListener("submit", checkIn);
  $("appointment").addEventListener("input", () => {
    const v = $("appointment").value.toUpperCase();
    if (v !== $("appointment").value) $("appointment").value = v;
  });
  $("priority").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-priority]");
    if (!b) return;
    $("priority").querySelectorAll("button").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
  });
  $("offer-walkin").addEventListener("click", () => { $("walkin-card").scrollIntoView({ behavior: "smooth", block: "center" }); $("services").querySelector("button")?.focus(); });
  // The camera, where the browser can read QR codes from it.
  if ("BarcodeDetector" in window && navigator.mediaDevices?.getUserMedia) {
    $("scan").hidden = false;
    $("scan").addEventListener("click", startScan);
    $("scan-stop").addEventListener("click", stopScan);
  }
  // A card reader types the ID number and Enter wherever the focus is:
  // keys typed outside a field go to the code field.
  document.addEventListener("keydown", (ev) => {
    const tag = document.activeElement?.tagName;
    if (tag !== "INPUT" && tag !== "SELECT" && tag !== "TEXTAREA" && ev.key.length === 1 && !ev.ctrlKey && !ev.metaKey) $("appointment").focus();
  });
  // Every touch or key restarts the idle clock.
  ["pointerdown", "keydown"].forEach((e) => document.addEventListener(e, idle, { capture: true }));
  $("appointment").focus();
}

// nameStation names the station in the page's language.
function nameStation() {
  stationName = (lang() === "en" && here.name_en) || here.name;
  $("station-name").textContent = stationName;
}

function rerender() {
  if (here) nameStation();
  keypad();
  drawServices();
  if (shown) drawTicket();
}

function keypad() {
  const keys = [...ALPHABET].map((ch) => el("button", { type: "button", class: "key", "data-key": ch }, ch));
  keys.push(el("button", { type: "button", class: "key fn", id: "key-delete", "data-key": "delete", "aria-label": t("key_delete") }, "⌫ " + t("key_delete")),
    el("button", { type: "button", class: "key fn", id: "key-clear", "data-key": "clear" }, t("key_clear")));
  const pad = $("keypad");
  pad.querySelectorAll("button").forEach((b) => b.remove());
  pad.append(...keys);
  pad.onclick = (ev) => {
    const b = ev.target.closest("button[data-key]");
    if (!b) return;
    const input = $("appointment"), k = b.dataset.key;
    if (k === "delete") input.value = input.value.slice(0, -1);
    else if (k === "clear") input.value = "";
    else if (input.value.length < 18) input.value += k;
    message($("msg"), "");
    $("offer-walkin-box").hidden = true;
  };
}

function drawServices() {
  put($("services"), ...services.map((s) =>
    el("button", { type: "button", class: "service", "data-service": s.id, onclick: () => walkIn(s.id) }, serviceName(s))));
}

// busy is true while a request is out: a double tap sends one.
let busy = false;

async function checkIn(ev) {
  ev?.preventDefault();
  const raw = $("appointment").value.trim(), typed = raw.toUpperCase().replace(/[\s-]/g, "");
  if (!typed || busy) return;
  busy = true;
  try {
    // An ID number from the card reader; a full appointment number; else
    // the short code of the booking.
    const out = ID_NUMBER.test(typed)
      ? await api("POST", `/stations/${station}/check-in`, { id_number: typed }, session.get("kiosk"))
      : typed.length > 8
        ? await api("POST", `/appointments/${encodeURIComponent(raw.toLowerCase())}/check-in`, undefined, session.get("kiosk"))
        : await api("POST", `/stations/${station}/check-in`, { code: typed }, session.get("kiosk"));
    $("appointment").value = "";
    show(out.ticket, out.service_id, out.estimated_wait_minutes, out);
  } catch (err) {
    $("appointment").value = ID_NUMBER.test(typed) ? "" : $("appointment").value; // never leave an ID number on screen
    refused(err);
  } finally {
    busy = false;
  }
}

// refused shows why a check-in was refused, large: when to come back, or
// that check-in closed, with the walk-in ticket offered.
function refused(err) {
  clearTicket();
  message($("msg"), err);
  const closed = err instanceof Problem && err.problem.status === 409 && /check-in closed/.test(err.problem.detail || "");
  const unknown = err instanceof Problem && err.problem.status === 404;
  $("offer-walkin-box").hidden = !(closed || unknown);
  idle();
}

async function walkIn(serviceID) {
  const priority = $("priority").querySelector("[aria-pressed=true]")?.dataset.priority || "normal";
  if (busy) return;
  busy = true;
  try {
    const out = await api("POST", `/stations/${station}/tickets`, { service_id: serviceID, priority }, session.get("kiosk"));
    $("appointment").value = "";
    show(out, serviceID, out.estimated_wait_minutes, out);
  } catch (err) { message($("msg"), err); } finally { busy = false; }
}

function show(ticket, serviceID, wait, links) {
  stopScan();
  message($("msg"), "");
  $("offer-walkin-box").hidden = true;
  $("priority").querySelectorAll("button").forEach((x) => x.setAttribute("aria-pressed", String(x.dataset.priority === "normal")));
  // The server's time of issue, shown in the station's zone.
  shown = { ticket, serviceID, wait, at: links.issued_at || new Date().toISOString(), qr: links.follow_qr, url: links.follow_url };
  drawTicket();
  window.scrollTo(0, 0);
  idle();
}

function drawTicket() {
  const { ticket, serviceID, wait, at, qr } = shown;
  const s = services.find((x) => x.id === serviceID);
  $("ticket").hidden = false;
  put($("ticket"), 
    el("p", { class: "ticket-station", id: "ticket-station" }, stationName),
    el("p", {}, t("your_number")),
    el("div", { class: "number", id: "ticket-number", "data-follow": shown.url || "" }, ticket.number),
    el("p", { class: "ticket-service", id: "ticket-service" }, s ? serviceName(s) : serviceID),
    el("p", { class: "ticket-place", id: "ticket-ahead" }, t("ticket_ahead").replace("{n}", count(ticket.position, "person", "people"))),
    el("p", { id: "ticket-wait" }, t("ticket_wait").replace("{n}", wait ?? 0)),
    qr ? el("figure", { class: "ticket-qr" }, el("img", { id: "ticket-qr", src: qr, alt: t("ticket_follow"), width: 200, height: 200 }), el("figcaption", {}, t("ticket_follow"))) : null,
    // The station's time (Asia/Shanghai), whatever zone the device is set to.
    el("p", { class: "muted", id: "ticket-time" }, `${t("ticket_time")} ${when(at)}`),
    el("p", { class: "noprint ticket-actions" },
      el("button", { type: "button", id: "print", onclick: () => print() }, t("print_ticket")),
      el("button", { type: "button", class: "secondary", id: "done", onclick: reset }, t("done"))),
    el("p", { class: "noprint muted", id: "clears-in", "aria-live": "off" }, ""));
}

function clearTicket() {
  shown = null;
  $("ticket").hidden = true;
  put($("ticket"));
}

// reset clears the screen for the next person.
function reset() {
  clearTicket();
  stopScan();
  message($("msg"), "");
  $("offer-walkin-box").hidden = true;
  $("appointment").value = "";
  $("priority").querySelectorAll("button").forEach((x) => x.setAttribute("aria-pressed", String(x.dataset.priority === "normal")));
  clearTimeout(idleTimer);
  clearInterval(tick);
  window.scrollTo(0, 0);
  $("appointment").focus();
}

// idle (re)starts the clock that clears the screen, while something of a
// person is shown: a ticket, a refusal, a half-typed code.
function idle() {
  clearTimeout(idleTimer);
  clearInterval(tick);
  const until = Date.now() + IDLE * 1000;
  const say = () => { const c = $("clears-in"); if (c) c.textContent = t("clears_in").replace("{n}", Math.max(0, Math.ceil((until - Date.now()) / 1000))); };
  say();
  tick = setInterval(say, 1000);
  idleTimer = setTimeout(reset, IDLE * 1000);
}

async function startScan() {
  const video = $("camera");
  try {
    const detector = new BarcodeDetector({ formats: ["qr_code"] });
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" }, audio: false });
    video.srcObject = stream;
    await video.play();
    $("scanner").hidden = false;
    $("scan").hidden = true;
    message($("msg"), t("scan_hint"));
    const look = async () => {
      if (!stream) return;
      try {
        const codes = await detector.detect(video);
        const code = codes.map((c) => c.rawValue.trim().toUpperCase()).find((v) => /^[34679ACDEFHJKMNPRTUVWXY]{4,8}$/.test(v));
        if (code) {
          stopScan();
          $("appointment").value = code;
          checkIn();
          return;
        }
      } catch { /* a frame not ready yet */ }
      setTimeout(look, 250);
    };
    look();
    idle();
  } catch (err) {
    stopScan();
    message($("msg"), new Error(t("camera_denied")));
  }
}

function stopScan() {
  if (stream) stream.getTracks().forEach((tr) => tr.stop());
  stream = null;
  $("camera").srcObject = null;
  $("scanner").hidden = true;
  if ("BarcodeDetector" in window && navigator.mediaDevices?.getUserMedia && station) $("scan").hidden = false;
}

init().catch((err) => message($("msg"), err));
