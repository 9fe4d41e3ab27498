// The hall board (叫号大屏): the latest call large, what each counter serves
// now, the recent calls (a recall is one line, marked), the missed tickets
// and the number waiting per service, from the station's server-sent
// events. Calls are announced with a chime and, if chosen, spoken: by the
// browser's own offline voice when it has one for the language, else by
// the clips shipped in the binary (static/voice, made with espeak-ng by
// web/voicegen), played one after another with Web Audio. A hall needs
// no internet for either.
//
// Browsers play sound only after a touch on the page: the sound chosen is
// kept (localStorage "board.sound"), and while the browser still blocks it
// after a reload the page asks for one touch. A hall display runs
// Chromium with --autoplay-policy=no-user-gesture-required, which needs
// none.
import { api, t, texts, header, el, serviceName, count, lang, Problem, put, named } from "./app.js";

texts({
  board_sound: ["声音", "Sound"],
  board_sound_off: ["关闭", "Off"],
  board_sound_chime: ["提示音", "Chime"],
  board_sound_voice: ["语音叫号", "Spoken calls"],
  board_unlock: ["🔈 点击开启声音", "🔈 Touch to turn the sound on"],
  board_counters: ["窗口", "Counters"],
  board_idle: ["空闲", "Free"],
  board_paused: ["暂停", "Paused"],
  board_closed: ["未开放", "Closed"],
  board_recent: ["最近叫号", "Recent calls"],
  board_recalled: ["重呼", "Recalled"],
  board_missed: ["过号", "Missed"],
  board_missed_note: ["过号的市民请到服务台办理。", "Missed your number? Please come to the desk."],
  board_none: ["无", "None"],
  board_offline: ["连接中断，正在重连…", "Connection lost, reconnecting…"],
  board_pick: ["请选择派出所", "Choose a station"],
  board_unknown: ["未找到派出所“{id}”，请从下面选择。", "There is no station “{id}”; choose one below."],
});

const $ = (id) => document.getElementById(id);
const station = new URLSearchParams(location.search).get("station");
const time = (at) => new Date(at).toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit" });
const dayOf = (at) => new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date(at));

// named is a station's or counter's name in the board's language.

let st = null, counters = [], services = [], waiting = {}, hall = { counters: {}, missed: [] };
// entries are the recent calls, one per number, the latest first; seen
// holds the calls already taken, as a reconnected feed sends them again.
let entries = [], primed = false, day = "";
const seen = new Set();

async function init() {
  header(() => render(), "board");
  setInterval(() => { $("clock").textContent = new Date().toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai" }); }, 1000);
  if (!station) return pick();
  try {
    [st, services] = await Promise.all([api("GET", `/stations/${encodeURIComponent(station)}`), api("GET", "/services")]);
  } catch (err) {
    if (err instanceof Problem && err.problem.status === 404) return pick(station);
    throw err;
  }
  counters = st.counters;
  $("hall").hidden = false;
  sound.init();
  const feed = new EventSource(`/api/v1/stations/${encodeURIComponent(station)}/board`);
  // While the feed is down the board says so; EventSource reconnects.
  feed.addEventListener("error", () => { document.body.dataset.live = "0"; $("offline").hidden = false; });
  feed.addEventListener("call", (ev) => take(JSON.parse(ev.data)));
  feed.addEventListener("waiting", (ev) => { waiting = JSON.parse(ev.data); });
  feed.addEventListener("hall", (ev) => {
    hall = JSON.parse(ev.data);
    if (hall.date !== day) { // a new day: yesterday's calls go
      day = hall.date;
      entries = entries.filter((e) => dayOf(e.at) === day);
    }
    primed = true; // the calls before the first change were history
    document.body.dataset.live = "1";
    $("offline").hidden = true;
    render();
  });
  render();
}

// take adds a call: a number called again replaces its line, marked when
// the call is a recall; a fresh call after a primed feed is announced.
function take(call) {
  const key = `${call.seq}/${call.at}`;
  if (seen.has(key)) return;
  seen.add(key);
  entries = [{ ...call }, ...entries.filter((e) => e.number !== call.number)].slice(0, 12);
  if (primed) {
    render(true);
    sound.announce(call);
  }
}

// pick shows the stations to choose from, and why, when id names none.
async function pick(id) {
  $("pick").hidden = false;
  $("hall").hidden = true;
  const draw = (list) => {
    $("problem").textContent = id ? t("board_unknown").replace("{id}", id) : "";
    put($("stations"), ...list.map((s) => el("li", {}, el("a", { href: `/board?station=${encodeURIComponent(s.id)}` }, named(s)))));
  };
  const list = await api("GET", "/stations");
  draw(list);
  render = () => draw(list);
}

const counterName = (id) => { const c = counters.find((c) => c.id === id); return c ? named(c) : id; };

// counterNumber is the number a counter is called by: the first number in
// its name ("2号窗口"), else in its id ("w2"); 0 for none.
function counterNumber(id) {
  const m = (counters.find((c) => c.id === id)?.name || "").match(/\d+/) || String(id).match(/\d+/);
  return m ? Number(m[0]) : 0;
}

let render = function (fresh) {
  $("station-name").textContent = named(st);
  document.title = `${named(st)} · ${t("title_board")}`;
  const missed = new Set(hall.missed);
  const shown = entries.filter((e) => !missed.has(e.number));
  const [latest] = shown;
  const box = $("latest");
  if (latest) {
    put(box, ...[el("span", { id: "latest-number" }, latest.number), el("span", { class: "arrow", "aria-hidden": "true" }, "→"),
      el("span", { id: "latest-counter" }, counterName(latest.counter_id)),
      latest.recall ? el("span", { class: "recalled" }, t("board_recalled")) : null].filter(Boolean));
    if (fresh) {
      box.classList.remove("flash");
      void box.offsetWidth; // restart the animation
      box.classList.add("flash");
    }
  } else {
    put(box, "—");
  }
  put($("counters"), ...counters.map((c) => {
    const now = hall.counters[c.id] || { state: "closed" };
    const what = now.number ? el("b", { class: "number" }, now.number)
      : el("span", { class: "state" }, t(now.state === "open" ? "board_idle" : now.state === "paused" ? "board_paused" : "board_closed"));
    return el("li", { id: `counter-${c.id}`, class: `panel ${now.number ? "busy" : now.state}` }, el("span", { class: "name" }, named(c)), what);
  }));
  put($("calls"), ...shown.slice(0, 8).map((e) => el("tr", { "data-number": e.number },
    el("td", { class: "number" }, e.number), el("td", {}, counterName(e.counter_id)),
    el("td", {}, e.recall ? el("span", { class: "recalled" }, t("board_recalled")) : ""),
    el("td", {}, el("time", { datetime: e.at }, time(e.at))))));
  $("missed-count").textContent = hall.missed.length ? `(${hall.missed.length})` : "";
  put($("missed"), ...(hall.missed.length ? hall.missed.map((n) => el("li", { class: "number" }, n)) : [el("li", { class: "none" }, t("board_none"))]));
  put($("waiting"), ...services.filter((s) => waiting[s.id]).map((s) => el("tr", {}, el("td", {}, serviceName(s)),
    el("td", {}, lang() === "en" ? count(waiting[s.id], "person", "people") : `${waiting[s.id]} 人`))));
};

// sentence is what is said for a call in the board's language: the text
// for a voice, and the clips that say it (static/voice/{lang}/{clip}.wav).
export function sentence(call, language = lang()) {
  const n = counterNumber(call.counter_id), chars = [...call.number];
  if (language === "en") {
    const spelled = chars.join(" ");
    return {
      text: n ? `Number ${spelled}, please go to counter ${n}` : `Number ${spelled}, please go to ${counterName(call.counter_id)}`,
      clips: ["number", ...chars, ...(n ? ["please", ...String(n)] : [])],
    };
  }
  // Chinese reads a counter's number as a number: 12 is 十二.
  const said = n < 10 ? [String(n)] : n < 20 ? ["10", ...(n % 10 ? [String(n % 10)] : [])]
    : n < 100 ? [String(Math.floor(n / 10)), "10", ...(n % 10 ? [String(n % 10)] : [])] : [...String(n)];
  return {
    text: n ? `请 ${call.number} 号到 ${n} 号窗口` : `请 ${call.number} 号到 ${counterName(call.counter_id)}`,
    clips: ["qing", ...chars, "hao", ...(n ? ["dao", ...said, "haochuangkou"] : [])],
  };
}

// sound is the board's chime and spoken calls.
const sound = {
  choice: "off", // off, chime or voice
  ctx: null, // the AudioContext, made when a sound is chosen
  queue: [],
  busy: false,
  buffers: new Map(), // clip URL → decoded audio, as a promise
  manifest: null,
  settled: false, // a new AudioContext starts suspended, even when allowed to play

  init() {
    const kept = localStorage.getItem("board.sound");
    this.choice = ["off", "chime", "voice"].includes(kept) ? kept : "off";
    document.querySelectorAll("#sound [data-sound]").forEach((b) => b.addEventListener("click", () => this.choose(b.dataset.sound)));
    // The first touch anywhere lets the browser play.
    for (const kind of ["pointerdown", "touchstart", "keydown"]) document.addEventListener(kind, () => this.resume(), { capture: true });
    if (this.choice !== "off") this.context();
    setTimeout(() => { this.settled = true; this.show(); }, 700);
    this.show();
  },

  choose(choice) {
    this.choice = choice;
    localStorage.setItem("board.sound", choice);
    if (choice !== "off") {
      this.context();
      this.resume();
      this.chime();
    }
    this.show();
  },

  context() {
    if (!this.ctx && window.AudioContext) {
      this.ctx = new AudioContext();
      this.ctx.addEventListener("statechange", () => this.show());
    }
    return this.ctx;
  },

  resume() {
    if (this.ctx && this.ctx.state === "suspended") this.ctx.resume().then(() => this.show(), () => {});
  },

  running() { return !!this.ctx && this.ctx.state === "running"; },

  // show marks the choice and asks for a touch while the browser blocks it.
  show() {
    document.querySelectorAll("#sound [data-sound]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.sound === this.choice)));
    $("sound").dataset.audio = this.ctx ? this.ctx.state : "none";
    $("unlock").hidden = !this.settled || this.choice === "off" || this.running();
  },

  announce(call) {
    if (this.choice === "off") return;
    this.queue.push(call);
    if (!this.busy) this.next();
  },

  async next() {
    this.busy = true;
    while (this.queue.length) {
      const call = this.queue.shift();
      await this.chime();
      if (this.choice === "voice") await this.say(call).catch(() => {});
    }
    this.busy = false;
  },

  // chime rings two notes, and resolves when they are done.
  chime() {
    if (!this.running()) return Promise.resolve();
    const ctx = this.ctx, now = ctx.currentTime;
    for (const [i, f] of [880, 660].entries()) {
      const o = ctx.createOscillator(), g = ctx.createGain();
      o.frequency.value = f;
      g.gain.setValueAtTime(0.0001, now + i * 0.35);
      g.gain.exponentialRampToValueAtTime(0.3, now + i * 0.35 + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.35 + 0.3);
      o.connect(g).connect(ctx.destination);
      o.start(now + i * 0.35);
      o.stop(now + i * 0.35 + 0.32);
    }
    return new Promise((r) => setTimeout(r, 800));
  },

  // voice is an offline voice of the browser for the language, if any.
  voice(language) {
    const synth = window.speechSynthesis;
    if (!synth || !window.SpeechSynthesisUtterance) return null;
    const local = synth.getVoices().filter((v) => v.localService);
    if (language === "en") return local.find((v) => /^en/i.test(v.lang)) || null;
    const zh = local.filter((v) => /^(zh|cmn)/i.test(v.lang) && !/yue|HK/i.test(v.lang));
    return zh.find((v) => /CN|Hans/i.test(v.lang)) || zh[0] || null;
  },

  async say(call) {
    const language = lang() === "en" ? "en" : "zh";
    const { text, clips } = sentence(call, language);
    const voice = this.voice(language);
    if (voice && await this.speak(text, voice, language)) return;
    await this.play(language, clips);
  },

  // speak says text with the browser's voice: false when it failed.
  speak(text, voice, language) {
    return new Promise((done) => {
      const u = new SpeechSynthesisUtterance(text);
      u.voice = voice;
      u.lang = language === "en" ? "en-US" : "zh-CN";
      u.rate = 0.9;
      const timer = setTimeout(() => done(true), 15000); // no end event: go on
      u.onend = () => { clearTimeout(timer); done(true); };
      u.onerror = (ev) => { clearTimeout(timer); done(ev.error === "interrupted" || ev.error === "canceled"); };
      window.speechSynthesis.speak(u);
    });
  },

  // play strings the clips together, those that exist, and resolves when
  // they have been said.
  async play(language, clips) {
    const ctx = this.context();
    if (!ctx) return;
    this.manifest ||= fetch("/static/voice/manifest.json").then((r) => r.json()).catch(() => ({}));
    const have = new Set((await this.manifest)[language] || []);
    const urls = clips.filter((c) => have.has(c)).map((c) => `/static/voice/${language}/${c}.wav`);
    const load = (url) => {
      if (!this.buffers.has(url)) {
        this.buffers.set(url, fetch(url).then((r) => r.arrayBuffer()).then((b) => ctx.decodeAudioData(b)).catch((err) => { this.buffers.delete(url); throw err; }));
      }
      return this.buffers.get(url);
    };
    const buffers = await Promise.all(urls.map(load));
    if (!this.running()) return;
    let at = ctx.currentTime + 0.05;
    for (const b of buffers) {
      const src = ctx.createBufferSource();
      src.buffer = b;
      src.connect(ctx.destination);
      src.start(at);
      at += b.duration + 0.04;
    }
    await new Promise((r) => setTimeout(r, (at - ctx.currentTime) * 1000 + 300));
  },
};

init();
