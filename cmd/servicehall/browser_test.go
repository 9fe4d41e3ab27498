package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPagesInABrowser drives the demo's pages in Chromium on a Saturday
// morning (the server's clock is moved there): a resident books a slot of
// the Saturday window, the kiosk checks the booking in, the counter calls
// and serves it and completes an application, the hall board shows the
// call within a second, and the manager's completion rate moves.
func TestPagesInABrowser(t *testing.T) {
	sat, at := nextSaturday(t)
	b := newBrowser(t, at)
	base, run, text, shot, login, tab := b.base, b.run, b.text, b.shot, b.login, b.tab
	keep := b.keep

	// The board, open before anything happens.
	board := tab()
	run(board, "board", chromedp.Navigate(base+"/board?station=gulou"), waitText("#station-name", "鼓楼派出所"))

	// The manager's completion rate before the day's work.
	dash := tab()
	login(dash, "/dashboard", "zhao.lead", "demo-manager-pass")
	run(dash, "dashboard", chromedp.WaitVisible(css("#kpi-completion")),
		fill("#to", sat.AddDays(60).String()), fill("#queue-date", sat.String()), press("#refresh"),
		poll(`document.querySelector("#kpi-completion").textContent.endsWith("%")`, 10*time.Second),
		// No embedded notice covers next year: the page says its holidays are computed.
		poll(`!document.querySelector("#calendar-warning").hidden`, 5*time.Second),
		// The page states what the rates count, and that withdrawn cases count in none.
		poll(`document.querySelector("#rate-note").textContent.includes("撤回的办件不计入")`, 5*time.Second))
	before := text(dash, "#kpi-completion")

	// A resident books the Saturday window's 09:30 slot.
	resident := tab()
	run(resident, "resident books", chromedp.Navigate(base+"/?service=birth"),
		press(`button.day[data-date="`+sat.String()+`"]`), press(`#slots button[data-start="09:30"]`),
		fill("#phone", "13912345678"), press("#send-code"), chromedp.WaitVisible(css("#verify-form")),
		press("#verify"), chromedp.WaitVisible(css("#name")), waitText("#login-msg", "✓"),
		fill("#name", "陈静"), fill("#id-number", "235407195106112745"),
		poll(`!document.querySelector("#book").disabled`, 10*time.Second),
		press("#book"), waitText("#book-msg", "签到码"), waitText("#appointments", sat.String()))
	// The confirmation: the code large, its QR code, the notes.
	run(resident, "confirmation", poll(`document.querySelector("#confirmation img")?.naturalWidth > 0 && document.querySelector("#confirmation .checkin-code").textContent.length === 6`, 5*time.Second))
	booked := text(resident, "#book-msg")
	shot(resident, "resident")
	run(resident, "phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)), chromedp.Reload(), chromedp.WaitVisible(css("#days")))
	shot(resident, "resident-phone")

	// The kiosk checks the booking in: within the slot, so it is first.
	kiosk := tab()
	login(kiosk, "/kiosk", "kiosk.gulou", "demo-kiosk-pass")
	code := regexp.MustCompile(`签到码 (\S+)`).FindStringSubmatch(booked)
	if code == nil {
		t.Fatalf("booking message %q has no check-in code", booked)
	}
	run(kiosk, "kiosk check-in", chromedp.WaitVisible(css("#appointment")), fill("#appointment", strings.ToLower(code[1])), press("#check-in"),
		poll(`!!document.querySelector("#ticket-number") || document.querySelector("#msg").textContent !== ""`, 10*time.Second))
	if msg := text(kiosk, "#msg"); msg != "" {
		t.Fatalf("check-in: %s", msg)
	}
	number := text(kiosk, "#ticket-number")
	if number != "A001" {
		t.Fatalf("ticket %q, want A001", number)
	}
	shot(kiosk, "kiosk")

	// The counter calls; the board shows it within a second.
	counter := tab()
	login(counter, "/counter", "li.wei", "demo-staff-pass")
	run(counter, "counter opens", chromedp.WaitVisible(css("#counter")),
		fill("#counter", "w1"), press("#open"), waitText("#msg", "✓"))
	called := time.Now()
	run(counter, "call next", press("#call-next"), waitText("#current", number))
	run(board, "board shows the call", poll(`document.querySelector("#latest-number")?.textContent === `+quote(number), time.Second))
	t.Logf("the board showed %s %v after the click", number, time.Since(called).Round(time.Millisecond))
	if keep {
		run(board, "the highlight fades", chromedp.Sleep(3200*time.Millisecond))
	}
	shot(board, "board")

	// It serves the resident: an application accepted, approved and
	// completed, then the ticket.
	run(counter, "serve", press("#start"),
		fill("#app-name", "陈静"), fill("#app-id", "235407195106112745"), fill("#app-phone", "13912345678"),
		press("#submit-app"), poll(`document.querySelector("#app-status")?.dataset.status === "submitted"`, 10*time.Second),
		press("#accept"), poll(`document.querySelector("#app-status")?.dataset.status === "accepted"`, 10*time.Second),
		fill("#app-text", "材料齐全"), press("#approve"), poll(`document.querySelector("#app-status")?.dataset.status === "approved"`, 10*time.Second),
		press("#app-complete"), poll(`document.querySelector("#app-status")?.dataset.status === "completed"`, 10*time.Second))
	shot(counter, "counter")
	run(counter, "complete the ticket", press("#complete"), waitText("#current", "—"))

	// The manager sees the rate move.
	run(dash, "dashboard after", press("#refresh"),
		poll(`document.querySelector("#kpi-completion").textContent !== `+quote(before), 10*time.Second))
	after := text(dash, "#kpi-completion")
	if !strings.HasSuffix(after, "%") {
		t.Fatalf("completion rate %q after, %q before", after, before)
	}
	t.Logf("completion rate %s → %s", before, after)
	shot(dash, "dashboard")
}
