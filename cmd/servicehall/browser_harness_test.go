package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/internal/testenv"
)

// browser is one Chromium with tabs on one demo server, for the browser
// tests. Screenshots are kept when SERVICEHALL_SCREENSHOTS names a folder
// (docs/screenshots in the repository); a failed step always leaves
// failed.png there, else in a temporary folder.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string // the server's address, http://127.0.0.1:port
	shots string
	keep  bool
	axeJS string // axe-core's source; "" leaves the accessibility checks out
}

// newBrowser starts a demo server whose clock reads at (in Shanghai; the
// zero time leaves the clock alone) and a Chromium for it. The clock is
// the package's: browser tests do not run in parallel.
func newBrowser(t *testing.T, at time.Time) *browser {
	t.Helper()
	chromium := testenv.Chromium(t)
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("the browser tests are not short")
	}
	if !at.IsZero() {
		offset := time.Until(at)
		clock = func() time.Time { return time.Now().Add(offset) }
		t.Cleanup(func() { clock = time.Now })
	}
	b := &browser{t: t, shots: os.Getenv("SERVICEHALL_SCREENSHOTS")}
	b.keep = b.shots != ""
	if p := testenv.Axe(t); p != "" {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b.axeJS = string(src)
	}
	if !b.keep {
		b.shots = t.TempDir()
	}
	base, _, stop := start(t, "demo", t.TempDir())
	t.Cleanup(func() { stop() })
	b.base = base

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.WindowSize(1366, 900))
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	root, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	ctx, cancel := context.WithTimeout(root, 3*time.Minute)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // start the browser
		t.Fatal(err)
	}
	b.ctx = ctx
	return b
}

// nextSaturday is 09:05 on the next ordinary Saturday (not a holiday, not
// a make-up working day) in Shanghai: the demo's weekend window is open.
func nextSaturday(t *testing.T) (calendar.Date, time.Time) {
	t.Helper()
	loc := shanghai(t)
	notices, _ := calendar.Official()
	cal := calendar.New(notices...)
	sat := calendar.DateOf(time.Now().In(loc)).AddDays(1)
	for {
		if _, reason, _ := cal.Describe(sat); sat.Weekday() == 6 && reason == calendar.ReasonWeekend {
			return sat, sat.In(loc).Add(9*time.Hour + 5*time.Minute)
		}
		sat = sat.AddDays(1)
	}
}

// tab opens a new tab; its storage is the browser's, shared with the
// other tabs, as in one person's browser.
func (b *browser) tab() context.Context {
	c, _ := chromedp.NewContext(b.ctx)
	return c
}

// run does the actions in c, or fails the test with a screenshot.
func (b *browser) run(c context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(c, actions...); err != nil {
		if png, serr := chromedp.Run(c, chromedp.CaptureScreenshot()); serr == nil {
			os.WriteFile(filepath.Join(b.shots, "failed.png"), png, 0o644)
		}
		b.t.Fatalf("%s: %v (the page as it was: failed.png)", step, err)
	}
}

// text is the text of the first element sel finds.
func (b *browser) text(c context.Context, sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(c, chromedp.Text(css(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// eval is the value of a JavaScript expression in the page.
func eval[T any](b *browser, c context.Context, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// shot keeps a full-page screenshot under name, when screenshots are kept.
func (b *browser) shot(c context.Context, name string) {
	b.t.Helper()
	if !b.keep {
		return
	}
	b.run(c, "settle", chromedp.Sleep(300*time.Millisecond), chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	png, err := chromedp.Run(c, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// axe runs axe-core in the page (state names it) once its animations
// are over, and reports each serious or critical violation; the test goes
// on, to see them all.
// The engine is evaluated into the page through DevTools, which the
// pages' Content-Security-Policy does not govern.
func (b *browser) axe(c context.Context, state string) {
	b.t.Helper()
	if b.axeJS == "" {
		return
	}
	type violation struct {
		ID, Impact, Help string
		Nodes            int
		Targets          []string
		Summary          string
	}
	b.run(c, "animations end on "+state, poll(`document.getAnimations().every((a) => a.playState !== "running")`, 5*time.Second))
	if eval[bool](b, c, `typeof axe === "undefined"`) {
		b.run(c, "axe-core into "+state, chromedp.Evaluate[chromedp.Void](b.axeJS))
	}
	found, err := chromedp.Run(c, chromedp.Evaluate[[]violation](`(async () => {
		if (typeof axe === "undefined") throw new Error("axe-core did not load");
		const r = await axe.run(document, {resultTypes: ["violations"]});
		return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => ({
			ID: v.id, Impact: v.impact, Help: v.help, Nodes: v.nodes.length,
			Targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
			Summary: (v.nodes[0]?.failureSummary || "").replace(/\s+/g, " ")}));
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe-core on %s: %v", state, err)
	}
	for _, v := range found {
		b.t.Errorf("axe-core on %s: %s (%s): %s; %d element(s): %s; %s", state, v.ID, v.Impact, v.Help, v.Nodes, strings.Join(v.Targets, ", "), v.Summary)
	}
}

// login signs a staff user in on page.
func (b *browser) login(c context.Context, page, user, password string) {
	b.t.Helper()
	b.run(c, "log in to "+page, chromedp.Navigate(b.base+page), chromedp.WaitVisible(css("#username")))
	b.axe(c, "the login to "+page)
	b.run(c, "log in to "+page, fill("#username", user), fill("#password", password), press("#login"))
}

func poll(expr string, timeout time.Duration) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(20*time.Millisecond))
}

// press clicks a button once it is there, shown and enabled, in one step in
// the page: the pages re-render lists, so a node found first may be gone
// by the time a separate click arrives.
func press(sel string) chromedp.Action[chromedp.Void] {
	return poll(`(() => { const e = document.querySelector(`+quote(sel)+`); if (!e || e.disabled || e.offsetParent === null) return false; e.click(); return true })()`, 10*time.Second)
}

// fill sets an input's value once it is shown, as press clicks.
func fill(sel, value string) chromedp.Action[chromedp.Void] {
	return poll(`(() => { const e = document.querySelector(`+quote(sel)+`); if (!e || e.offsetParent === null) return false; e.value = `+quote(value)+`; e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); return true })()`, 10*time.Second)
}

// waitText waits until the element's text contains want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return poll(`(document.querySelector(`+quote(sel)+`)?.textContent || "").includes(`+quote(want)+`)`, 10*time.Second)
}

// english switches the page to English (the choice is kept in storage).
func english() chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`localStorage.setItem("lang", "en")`)
}

// noOverflow fails when anything on the page is wider than the window:
// the page would scroll sideways or cut text off.
func noOverflow() chromedp.Action[chromedp.Void] {
	return poll(`document.documentElement.scrollWidth <= window.innerWidth`, 2*time.Second)
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

func quote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
