package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestBoardInABrowser watches the hall board of the demo station on a
// Saturday morning while the counters work through the HTTP API: a call in
// the latest panel and in its counter's panel, spoken in Chinese and in
// English (the browser's voice stubbed to hear what it is given), a
// recall as one line marked 重呼, a no-show in the missed list and no
// longer the latest call, the sound chosen kept across a reload, the
// clips played when the browser has no voice, and an unknown station or
// none.
func TestBoardInABrowser(t *testing.T) {
	_, at := nextSaturday(t)
	b := newBrowser(t, at)
	run, text := b.run, b.text
	kiosk, staff := boardLogin(t, b.base, "kiosk.gulou", "demo-kiosk-pass"), boardLogin(t, b.base, "li.wei", "demo-staff-pass")
	post := func(token, path, body string) map[string]any {
		t.Helper()
		return boardPost(t, b.base, token, path, body)
	}
	for range 3 {
		post(kiosk, "/stations/gulou/tickets", `{"service_id":"birth"}`)
	}
	post(staff, "/counters/w1/open", `{"service_ids":["birth","transfer","correction"]}`)

	board := b.tab()
	live := poll(`document.body.dataset.live === "1"`, 10*time.Second)
	run(board, "board", chromedp.Navigate(b.base+"/board?station=gulou"), waitText("#station-name", "鼓楼派出所"), live,
		waitText("#counter-w1", "空闲"), waitText("#counter-w2", "未开放"))
	// Spoken calls: the sound is chosen with a click, and the browser's
	// voice is replaced by one that writes down what it is asked to say.
	run(board, "choose spoken calls", chromedp.Click(css("#sound-voice")),
		poll(`localStorage.getItem("board.sound") === "voice" && document.querySelector("#sound-voice").getAttribute("aria-pressed") === "true"`, 2*time.Second),
		chromedp.Evaluate[chromedp.Void](`(() => {
			window.spoken = [];
			window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
			const voices = [{ name: "test zh", lang: "zh-CN", localService: true }, { name: "test en", lang: "en-US", localService: true }];
			speechSynthesis.getVoices = () => voices;
			speechSynthesis.speak = (u) => { window.spoken.push(u.text); setTimeout(() => u.onend && u.onend(), 10); };
		})()`))
	spoken := func(want string) chromedp.Action[chromedp.Void] {
		return poll(`(window.spoken || []).includes(`+quote(want)+`)`, 10*time.Second)
	}

	// A call: the latest panel, the counter's panel, the recent calls, said.
	post(staff, "/counters/w1/call-next", "")
	run(board, "the call shows and is said",
		poll(`document.querySelector("#latest-number")?.textContent === "A001"`, 5*time.Second),
		waitText("#latest-counter", "1号窗口"), waitText("#counter-w1 .number", "A001"),
		waitText(`#calls tr[data-number="A001"]`, "1号窗口"), spoken("请 A001 号到 1 号窗口"))
	if got := text(board, "#latest"); got != "A001→1号窗口 户籍" {
		t.Errorf("the latest call reads %q", got)
	}
	first := eval[string](b, board, `document.querySelector('#calls tr[data-number="A001"] time').getAttribute("datetime")`)

	// A recall: one line, marked, at the recall's time, said again.
	post(staff, "/counters/w1/recall", "")
	run(board, "the recall is one line",
		poll(`document.querySelectorAll('#calls tr[data-number="A001"]').length === 1 && document.querySelector('#calls tr[data-number="A001"]').textContent.includes("重呼")`, 5*time.Second),
		waitText("#latest", "重呼"), poll(`document.querySelector('#calls tr[data-number="A001"] time').getAttribute("datetime") !== `+quote(first), time.Second), poll(`window.spoken.filter((s) => s === "请 A001 号到 1 号窗口").length === 2`, 10*time.Second))
	if n := eval[int](b, board, `document.querySelectorAll("#calls tr").length`); n != 1 {
		t.Errorf("%d lines of recent calls after a call and its recall, want 1", n)
	}

	// A no-show: in the missed list, no longer the latest call, the counter free.
	post(staff, "/counters/w1/no-show", "")
	run(board, "the no-show is missed",
		waitText("#missed", "A001"), waitText("#missed-h", "(1)"), waitText("#counter-w1", "空闲"),
		poll(`!document.querySelector("#latest-number") && !document.querySelector('#calls tr[data-number="A001"]')`, 5*time.Second))

	// In English: the sentence, the panels' words and the plurals.
	run(board, "English", press("#lang"), waitText("#station-name", "Gulou Police Station"), waitText("#counter-w1", "Counter 1 · Household"), waitText("#counter-w2", "Closed"), waitText("#missed-h", "Missed"), waitText("#waiting", "2 people"))
	post(staff, "/counters/w1/call-next", "")
	run(board, "said in English", waitText("#counter-w1 .number", "A002"), spoken("Number A 0 0 2, please go to counter 1"),
		waitText("#waiting", "1 person"), waitText("#latest", "Counter 1 · Household"))
	b.axe(board, "the board in English, a call and a missed ticket")

	// Back in Chinese, with the other counters at work, for the picture.
	run(board, "Chinese", press("#lang"), waitText("#counter-w2", "未开放"))
	post(staff, "/counters/w2/open", `{"service_ids":["birth","idcard"]}`)
	post(staff, "/counters/w2/call-next", "")
	post(staff, "/counters/w3/open", `{"service_ids":["idcard"]}`)
	post(staff, "/counters/w3/pause", "")
	post(kiosk, "/stations/gulou/tickets", `{"service_id":"idcard"}`)
	run(board, "the hall at work", waitText("#counter-w2 .number", "A003"), waitText("#counter-w3", "暂停"),
		poll(`document.querySelector("#latest-number")?.textContent === "A003"`, 5*time.Second), waitText("#waiting", "1 人"), noOverflow())
	if b.keep {
		run(board, "the highlight fades", chromedp.Sleep(3200*time.Millisecond))
	}
	b.shot(board, "board")
	b.axe(board, "the board with every kind of counter")

	// After a reload the choice stands.
	run(board, "reload", chromedp.Reload(), waitText("#station-name", "鼓楼派出所"), live,
		poll(`localStorage.getItem("board.sound") === "voice" && document.querySelector("#sound-voice").getAttribute("aria-pressed") === "true" && document.querySelector("#sound-off").getAttribute("aria-pressed") === "false"`, 2*time.Second))

	// A display that was never touched (a browser of its own), its sound
	// chosen before: while the browser blocks sound the board asks for a
	// touch, and the first touch anywhere lets it play.
	// Headless Chromium may play without a touch: there the display's
	// AudioContext is held suspended, as a browser that blocks sound does,
	// until the page resumes it.
	display, _ := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	blocks := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.AudioContext = class extends window.AudioContext { constructor(...a) { super(...a); this.suspend(); } };`,
		})
		return err
	})
	run(display, "a new display", blocks, chromedp.Navigate(b.base+"/board?station=gulou"), live,
		chromedp.Evaluate[chromedp.Void](`localStorage.setItem("board.sound", "voice")`), chromedp.Reload(), live,
		poll(`document.querySelector("#sound-voice").getAttribute("aria-pressed") === "true"`, 2*time.Second),
		poll(`document.querySelector("#sound").dataset.audio === "running" || !document.querySelector("#unlock").hidden`, 3*time.Second))
	if state := eval[string](b, display, `document.querySelector("#sound").dataset.audio`); state != "suspended" {
		t.Fatalf("the display's sound is %s, want suspended", state)
	}
	b.axe(display, "the board asking for a touch to play sound")
	run(display, "touch to hear", waitText("#unlock", "点击开启声音"), chromedp.Click(css("#latest")),
		poll(`document.querySelector("#unlock").hidden && document.querySelector("#sound").dataset.audio === "running"`, 5*time.Second))

	// No voice in the browser: the shipped clips, in order, each fetched once.
	run(display, "no voice", chromedp.Evaluate[chromedp.Void](`(() => {
		Object.defineProperty(window, "speechSynthesis", { value: undefined, configurable: true });
		window.fetched = [];
		const fetch0 = window.fetch;
		window.fetch = (url, opts) => { window.fetched.push(String(url)); return fetch0(url, opts); };
	})()`))
	post(staff, "/counters/w1/complete", "")
	post(kiosk, "/stations/gulou/tickets", `{"service_id":"birth"}`)
	post(staff, "/counters/w1/call-next", "")
	var want []string // "请 A004 号到 1 号窗口", each clip once
	for _, c := range []string{"qing", "A", "0", "0", "4", "hao", "dao", "1", "haochuangkou"} {
		if u := "/static/voice/zh/" + c + ".wav"; !slices.Contains(want, u) {
			want = append(want, u)
		}
	}
	run(display, "the clips are fetched", waitText("#counter-w1 .number", "A004"),
		poll(`window.fetched.filter((u) => u.endsWith(".wav")).length >= `+strconv.Itoa(len(want)), 10*time.Second))
	var fetched []string
	for _, u := range eval[[]string](b, display, `window.fetched.filter((u) => u.endsWith(".wav"))`) {
		fetched = append(fetched, strings.TrimPrefix(u, b.base))
	}
	if !slices.Equal(fetched, want) {
		t.Errorf("clips fetched %v, want %v", fetched, want)
	}
	for _, u := range append(want, "/static/voice/en/number.wav", "/static/voice/en/please.wav", "/static/voice/zh/B.wav") {
		resp, err := http.Get(b.base + u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "audio/") || resp.ContentLength < 1000 {
			t.Errorf("%s: %d %s, %d bytes", u, resp.StatusCode, ct, resp.ContentLength)
		}
	}

	// An unknown station is named, with the stations to choose from; no
	// station, the list.
	lost := b.tab()
	run(lost, "unknown station", chromedp.Navigate(b.base+"/board?station=nowhere"),
		waitText("#problem", "未找到派出所“nowhere”"), waitText(`#stations a[href="/board?station=gulou"]`, "鼓楼派出所"),
		poll(`document.querySelector("#hall").hidden`, time.Second),
		press("#lang"), waitText("#problem", "There is no station “nowhere”"), waitText("#stations", "Gulou Police Station"))
	b.axe(lost, "the board of an unknown station")
	run(lost, "back to Chinese", press("#lang"), waitText("#problem", "未找到"))
	run(lost, "no station", chromedp.Navigate(b.base+"/board"), waitText("#stations", "鼓楼派出所"), waitText("#pick-h", "请选择派出所"))
	if p := text(lost, "#problem"); p != "" {
		t.Errorf("with no station asked for, the page says %q", p)
	}
}

// boardLogin logs a user in through the API and answers the token.
func boardLogin(t *testing.T, base, user, password string) string {
	t.Helper()
	out := boardPost(t, base, "", "/auth/login", `{"username":"`+user+`","password":"`+password+`"}`)
	token, _ := out["token"].(string)
	if token == "" {
		t.Fatalf("login %s: %v", user, out)
	}
	return token
}

// boardPost posts to the API, failing the test on an error answer.
func boardPost(t *testing.T, base, token, path, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/api/v1"+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode >= 300 {
		t.Fatalf("POST %s: %d %v", path, resp.StatusCode, out)
	}
	return out
}
