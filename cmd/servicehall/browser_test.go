package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/internal/testenv"
)

// TestPagesInABrowser drives the demo's pages in Chromium on a Saturday
// morning (the server's clock is moved there): a resident books a slot of
// the Saturday window, the kiosk checks the booking in, the counter calls
// and serves it and completes an application, the hall board shows the
// call within a second, and the manager's completion rate moves.
// Screenshots are taken when SERVICEHALL_SCREENSHOTS names a folder for
// them (docs/screenshots in the repository); a failed step always leaves
// failed.png there, else in a temporary folder.
func TestPagesInABrowser(t *testing.T) {
	chromium := testenv.Chromium(t)
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("the browser test is not short")
	}
	loc := shanghai(t)
	notices, _ := calendar.Official()
	cal := calendar.New(notices...)
	sat := calendar.DateOf(time.Now().In(loc)).AddDays(1)
	for { // the next ordinary Saturday: not a holiday, not a make-up working day
		if _, reason, _ := cal.Describe(sat); sat.Weekday() == 6 && reason == calendar.ReasonWeekend {
			break
		}
		sat = sat.AddDays(1)
	}
	offset := time.Until(sat.In(loc).Add(9*time.Hour + 5*time.Minute))
	// The clock is the package's: this test does not run in parallel.
	clock = func() time.Time { return time.Now().Add(offset) }
	defer func() { clock = time.Now }()

	shots := os.Getenv("SERVICEHALL_SCREENSHOTS")
	keep := shots != ""
	if !keep {
		shots = t.TempDir()
	}
	base, _, stop := start(t, "demo", t.TempDir())
	defer stop()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.WindowSize(1366, 900))
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancel := context.WithTimeout(browser, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // start the browser
		t.Fatal(err)
	}
	tab := func() context.Context {
		c, _ := chromedp.NewContext(ctx)
		return c
	}
	run := func(c context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(c, actions...); err != nil {
			if png, serr := chromedp.Run(c, chromedp.CaptureScreenshot()); serr == nil {
				os.WriteFile(filepath.Join(shots, "failed.png"), png, 0o644)
			}
			t.Fatalf("%s: %v (the page as it was: failed.png)", step, err)
		}
	}
	text := func(c context.Context, sel string) string {
		t.Helper()
		s, err := chromedp.Run(c, chromedp.Text(css(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	poll := func(expr string, timeout time.Duration) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(20*time.Millisecond))
	}
	// press clicks a button once it is there and enabled, in one step in the
	// page: the pages re-render lists, so a node found first may be gone by
	// the time a separate click arrives.
	press := func(sel string) chromedp.Action[chromedp.Void] {
		return poll(`(() => { const e = document.querySelector(`+quote(sel)+`); if (!e || e.disabled || e.offsetParent === null) return false; e.click(); return true })()`, 10*time.Second)
	}
	// fill sets an input's value once it is shown, as press clicks.
	fill := func(sel, value string) chromedp.Action[chromedp.Void] {
		return poll(`(() => { const e = document.querySelector(`+quote(sel)+`); if (!e || e.offsetParent === null) return false; e.value = `+quote(value)+`; e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); return true })()`, 10*time.Second)
	}
	waitText := func(sel, want string) chromedp.Action[chromedp.Void] {
		return poll(`(document.querySelector(`+quote(sel)+`)?.textContent || "").includes(`+quote(want)+`)`, 10*time.Second)
	}
	shot := func(c context.Context, name string) {
		t.Helper()
		if !keep {
			return
		}
		run(c, "settle", chromedp.Sleep(300*time.Millisecond), chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		png, err := chromedp.Run(c, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	login := func(c context.Context, page, user, password string) {
		t.Helper()
		run(c, "log in to "+page, chromedp.Navigate(base+page), chromedp.WaitVisible(css("#username")),
			fill("#username", user), fill("#password", password), press("#login"))
	}

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
		press("#book"), waitText("#book-msg", "预约编号"), waitText("#appointments", sat.String()))
	// The confirmation: the code large, its QR code, the notes.
	run(resident, "confirmation", poll(`document.querySelector("#confirmation img")?.naturalWidth > 0 && document.querySelector("#checkin-code").textContent.length === 6`, 5*time.Second))
	booked := text(resident, "#book-msg")
	id := regexp.MustCompile(`预约编号 (\S+)`).FindStringSubmatch(booked)
	if id == nil {
		t.Fatalf("booking message %q has no appointment code", booked)
	}
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

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

func quote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
