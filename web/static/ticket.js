// A printed ticket's place in the queue, on the resident's phone: the
// ticket's QR code opens this page with the signed reference (?t=), and
// the page asks the server again every few seconds. It holds no login and
// shows nothing personal: the number, the service and the place.
import { api, t, texts, header, message, count, when, lang } from "./app.js";

texts({
  title_follow: ["排队进度", "Your place in the queue"],
  follow_ahead: ["前面还有 {n} 人等候", "{n} ahead of you"],
  follow_next: ["下一位就是您，请留意叫号", "You are next: listen for your number"],
  follow_wait: ["预计等候约 {n} 分钟", "Estimated wait about {n} min"],
  follow_called: ["请到 {c} 办理", "Please go to {c}"],
  follow_serving: ["正在 {c} 办理", "Being served at {c}"],
  follow_parked: ["已暂挂，请按工作人员指引办理", "Set aside: please follow the staff's directions"],
  follow_done: ["已办结，感谢您的耐心等候", "Done: thank you for waiting"],
  follow_no_show: ["已过号，请咨询工作人员", "Your number was missed: please ask the staff"],
  follow_cancelled: ["此号已作废", "This ticket is void"],
  follow_updated: ["更新于 {t}", "Updated {t}"],
  follow_unknown: ["号票无效或已过期", "This ticket link is not valid"],
});

const $ = (id) => document.getElementById(id);
const ref = new URLSearchParams(location.search).get("t") || "";
const EVERY = 3000; // ms between asks while the ticket is still open
let last = null, timer = 0;

function render() {
  if (!last) return;
  const v = last, en = lang() === "en";
  $("station-name").textContent = (en && v.station_name_en) || v.station_name;
  $("follow").hidden = false;
  $("follow-number").textContent = v.number;
  $("follow-service").textContent = en ? v.service_name : v.service_name_zh;
  const state = $("follow-state"), counter = (en && v.counter_name_en) || v.counter_name || v.counter_id || "";
  state.className = "state" + (v.state === "called" ? " called" : ["done", "no_show", "cancelled"].includes(v.state) ? " over" : "");
  state.dataset.state = v.state;
  $("follow-wait").textContent = "";
  switch (v.state) {
    case "waiting":
      state.textContent = v.ahead === 0 ? t("follow_next") : t("follow_ahead").replace("{n}", count(v.ahead, "person", "people"));
      $("follow-wait").textContent = t("follow_wait").replace("{n}", v.estimated_wait_minutes);
      break;
    case "called": state.textContent = t("follow_called").replace("{c}", counter); break;
    case "serving": state.textContent = t("follow_serving").replace("{c}", counter); break;
    default: state.textContent = t("follow_" + v.state);
  }
  $("follow-updated").textContent = t("follow_updated").replace("{t}", when(new Date().toISOString()).slice(11));
}

async function refresh() {
  try {
    last = await api("GET", `/tickets/${encodeURIComponent(ref)}/live`);
    message($("msg"), "");
    render();
    if (["done", "no_show", "cancelled"].includes(last.state)) return; // nothing more will change
  } catch (err) {
    if (err.problem?.status === 404) { $("follow").hidden = true; message($("msg"), new Error(t("follow_unknown"))); return; }
    message($("msg"), err);
  }
  clearTimeout(timer);
  timer = setTimeout(refresh, document.hidden ? EVERY * 4 : EVERY);
}

header(render, "kiosk");
if (!ref) message($("msg"), new Error(t("follow_unknown")));
else refresh();
