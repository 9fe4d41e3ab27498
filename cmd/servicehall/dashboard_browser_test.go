package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDashboardInABrowser reads the demo's figures as the station head and
// as the bureau: the period ends today, overdue work reads in working
// days, bars carry their values, the count basis can change, the bureau
// picks a station or sees them all, and either can log out.
func TestDashboardInABrowser(t *testing.T) {
	b := newBrowser(t, time.Time{})
	c := b.tab()
	b.login(c, "/dashboard", "zhao.lead", "demo-manager-pass")
	b.run(c, "the head's dashboard", chromedp.WaitVisible(css("#kpi-completion")),
		poll(`document.querySelector("#kpi-completion").textContent.endsWith("%")`, 10*time.Second),
		waitText("#who", "鼓楼派出所"), waitText("#sla", "逾期"), waitText("#chart-service", "%"),
		// The residence permit counts calendar days, and says so.
		poll(`[...document.querySelectorAll("#sla tr")].some((r) => r.textContent.includes("居住证") && /剩余 \d+ 天/.test(r.textContent))`, 5*time.Second),
		// The queue shown is the last working day's, which the demo filled.
		poll(`Number(document.querySelector("#queue td")?.textContent) > 0`, 5*time.Second))
	if to, today := eval[string](b, c, `document.querySelector("#to").value`), eval[string](b, c, `new Intl.DateTimeFormat("en-CA", {timeZone: "Asia/Shanghai"}).format(new Date())`); to != today {
		t.Errorf("the period ends %s, want today %s", to, today)
	}
	if eval[bool](b, c, `/(^|\s)-\d/.test(document.querySelector("#sla").textContent)`) {
		t.Errorf("the SLA list shows negative days: %s", b.text(c, "#sla"))
	}
	if !eval[bool](b, c, `/逾期 \d+ 个工作日/.test(document.querySelector("#sla").textContent)`) {
		t.Errorf("no overdue application reads in working days: %s", b.text(c, "#sla"))
	}
	// The hour charts, the rating spread and the per-counter and per-clerk tables.
	b.run(c, "charts", poll(`document.querySelectorAll("#chart-tickets rect").length > 0`, 5*time.Second),
		poll(`document.querySelectorAll("#chart-hour rect").length > 0`, 5*time.Second),
		waitText("#chart-ratings", "2 星"), waitText("#people table[data-kind=counter]", "1号窗口"), waitText("#people table[data-kind=clerk]", "li.wei"))
	// The demo's bad rating, carried through verify, rectify and the follow-up.
	row := `#remediations tr:has(td)`
	b.run(c, "bad rating", waitText("#remediations", "等待时间过长"), waitText(row, "待核实"),
		fill(row+" .note", "调取监控，属实"), press(row+` .remedy[data-step="verify"]`), waitText(row, "已核实"),
		fill(row+" .note", "高峰时段增开窗口"), press(row+` .remedy[data-step="rectify"]`), waitText(row, "已整改"),
		fill(row+" .note", "电话回访，群众满意"), press(row+` .remedy[data-step="reply"]`), waitText("#bad-msg", "回访"),
		poll(`!document.querySelector("#remediations").textContent.includes("等待时间过长")`, 5*time.Second))
	// The export downloads a workbook.
	b.run(c, "export", chromedp.Evaluate[chromedp.Void](`window.downloaded = ""; HTMLAnchorElement.prototype.click = function () { window.downloaded = this.download + " " + this.href }`),
		press("#export"), poll(`window.downloaded.includes(".xlsx blob:")`, 5*time.Second))
	b.axe(c, "dashboard: station head")
	b.run(c, "count by conclusion", chromedp.SetValue(css("#basis"), "completed"), press("#refresh"),
		poll(`document.querySelector("#kpi-completion").textContent !== ""`, 5*time.Second),
		poll(`document.querySelector("#msg").textContent === ""`, 5*time.Second))
	b.shot(c, "dashboard")
	b.run(c, "log out", press("#logout"), chromedp.WaitVisible(css("#username")))

	b.login(c, "/dashboard", "chen.bureau", "demo-bureau-pass")
	b.run(c, "the bureau's dashboard", chromedp.WaitVisible(css("#station-pick")), waitText("#station-pick", "全部派出所"),
		poll(`!document.querySelector("#station-card").hidden`, 10*time.Second), waitText("#chart-station", "鼓楼派出所"),
		waitText("#who", "分局"))
	b.axe(c, "dashboard: bureau")
	b.run(c, "one station", chromedp.SetValue(css("#station-pick"), "gulou"), press("#refresh"),
		poll(`document.querySelector("#station-card").hidden`, 5*time.Second))
	b.run(c, "English", english(), chromedp.Reload(), waitText("#station-pick", "Gulou Police Station"), waitText("h1", "Manager dashboard"))
	b.axe(c, "dashboard in English")
}
