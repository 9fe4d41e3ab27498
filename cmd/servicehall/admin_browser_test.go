package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAdminInABrowser is the admin's console on the demo: the service
// guide with materials, limits, fees and legal basis, a service edited;
// a station's weekend window changed, its slots previewed before saving
// and the hours saved; the year's holiday notice imported and shown, and
// a year without one marked provisional; a user created, disabled after
// a confirmation, enabled, given a new password they then log in with; a
// job run and a projection rebuilt after a confirmation; the history of
// these changes with the admin as actor; in English and on a phone.
func TestAdminInABrowser(t *testing.T) {
	sat, _ := nextSaturday(t)
	b := newBrowser(t, time.Time{})
	c := b.tab()
	b.login(c, "/admin", "admin", "demo-admin-pass")
	birth := `#guide-list li[data-id="birth"]`
	b.run(c, "the service guide", chromedp.WaitVisible(css("#guide-list")), waitText(birth, "出生登记"), waitText(birth, "出生医学证明"),
		waitText(birth, "承诺 20 个工作日"), waitText(birth, "仅窗口办理"), waitText(birth, "户口登记条例》第七条"),
		waitText(`#guide-list li[data-id="idcard"]`, "法定 60 日（自然日）"), waitText(`#guide-list li[data-id="idcard"]`, "40元"),
		waitText(`#guide-list li[data-id="transfer"]`, "网上申请或窗口办理"), waitText("#who", "admin"))
	b.axe(c, "admin: the console")

	b.run(c, "edit a service", press(`.edit[data-id="birth"]`), poll(`document.querySelector("#svc-id").value === "birth"`, time.Second),
		fill("#svc-fee", "不收费"), press("#svc-save"), waitText("#svc-msg", "已保存"), waitText(birth, "不收费"))

	// Hours: the Saturday window to 11:00 with five places, previewed
	// before it is saved.
	weekend := `#hours-weekend .hours-row:first-of-type `
	b.run(c, "preview hours", fill("#station", "gulou"), waitText("#hours-weekend-now", "周六 09:00–12:00"),
		fill(weekend+".h-end", "11:00"), fill(weekend+".h-cap", "5"), fill("#preview-date", sat.String()), press("#preview"),
		waitText("#preview-day", "周六，周末"), waitText("#preview-out", "10:30–11:00"), waitText("#preview-out", "预览，尚未保存"))
	if got := b.text(c, "#preview-out"); strings.Contains(got, "11:00–11:30") || !strings.Contains(got, "出生登记") {
		t.Errorf("the preview: %s", got)
	}
	if got := eval[string](b, c, `document.querySelector("#preview-out tbody tr td:nth-child(3)").textContent`); got != "5" {
		t.Errorf("the previewed places: %q, want 5", got)
	}
	var st struct {
		Weekend []struct {
			End      string
			Capacity int
		} `json:"weekend_windows"`
	}
	getJSON(t, b.base+"/api/v1/stations/gulou", nil, &st)
	if len(st.Weekend) != 1 || st.Weekend[0].End != "12:00" {
		t.Fatalf("the preview saved the hours: %+v", st)
	}
	b.axe(c, "admin: hours previewed")
	b.run(c, "save hours", press("#hours-save"), waitText("#hours-msg", "已保存"), waitText("#hours-weekend-now", "周六 09:00–11:00"))
	getJSON(t, b.base+"/api/v1/stations/gulou", nil, &st)
	if len(st.Weekend) != 1 || st.Weekend[0].End != "11:00" || st.Weekend[0].Capacity != 5 {
		t.Errorf("the saved hours: %+v", st)
	}
	// A preview of a weekday shows the weekly hours, walk-in places apart.
	b.run(c, "preview a weekday", fill("#preview-date", sat.AddDays(2).String()), press("#preview"), waitText("#preview-day", "周一"),
		waitText("#preview-out", "09:00–09:30"), waitText("#preview-out", "13:30–14:00"))

	// The holiday notice, as the State Council published it.
	notice, err := filepath.Abs("../../domain/calendar/official/2026.json")
	if err != nil {
		t.Fatal(err)
	}
	b.run(c, "import the calendar", chromedp.SetUploadFiles(css("#cal-file"), []string{notice}), press("#cal-import"),
		waitText("#cal-msg", "已导入 2026 年放假安排"), waitText("#cal-holidays", "国庆节 2026-10-01 – 2026-10-07（7 天）"),
		waitText("#cal-holidays", "春节"), waitText("#cal-makeup", "2026-10-10 周六（国庆节）"), waitText("#cal-standing", "已按 2026 年官方放假安排"))
	b.run(c, "a year with no notice", fill("#cal-year", "2028"), press("#cal-show"), waitText("#cal-standing", "暂定"),
		waitText("#cal-holidays", "节假日（暂定）"))

	// A user: created, disabled after a confirmation, enabled, a new password.
	login := func(user, password string) int {
		resp, _ := send(t, "POST", b.base+"/api/v1/auth/login", "", `{"username":"`+user+`","password":"`+password+`"}`)
		return resp.StatusCode
	}
	row := `#users-list tr[data-user="zhang.san"]`
	b.run(c, "create a user", fill("#u-name", "zhang.san"), fill("#u-pass", "Zs-counter-pass-42"), fill("#u-role", "staff"), fill("#u-station", "gulou"),
		press("#u-save"), waitText("#u-msg", "已添加用户 zhang.san"), waitText(row, "窗口人员"), waitText(row+" .state", "正常"))
	if got := login("zhang.san", "Zs-counter-pass-42"); got != 200 {
		t.Fatalf("the new user logs in: %d", got)
	}
	b.run(c, "disable asks", press(`.disable[data-user="zhang.san"]`), waitText("#confirm-text", "确认停用 zhang.san"))
	b.axe(c, "admin: disabling asks")
	b.run(c, "not yet", press("#confirm-no"), poll(`document.querySelector("#confirm-box").hidden`, time.Second), waitText(row+" .state", "正常"))
	b.run(c, "disable", press(`.disable[data-user="zhang.san"]`), press("#confirm-yes"), waitText(row+" .state", "已停用"),
		waitText("#users-msg", "已停用 zhang.san"))
	if got := login("zhang.san", "Zs-counter-pass-42"); got != 401 {
		t.Errorf("a disabled user logs in: %d", got)
	}
	b.run(c, "enable and reset", press(`.enable[data-user="zhang.san"]`), waitText(row+" .state", "正常"),
		press(`.reset[data-user="zhang.san"]`), fill("#reset-pass", "123"), press("#reset-save"), waitText("#users-msg", "密码至少10个字符"),
		fill("#reset-pass", "Fresh-counter-pass-77"), press("#reset-save"), waitText("#users-msg", "已重设 zhang.san 的密码"))
	if old, fresh := login("zhang.san", "Zs-counter-pass-42"), login("zhang.san", "Fresh-counter-pass-77"); old != 401 || fresh != 200 {
		t.Errorf("after the reset: the old password %d (want 401), the new one %d (want 200)", old, fresh)
	}

	// Jobs and projections.
	job := `#jobs-list tr[data-job="close-day"]`
	b.run(c, "run a job", press(`.run[data-job="close-day"]`), waitText("#jobs-msg", "close-day 已运行"),
		poll(`!/未运行/.test(document.querySelector(`+quote(job+" .last-run")+`).textContent)`, 5*time.Second))
	b.run(c, "rebuild asks", press(`.rebuild[data-name="config"]`), waitText("#confirm-text", "确认重建投影 config"), press("#confirm-yes"),
		waitText("#proj-msg", "已开始重建 config"), waitText(`#proj-list tr[data-name="config"] .state`, "正常"))

	// The history: the latest first, each with the admin as actor.
	b.run(c, "history", press("#history-refresh"), waitText("#history-list", "重设用户 zhang.san 的密码"))
	rows := eval[[]string](b, c, `[...document.querySelectorAll("#history-list tbody tr")].map((r) => r.cells[1].textContent + " | " + r.cells[2].textContent)`)
	var mine []string
	for _, r := range rows {
		if strings.Contains(r, "zhang.san") || strings.Contains(r, "设置办公时间") || strings.Contains(r, "定义业务「出生登记」") {
			mine = append(mine, r)
		}
	}
	want := []string{"admin | 重设用户 zhang.san 的密码", "admin | 启用用户 zhang.san", "admin | 停用用户 zhang.san", "admin | 新增用户 zhang.san（窗口人员, gulou）",
		"admin | 鼓楼派出所：设置办公时间，每周 10 段、周末窗口 1 段", "admin | 定义业务「出生登记」（birth），承诺时限 20 个工作日"}
	if len(mine) < len(want) || strings.Join(mine[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Errorf("the history:\n%s\nwant first:\n%s", strings.Join(mine, "\n"), strings.Join(want, "\n"))
	}
	b.axe(c, "admin: after the changes")
	b.shot(c, "admin")

	// In English.
	b.run(c, "english", english(), chromedp.Reload(), waitText("#guide-h", "Service guide"), waitText(birth, "Birth registration"),
		waitText(birth, "promised 20 working days; legal 20 working days"), waitText(birth, "Medical birth certificate"),
		waitText("#history-list", "Reset the password of zhang.san"), waitText("#history-list", "Disabled user zhang.san"),
		waitText(row+" .state", "active"), waitText("#cal-standing", "By the official"))
	b.run(c, "an error in English", fill("#u-name", "Bad Name"), fill("#u-pass", "Zs-counter-pass-42"), press("#u-save"),
		waitText("#u-msg", "lower-case letters"))
	if got := b.text(c, "#u-msg"); strings.ContainsAny(got, "用户名格式") {
		t.Errorf("an English error in Chinese: %s", got)
	}
	b.axe(c, "admin: in English")

	// On a phone, in large text too.
	b.run(c, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)), noOverflow(),
		press("#big-text"), noOverflow())
	b.shot(c, "admin-phone")
}
