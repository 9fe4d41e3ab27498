import { api, t, header, el, serviceName } from "./app.js";

const $ = (id) => document.getElementById(id);
const station = new URLSearchParams(location.search).get("station") || "gulou";
let counters = {}, services = [], calls = [], waiting = {}, audio = null;

async function init() {
  header(render, "board");
  const [st, svcs] = await Promise.all([api("GET", `/stations/${station}`), api("GET", "/services")]);
  services = svcs;
  $("station-name").textContent = st.name;
  counters = Object.fromEntries(st.counters.map((c) => [c.id, c.name]));
  // Browsers play sound only after a click on the page.
  $("sound").addEventListener("click", () => { audio = new AudioContext(); chime(); $("sound").hidden = true; });
  setInterval(() => { $("clock").textContent = new Date().toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai" }); }, 1000);
  const feed = new EventSource(`/api/v1/stations/${station}/board`);
  feed.addEventListener("call", (ev) => {
    const call = JSON.parse(ev.data);
    calls = [call, ...calls.filter((c) => c.seq !== call.seq)].slice(0, 8);
    render(true);
  });
  feed.addEventListener("waiting", (ev) => { waiting = JSON.parse(ev.data); render(false); });
}

function render(fresh) {
  const [latest] = calls;
  if (latest) {
    $("latest").replaceChildren(el("span", { id: "latest-number" }, latest.number), el("span", { class: "arrow" }, "→"), counters[latest.counter_id] || latest.counter_id);
    if (fresh) {
      $("latest").classList.remove("flash");
      void $("latest").offsetWidth; // restart the animation
      $("latest").classList.add("flash");
      chime();
    }
  }
  $("calls").replaceChildren(...calls.slice(1).map((c) => el("tr", {}, el("td", {}, c.number), el("td", {}, counters[c.counter_id] || c.counter_id),
    el("td", {}, new Date(c.at).toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit" })))));
  $("waiting").replaceChildren(...services.filter((s) => waiting[s.id]).map((s) => el("tr", {}, el("td", {}, serviceName(s)), el("td", {}, `${waiting[s.id]} ${t("people")}`))));
}

function chime() {
  if (!audio) return;
  const now = audio.currentTime;
  for (const [i, f] of [880, 660].entries()) {
    const o = audio.createOscillator(), g = audio.createGain();
    o.frequency.value = f;
    g.gain.setValueAtTime(0.0001, now + i * 0.35);
    g.gain.exponentialRampToValueAtTime(0.3, now + i * 0.35 + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.35 + 0.3);
    o.connect(g).connect(audio.destination);
    o.start(now + i * 0.35);
    o.stop(now + i * 0.35 + 0.32);
  }
}

init();
