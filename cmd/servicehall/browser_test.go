package main

import (
	"context"
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
	base, run, text, shot, login, tab, axe := b.base, b.run, b.text, b.shot, b.login, b.tab, b.axe

	// The board, open before anything happens.
	board := tab()
	run(board, "board", chromedp.Navigate(base+"/board?station=gulou"), waitText("#station-name", "鼓楼派出所"))
	axe(board, "the board, before any call")

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
	axe(dash, "the dashboard, before")

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
	axe(resident, "the resident's confirmation")
	run(resident, "phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)), chromedp.Reload(), chromedp.WaitVisible(css("#days")))
	shot(resident, "resident-phone")
	axe(resident, "the resident page at phone width")

	// The kiosk checks the booking in: within the slot, so it is first.
	kiosk := tab()
	login(kiosk, "/kiosk", "kiosk.gulou", "demo-kiosk-pass")
	code := regexp.MustCompile(`签到码 (\S+)`).FindStringSubmatch(booked)
	if code == nil {
		t.Fatalf("booking message %q has no check-in code", booked)
	}
	run(kiosk, "kiosk opens", chromedp.WaitVisible(css("#appointment")))
	axe(kiosk, "the kiosk")
	run(kiosk, "kiosk check-in", fill("#appointment", strings.ToLower(code[1])), press("#check-in"),
		poll(`!!document.querySelector("#ticket-number") || document.querySelector("#msg").textContent !== ""`, 10*time.Second))
	if msg := text(kiosk, "#msg"); msg != "" {
		t.Fatalf("check-in: %s", msg)
	}
	number := text(kiosk, "#ticket-number")
	if number != "A001" {
		t.Fatalf("ticket %q, want A001", number)
	}
	axe(kiosk, "the kiosk's ticket")

	// The counter calls; the board shows it within a second.
	counter := tab()
	login(counter, "/counter", "li.wei", "demo-staff-pass")
	run(counter, "counter opens", chromedp.WaitVisible(css("#counter")),
		fill("#counter", "w1"), press("#open"), waitText("#msg", "✓"))
	axe(counter, "the counter open")
	called := time.Now()
	run(counter, "call next", press("#call-next"), waitText("#current", number))
	run(board, "board shows the call", poll(`document.querySelector("#latest-number")?.textContent === `+quote(number), time.Second))
	t.Logf("the board showed %s %v after the click", number, time.Since(called).Round(time.Millisecond))
	axe(board, "the board with a call") // its picture is TestBoardInABrowser's

	// It serves the resident: an application accepted, approved and
	// completed, then the ticket.
	run(counter, "serve", press("#start"),
		fill("#app-name", "陈静"), fill("#app-id", "235407195106112745"), fill("#app-phone", "13912345678"),
		press("#submit-app"), poll(`document.querySelector("#app-status")?.dataset.status === "submitted"`, 10*time.Second),
		press("#accept"), poll(`document.querySelector("#app-status")?.dataset.status === "accepted"`, 10*time.Second),
		press("#approve"), fill("#approve-note", "材料齐全"), press("#approve-form-submit"), poll(`document.querySelector("#app-status")?.dataset.status === "approved"`, 10*time.Second),
		press("#app-complete"), poll(`document.querySelector("#app-status")?.dataset.status === "completed"`, 10*time.Second))
	axe(counter, "the counter serving, the application completed")
	run(counter, "complete the ticket", press("#complete"), waitText("#current", "—"))

	// The manager sees the rate move.
	run(dash, "dashboard after", press("#refresh"),
		poll(`document.querySelector("#kpi-completion").textContent !== `+quote(before), 10*time.Second))
	after := text(dash, "#kpi-completion")
	if !strings.HasSuffix(after, "%") {
		t.Fatalf("completion rate %q after, %q before", after, before)
	}
	t.Logf("completion rate %s → %s", before, after)
	axe(dash, "the dashboard, after")

	// Every page again in English (the choice is the browser's, so it
	// comes last: the steps above read Chinese).
	run(board, "English", english())
	for _, p := range []struct {
		c           context.Context
		name, ready string
	}{
		{board, "the board", `document.querySelector("#station-name")?.textContent !== ""`},
		{dash, "the dashboard", `document.querySelector("#rate-note").textContent.includes("Withdrawn")`},
		{resident, "the resident page", `document.querySelector("#days button.day") !== null`},
		{kiosk, "the kiosk", `document.querySelector("#appointment")?.offsetParent != null`},
		{counter, "the counter", `document.querySelector("#counter option") !== null`},
	} {
		run(p.c, p.name+" in English", chromedp.Reload(), poll(`document.documentElement.lang === "en"`, 10*time.Second), poll(p.ready, 10*time.Second))
		axe(p.c, p.name+" in English")
	}
}
