package main

import (
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestResidentInABrowser drives the resident's page as a person would, on a
// Saturday at 10:05 (the server's clock): the guide and calendar, a refused
// and a good booking, the confirmation, rescheduling and cancelling, an
// online application the desk asks materials for and refuses, another
// withdrawn; then the same page in English, at phone width and in large
// text. axe-core checks each state.
func TestResidentInABrowser(t *testing.T) {
	sat, nine := nextSaturday(t)
	b := newBrowser(t, nine.Add(time.Hour)) // the 09:00 and 09:30 slots are over
	c := b.tab()
	day := `button.day[data-date="` + sat.String() + `"]`
	b.run(c, "the guide", chromedp.Navigate(b.base+"/?service=birth"), chromedp.WaitVisible(css(day)),
		waitText("#weekdays", "一二三四五六日"), waitText("#station-info", "中山路 1 号"), waitText("#station-info", "六 09:00–12:00"),
		waitText("#service-info", "20个工作日"), waitText("#service-info", "出生医学证明"),
		waitText("#book-why", "请先在上方选择日期和时段"))
	if col := eval[int](b, c, `[...document.querySelectorAll("#days > *")].findIndex((e) => e.dataset.date === '`+sat.String()+`') % 7`); col != 5 {
		t.Errorf("Saturday is in column %d of the week, want 5 (Monday first)", col)
	}
	b.run(c, "a day", press(day), poll(`document.querySelectorAll("#slots button").length > 0`, 5*time.Second))
	if past := eval[int](b, c, `document.querySelectorAll('#slots button[data-start="09:00"], #slots button[data-start="09:30"]').length`); past != 0 {
		t.Errorf("%d slots that are over are offered at 10:05", past)
	}

	b.run(c, "log in", fill("#phone", "13912345678"), press("#send-code"), press("#verify"), waitText("#login-msg", "✓"),
		waitText("#book-why", "请先在上方选择日期和时段"), press(`#slots button[data-start="10:30"]`),
		poll(`document.querySelector("#book-why").textContent === ""`, 5*time.Second))

	// A wrong check digit: the error says so in Chinese, by the field's label.
	b.run(c, "a refused booking", fill("#name", "陈静"), fill("#id-number", "235407195106112746"), fill("#book-phone", "13912345678"),
		press("#book"), waitText("#book-msg", "身份证号"))
	if msg := b.text(c, "#book-msg"); !regexp.MustCompile(`校验码`).MatchString(msg) || regexp.MustCompile(`[A-Za-z]{3,}`).MatchString(msg) {
		t.Errorf("the refusal reads %q: want the check digit named, in Chinese only", msg)
	}
	// The refusal reads again in English once the page is.
	b.run(c, "the refusal in English", press("#lang"), waitText("#book-msg", "ID number: the check digit is wrong"), press("#lang"), waitText("#book-msg", "校验码"))
	// Booked with a double click: one booking, no refusal after it.
	b.run(c, "book", fill("#id-number", "235407195106112745"),
		chromedp.Evaluate[chromedp.Void](`(() => { const b = document.querySelector("#book"); b.click(); b.click() })()`), waitText("#book-msg", "预约成功"),
		poll(`!document.querySelector("#book-msg").classList.contains("error")`, time.Second),
		poll(`document.querySelector("#confirmation img")?.naturalWidth > 0`, 5*time.Second),
		waitText("#confirmation", "鼓楼派出所"), waitText("#confirmation", "中山路 1 号"), waitText("#confirmation", "出生医学证明"),
		waitText("#confirmation", "09:00–12:00"), waitText("#confirmation", "签到"), waitText("#confirmation", "加入日历"))
	if code := b.text(c, "#confirmation .checkin-code"); !regexp.MustCompile(`^[34679ACDEFHJKMNPRTUVWXY]{6}$`).MatchString(code) {
		t.Errorf("check-in code %q", code)
	}
	b.axe(c, "resident: booked")

	b.run(c, "still one booking", chromedp.Sleep(500*time.Millisecond), waitText("#book-msg", "预约成功"))
	if n := eval[int](b, c, `document.querySelectorAll("#appointments li").length`); n != 1 {
		t.Errorf("a double click made %d bookings", n)
	}
	// Rescheduling waits for a new time of the same service, and says so.
	item := `#appointments li`
	b.run(c, "another service", chromedp.SetValue(css("#service"), "transfer"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#service").dispatchEvent(new Event("change"))`),
		press(day), press(`#slots button[data-start="11:00"]`), waitText(item, "改约须为同一业务和派出所"),
		poll(`document.querySelector("#appointments .move").disabled`, 5*time.Second),
		chromedp.SetValue(css("#service"), "birth"), chromedp.Evaluate[chromedp.Void](`document.querySelector("#service").dispatchEvent(new Event("change"))`))
	b.run(c, "reschedule", waitText(item, "10:30–11:00"), poll(`document.querySelector("#appointments .move").disabled`, 5*time.Second),
		waitText(item, "先在日历中选择新时段"), press(day), press(`#slots button[data-start="11:00"]`),
		press("#appointments .move"), waitText("#mine-msg", "已改约到"), waitText(item, "11:00–11:30"),
		// The confirmation of the old time goes.
		poll(`document.querySelector("#confirmation").hidden`, 2*time.Second),
		press("#appointments .show"), poll(`document.querySelector("#appointments .confirmation img")?.naturalWidth > 0`, 5*time.Second))
	// Cancelling asks first; keeping it keeps it.
	b.run(c, "cancel", press("#appointments .cancel"), waitText(item, "确认取消这次预约"), press("#appointments .no"),
		poll(`!document.querySelector("#appointments .yes")`, time.Second), waitText(item, "已预约"),
		press("#appointments .cancel"), press("#appointments .yes"), waitText("#mine-msg", "预约已取消"), waitText(item, "已取消"))

	// An online application; the desk asks for materials, then refuses it.
	apply := func(step string) {
		b.run(c, step, press("#online-box summary"), fill("#online-name", "陈静"), fill("#online-id", "235407195106112745"),
			fill("#online-phone", "13912345678"), press("#submit-online"), waitText("#online-msg", "申请已提交"))
	}
	b.run(c, "an online service", chromedp.Navigate(b.base+"/?service=transfer"), chromedp.WaitVisible(css("#online-box summary")))
	apply("apply online")
	b.run(c, "submitted", waitText("#applications", "已提交"))
	resident := eval[string](b, c, `localStorage.getItem("token.resident")`)
	var apps []map[string]any
	getJSONAuth(t, b.base+"/api/v1/me/applications", resident, nil, &apps)
	if len(apps) != 1 {
		t.Fatalf("my applications: %v", apps)
	}
	id := apps[0]["id"].(string)
	_, out := send(t, "POST", b.base+"/api/v1/auth/login", "", `{"username":"li.wei","password":"demo-staff-pass"}`)
	staff := out["token"].(string)
	app := `#applications li[data-id="` + id + `"]`
	for _, step := range []struct{ path, body string }{{"accept", ""}, {"request-supplement", `{"missing":["居民户口簿","准迁证"]}`}} {
		if resp, out := send(t, "POST", b.base+"/api/v1/applications/"+id+"/"+step.path, staff, step.body); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", step.path, resp.StatusCode, out)
		}
		if step.path == "accept" { // the days left, as the server counts them on the official calendar
			b.run(c, "accepted", chromedp.Reload(), waitText(app, "已受理"), waitText(app+" .deadline", "剩余 20 个工作日"))
		}
	}
	b.run(c, "materials awaited", chromedp.Reload(), waitText(app, "待补正"), waitText(app+" .missing", "准迁证"),
		waitText(app+" .missing", "补齐后剩余"), waitText(app+" .history", "一次性告知补正"), waitText(app+" .history", "已受理"))
	if raw := eval[bool](b, c, `document.querySelector('`+app+` .history').textContent.includes("Supplement")`); raw {
		t.Error("the history shows event names")
	}
	for _, step := range []struct{ path, body string }{{"supplement", ""}, {"reject", `{"reason":"准迁证已过期"}`}} {
		if resp, out := send(t, "POST", b.base+"/api/v1/applications/"+id+"/"+step.path, staff, step.body); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", step.path, resp.StatusCode, out)
		}
	}
	b.run(c, "refused", chromedp.Reload(), waitText(app, "不予办理"), waitText(app+" .reason", "准迁证已过期"))
	apply("apply again")
	b.run(c, "withdraw", waitText("#applications", "已提交"), press("#applications .withdraw"), waitText("#applications", "确认撤回"),
		press("#applications .yes"), waitText("#apps-msg", "申请已撤回"), waitText("#applications", "已撤回"))
	b.axe(c, "resident: applications")
	b.shot(c, "resident-applications")

	// English: every name from the catalogue's English fields.
	b.run(c, "English", english(), chromedp.Reload(), waitText("#weekdays", "MonTue"), waitText("#station", "Gulou Police Station"),
		waitText("#service-info", "Permit to move in"), waitText("#service-info", "20 working days"),
		waitText(app, "Why it was refused"), waitText(app+" .history", "materials requested"), waitText("#appointments", "cancelled"))
	b.axe(c, "resident in English")

	// A phone: nothing wider than the screen, in either language.
	b.run(c, "phone, English", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)), chromedp.Reload(),
		chromedp.WaitVisible(css(day)), waitText("#applications", "withdrawn"), noOverflow(),
		poll(`[...document.querySelectorAll("#days .day")].every((b) => b.scrollWidth <= b.clientWidth)`, 2*time.Second))
	b.axe(c, "resident on a phone, in English")
	b.run(c, "phone, Chinese", chromedp.Evaluate[chromedp.Void](`localStorage.setItem("lang", "zh")`), chromedp.Reload(),
		chromedp.WaitVisible(css(day)), waitText("#applications", "已撤回"), noOverflow(),
		// Each day's button holds its date on one line, unclipped.
		poll(`[...document.querySelectorAll("#days .day")].every((b) => b.scrollWidth <= b.clientWidth)`, 2*time.Second))

	// Large text (适老化) stays on.
	b.run(c, "large text", press("#big-text"), chromedp.Reload(), chromedp.WaitVisible(css(day)),
		poll(`document.documentElement.classList.contains("big")`, 2*time.Second), noOverflow(),
		poll(`[...document.querySelectorAll("#days .day")].every((b) => b.scrollWidth <= b.clientWidth)`, 2*time.Second))
	b.axe(c, "resident in large text on a phone")
}
