package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestCounterDeskInABrowser is a clerk's morning at counter 1 on a
// weekday: the counter's state always shown, only the actions the ticket's
// state allows, a no-show and closing asking first (from the keyboard
// too), parking and resuming, calling a given number; then the desk's
// worklist and an application taken through acceptance, a checklist of
// missing materials, and a refusal with its legal basis, each with its
// printed document.
func TestCounterDeskInABrowser(t *testing.T) {
	sat, nine := nextSaturday(t)
	b := newBrowser(t, nine) // the Saturday window serves household services at counter 1
	_ = sat
	c := b.tab()
	b.login(c, "/counter", "li.wei", "demo-staff-pass")
	b.run(c, "the desk", chromedp.WaitVisible(css("#counter")), waitText("#who", "鼓楼派出所"), fill("#counter", "w1"),
		waitText("#counter-state", "未开启"), poll(`document.querySelector("#call-next").disabled`, 5*time.Second))

	// Three walk-ins from the kiosk.
	_, out := send(t, "POST", b.base+"/api/v1/auth/login", "", `{"username":"kiosk.gulou","password":"demo-kiosk-pass"}`)
	kiosk := out["token"].(string)
	var numbers []string
	for range 3 {
		resp, out := send(t, "POST", b.base+"/api/v1/stations/gulou/tickets", kiosk, `{"service_id":"birth"}`)
		if resp.StatusCode != 201 {
			t.Fatalf("walk-in: %d %v", resp.StatusCode, out)
		}
		numbers = append(numbers, out["number"].(string))
	}

	b.run(c, "open", press("#open"), waitText("#counter-state", "开启"), waitText("#lines", "出生登记"),
		press("#call-next"), waitText("#current", numbers[0]),
		poll(`document.querySelector("#call-next").disabled && !document.querySelector("#no-show").disabled`, 5*time.Second))
	// A no-show asks first, from the keyboard as from the button; going back keeps the ticket.
	b.run(c, "no-show asks", chromedp.KeyEvent("x"), waitText("#confirm-box", "确认 "+numbers[0]+" 号过号"),
		press("#confirm-no"), poll(`document.querySelector("#confirm-box").hidden`, time.Second), waitText("#current", numbers[0]))
	b.axe(c, "counter: a ticket called")
	// Park it, serve the next one, take it back.
	b.run(c, "park", press("#park"), waitText("#current", "—"), waitText("#parked", numbers[0]),
		fill("#call-number", numbers[2]), press("#call"), waitText("#current", numbers[2]),
		press("#start"), poll(`document.querySelector("#recall").disabled && !document.querySelector("#complete").disabled`, 5*time.Second),
		press("#complete"), waitText("#current", "—"),
		press("#parked .resume"), waitText("#current", numbers[0]), waitText("#current-info", "办理中"),
		press("#complete"), waitText("#current", "—"))
	// Closing asks first.
	b.run(c, "close asks", press("#close"), waitText("#confirm-box", "确认关闭窗口"), press("#confirm-no"), waitText("#counter-state", "开启"))

	// The desk: an application registered for the next ticket.
	b.run(c, "register", press("#call-next"), waitText("#current", numbers[1]),
		press("#no-show"), press("#confirm-yes"), waitText("#current", "—"), waitText("#msg", numbers[1]))
	_, out = send(t, "POST", b.base+"/api/v1/stations/gulou/tickets", kiosk, `{"service_id":"birth"}`)
	next, _ := out["number"].(string)
	b.run(c, "register", press("#call-next"), waitText("#current", next), press("#start"),
		fill("#app-name", "陈静"), fill("#app-id", "235407195106112745"), fill("#app-phone", "13912345678"), press("#submit-app"),
		poll(`document.querySelector("#app-status")?.dataset.status === "submitted"`, 10*time.Second))
	offered := func() string {
		return eval[string](b, c, `[...document.querySelectorAll("#app-actions button")].map((b) => b.id).join(" ")`)
	}
	if got := offered(); got != "accept" {
		t.Errorf("a submitted application offers %q, want accept only", got)
	}
	// Window.print is the browser's dialog: the test counts the calls.
	b.run(c, "accept", chromedp.Evaluate[chromedp.Void](`window.printed = 0; window.print = () => { window.printed++ }`),
		press("#accept"), poll(`document.querySelector("#app-status")?.dataset.status === "accepted"`, 10*time.Second))
	if got := offered(); got != "supplement-request approve reject print-receipt" {
		t.Errorf("an accepted application offers %q", got)
	}
	b.run(c, "receipt", press("#print-receipt"), waitText("#print-doc", "受理回执"), waitText("#print-doc", "出生登记"),
		waitText("#print-doc", "20个工作日"), poll(`window.printed === 1`, time.Second))
	// 一次性告知: ticked from the catalogue, with one more, recorded at once.
	b.run(c, "ask for materials", press("#supplement-request"), press("#missing-0"), press("#missing-2"), fill("#missing-other", "户口迁出证明"),
		press("#supplement-form-submit"), poll(`document.querySelector("#app-status")?.dataset.status === "supplement_requested"`, 10*time.Second),
		waitText("#app-view", "出生医学证明、结婚证、户口迁出证明"))
	if got := offered(); !strings.HasPrefix(got, "supplement reject") || strings.Contains(got, "accept") {
		t.Errorf("an application awaiting materials offers %q", got)
	}
	b.run(c, "notice", press("#print-notice"), waitText("#print-doc", "一次性告知书"), waitText("#print-doc", "户口迁出证明"))
	b.run(c, "refuse", press("#reject"), fill("#reject-reason", "出生医学证明与户口簿信息不一致"), fill("#reject-basis", "《中华人民共和国户口登记条例》第七条"),
		press("#reject-form-submit"), poll(`document.querySelector("#app-status")?.dataset.status === "rejected"`, 10*time.Second),
		press("#print-decision"), waitText("#print-doc", "不予许可决定书"), waitText("#print-doc", "第七条"), waitText("#print-doc", "行政复议"))
	if got := offered(); strings.Contains(got, "accept") || strings.Contains(got, "reject ") || strings.Contains(got, "approve") {
		t.Errorf("a refused application offers %q", got)
	}
	b.axe(c, "counter: a refused application")
	b.shot(c, "counter")

	// The worklist: the demo's application awaiting materials is there.
	b.run(c, "worklist", chromedp.SetValue(css("#work-state"), "supplement"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#work-state").dispatchEvent(new Event("change"))`),
		waitText("#worklist", "居住证申领"), press("#worklist .open-app"),
		poll(`document.querySelector("#app-status")?.dataset.status === "supplement_requested"`, 5*time.Second))
	b.run(c, "English", english(), chromedp.Reload(), waitText("#counter-state", "open"), waitText("#app-h", "Application"),
		waitText("#counter", "Counter 1"))
	b.axe(c, "counter in English")
}
