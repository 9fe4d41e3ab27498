package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/servicehall/servicehall/internal/apitest"
)

// TestKioskInABrowser drives the kiosk on a portrait touch screen, its
// clock in New York so that only the station's zone can give the right
// time, on the demo's Saturday morning: a booking's code typed on the
// keypad checks it in and shows the ticket with the station and Beijing
// time; the screen clears itself when left alone; a booking for later is
// told when to come back, and an unknown code is offered a walk-in
// ticket; in English, the ID card on the reader checks
// another booking in ("1 person" ahead) and a walk-in ticket follows
// ("2 people"); the ticket's QR code is its follow link, whose page on a
// phone shows the number and place and moves when a counter calls;
// nothing is wider than a 390 px phone.
func TestKioskInABrowser(t *testing.T) {
	sat, at := nextSaturday(t)
	b := newBrowser(t, at)
	run := b.run
	api := b.base + "/api/v1"

	// Three bookings of the Saturday window, made over the API.
	zhang := apitest.ResidentLogin(t, api, "13812345678")
	book := func(start, name, id string) string {
		t.Helper()
		resp, out := apitest.Send(t, "POST", api+"/appointments", zhang, fmt.Sprintf(`{"station_id":"gulou","service_id":"birth","date":%q,"start":%q,"resident":{"name":%q,"id_number":%q,"phone":"13812345678"}}`, sat, start, name, id))
		if resp.StatusCode != 201 {
			t.Fatalf("book %s: %d %v", start, resp.StatusCode, out)
		}
		return out["code"].(string)
	}
	now := book("09:30", "张三", "33050219880702447X")
	book("10:00", "李四", "11010519491231002X") // checked in by ID card
	later := book("11:30", "陈静", "235407195106112745")

	kiosk := b.tab()
	run(kiosk, "portrait screen in New York", chromedp.EmulateViewport(1080, 1920, chromedp.EmulateScale(0.5)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "America/New_York"})
			return err
		}))
	// The screen clears after 4 s alone here (30 s by default).
	b.login(kiosk, "/kiosk?idle=4", "kiosk.gulou", "demo-kiosk-pass")
	run(kiosk, "keypad", chromedp.WaitVisible(css(`#keypad [data-key="A"]`)), waitText("#station-name", "鼓楼派出所"))
	b.axe(kiosk, "the kiosk, portrait")
	if keys := eval[int](b, kiosk, `document.querySelectorAll("#keypad button").length`); keys != 25 {
		t.Fatalf("the keypad has %d keys, want the 23 characters, delete and clear", keys)
	}
	if shown, detector := eval[bool](b, kiosk, `!document.querySelector("#scan").hidden`), eval[bool](b, kiosk, `"BarcodeDetector" in window`); shown != detector {
		t.Fatalf("the scan button shown %v where the browser reads QR codes %v", shown, detector)
	}
	typeCode := func(code string) []chromedp.Action[chromedp.Void] {
		steps := []chromedp.Action[chromedp.Void]{press("#key-clear")}
		for _, ch := range code {
			steps = append(steps, press(`#keypad [data-key="`+string(ch)+`"]`))
		}
		return append(steps, poll(`document.querySelector("#appointment").value === `+quote(code), 2*time.Second), press("#check-in"))
	}

	// The code on the keypad: the ticket, in the station's time.
	run(kiosk, "check in by keypad", append(typeCode(now), waitText("#ticket-ahead", "前面还有 0 人等候"))...)
	if msg := b.text(kiosk, "#msg"); msg != "" {
		t.Fatalf("check-in: %s", msg)
	}
	first := b.text(kiosk, "#ticket-number")
	if st := b.text(kiosk, "#ticket-station"); st != "鼓楼派出所" || first == "" {
		t.Fatalf("ticket %q at %q", first, st)
	}
	if tm := b.text(kiosk, "#ticket-time"); !regexp.MustCompile(regexp.QuoteMeta(sat.String()) + ` 09:\d\d`).MatchString(tm) {
		t.Fatalf("ticket time %q, want %s morning in Beijing time", tm, sat)
	}
	run(kiosk, "the follow QR code", poll(`document.querySelector("#ticket-qr")?.naturalWidth > 0`, 5*time.Second))
	b.axe(kiosk, "the kiosk's ticket")
	b.shot(kiosk, "kiosk")

	// Left alone, the screen clears: the next person never sees it.
	run(kiosk, "idle reset", poll(`document.querySelector("#ticket").hidden && !document.querySelector("#ticket-number") && document.querySelector("#appointment").value === ""`, 10*time.Second))

	// Too early: when to come back, large.
	run(kiosk, "early arrival", append(typeCode(later), waitText("#msg", "请于 10:30 后再来签到"))...)
	b.axe(kiosk, "the kiosk's come-back time")
	if eval[bool](b, kiosk, `!document.querySelector("#offer-walkin-box").hidden`) {
		t.Fatal("a booking too early is offered a walk-in ticket")
	}
	// A code nobody booked here: the walk-in ticket is offered.
	run(kiosk, "unknown code", append(typeCode("XXXXXX"), waitText("#msg", "本所无此签到码"),
		poll(`!document.querySelector("#offer-walkin-box").hidden`, 2*time.Second), press("#offer-walkin"))...)
	if size := eval[float64](b, kiosk, `parseFloat(getComputedStyle(document.querySelector("#msg")).fontSize)`); size < 24 {
		t.Fatalf("the refusal is %v px, want it large", size)
	}

	// In English, the ID card on the reader (it types the number).
	run(kiosk, "English", english(), chromedp.Reload(), waitText("#ci-h", "Check in"),
		fill("#appointment", "11010519491231002x"), press("#check-in"), waitText("#ticket-ahead", "1 person ahead of you"),
		poll(`document.querySelector("#msg").textContent === "" && document.querySelector("#appointment").value === ""`, 2*time.Second))
	second := b.text(kiosk, "#ticket-number")
	follow := eval[string](b, kiosk, `document.querySelector("#ticket-number").dataset.follow`)
	qr := eval[string](b, kiosk, `document.querySelector("#ticket-qr").getAttribute("src")`)
	// A walk-in after it, the button tapped twice: one ticket, two ahead.
	run(kiosk, "walk-in", chromedp.Evaluate[chromedp.Void](`(() => { const b = document.querySelector('#services [data-service="birth"]'); b.click(); b.click() })()`),
		waitText("#ticket-ahead", "2 people ahead of you"), waitText("#ticket", "Your number"), chromedp.Sleep(500*time.Millisecond), waitText("#ticket-ahead", "2 people ahead of you"))
	b.axe(kiosk, "the kiosk's walk-in ticket, in English")
	if third := b.text(kiosk, "#ticket-number"); third == second {
		t.Fatalf("the walk-in shows the previous ticket %s", third)
	}
	// A phone's width: nothing overflows, the keys stay large.
	run(kiosk, "phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)), noOverflow(),
		chromedp.Reload(), chromedp.WaitVisible(css(`#keypad [data-key="A"]`)), noOverflow())
	b.axe(kiosk, "the kiosk at phone width")
	if small := eval[int](b, kiosk, `[...document.querySelectorAll("#keypad button, #check-in, #services button")].filter((b) => { const r = b.getBoundingClientRect(); return r.width < 64 || r.height < 64 }).length`); small != 0 {
		t.Fatalf("%d touch targets smaller than 64 px at 390 px", small)
	}

	// The ticket's QR code is its follow link.
	resp, err := http.Get(b.base + qr)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("ticket QR: %v %v", resp, err)
	}
	png, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want, _ := qrcode.Encode(b.base+follow, qrcode.Medium, 256); !bytes.Equal(png, want) {
		t.Fatalf("the ticket's QR code does not encode %s", b.base+follow)
	}
	phone := b.tab()
	run(phone, "follow page", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)),
		chromedp.Navigate(b.base+follow), chromedp.Evaluate[chromedp.Void](`localStorage.setItem("lang", "zh")`), chromedp.Reload(),
		waitText("#follow-number", second), waitText("#follow-state", "前面还有 1 人等候"), waitText("#station-name", "鼓楼派出所"), noOverflow())
	b.axe(phone, "the ticket's follow page")
	if body := b.text(phone, "main"); regexp.MustCompile(`李|1002X|5678`).MatchString(body) {
		t.Fatalf("the follow page shows personal data: %s", body)
	}

	// A counter calls: the page follows.
	resp2, out := apitest.Send(t, "POST", api+"/auth/login", "", `{"username":"li.wei","password":"demo-staff-pass"}`)
	if resp2.StatusCode != 200 {
		t.Fatalf("staff login: %v", out)
	}
	staff := out["token"].(string)
	apitest.Send(t, "POST", api+"/counters/w1/open", staff, `{"service_ids":["birth"]}`)
	if resp, out := apitest.Send(t, "POST", api+"/counters/w1/call-next", staff, ""); resp.StatusCode != 200 || out["ticket"].(map[string]any)["number"] != first {
		t.Fatalf("first call: %d %v, want %s", resp.StatusCode, out, first)
	}
	run(phone, "next", waitText("#follow-state", "下一位就是您"))
	apitest.Send(t, "POST", api+"/counters/w1/complete", staff, "")
	if resp, out := apitest.Send(t, "POST", api+"/counters/w1/call-next", staff, ""); resp.StatusCode != 200 || out["ticket"].(map[string]any)["number"] != second {
		t.Fatalf("second call: %d %v, want %s", resp.StatusCode, out, second)
	}
	run(phone, "called", waitText("#follow-state", "请到 1号窗口 户籍 办理"))
	b.axe(phone, "the follow page, called")
	b.shot(phone, "ticket-follow")

	// A link with another signature is no ticket.
	run(phone, "forged link", chromedp.Navigate(b.base+follow[:len(follow)-2]+"xx"), waitText("#msg", "号票无效"))
}
