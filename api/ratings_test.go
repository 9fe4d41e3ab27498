package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/servicehall/servicehall/api"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/internal/apitest"
)

// A working day at gulou, on the server's clock: a resident's appointment
// and a walk-in are served at w1 by two clerks and rated, one from the
// resident's phone and one at the kiosk; the bad rating is remedied and
// the visit rated again; an application is rated 1 then 5 and counts once.
func TestRatingsOverHTTP(t *testing.T) {
	t.Parallel()
	loc := shanghai(t)
	ns, err := calendar.Official()
	if err != nil {
		t.Fatal(err)
	}
	official := calendar.New(ns...)
	day := calendar.DateOf(time.Now().In(loc)).AddDays(1) // after every login's creation
	for !official.IsWorkingDay(day) {
		day = day.AddDays(1)
	}
	c := &clock{now: day.In(loc).Add(8 * time.Hour)}
	base, _ := start(t, api.Config{Now: c.Now, DemoOTP: true})
	_, out := send(t, "POST", base+"/auth/login", "", `{"username":"admin","password":"admin-pass-1"}`)
	var week []string
	for wd := 1; wd <= 5; wd++ {
		week = append(week, fmt.Sprintf(`{"weekday":%d,"start":"09:00","end":"11:00","service_ids":["birth"],"slot_minutes":60,"capacity":2}`, wd))
	}
	apitest.SetUp(t, base, out["token"].(string),
		call{"POST", "/services", `{"id":"birth","name":"Birth registration","name_zh":"出生登记","category":"household","time_limit_days":20,"online":false,"materials":[]}`},
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		call{"POST", "/stations", `{"id":"xicheng","name":"西城派出所"}`},
		call{"POST", "/stations/gulou/counters", `{"id":"w1","name":"1号窗口","service_ids":["birth"]}`},
		call{"PUT", "/stations/gulou/hours", `{"weekly":[` + strings.Join(week, ",") + `],"weekend_windows":[]}`},
		call{"POST", "/users", `{"username":"li.wei","password":"counter-pass-1","role":"staff","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"wang.fang","password":"counter-pass-2","role":"staff","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"zhao.lead","password":"manager-pass-1","role":"manager","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"kiosk.gulou","password":"kiosk-pass-1","role":"kiosk","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"kiosk.xicheng","password":"kiosk-pass-2","role":"kiosk","station_id":"xicheng"}`},
		call{"POST", "/users", `{"username":"wang.lead","password":"manager-pass-2","role":"manager","station_id":"xicheng"}`},
	)
	login := func(u, p string) string {
		t.Helper()
		resp, out := send(t, "POST", base+"/auth/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, u, p))
		if resp.StatusCode != 200 {
			t.Fatalf("login %s: %d %v", u, resp.StatusCode, out)
		}
		return out["token"].(string)
	}
	li, wang, lead, kiosk := login("li.wei", "counter-pass-1"), login("wang.fang", "counter-pass-2"), login("zhao.lead", "manager-pass-1"), login("kiosk.gulou", "kiosk-pass-1")
	otherKiosk, otherLead := login("kiosk.xicheng", "kiosk-pass-2"), login("wang.lead", "manager-pass-2")
	zhang, liSi := residentLogin(t, base, "13812345678"), residentLogin(t, base, "13912345678")

	// Each write at its minute; each read after the writes before it.
	pos := "0"
	do := func(clock, method, path, token, body string, want int) map[string]any {
		t.Helper()
		at, _ := time.ParseInLocation("15:04", clock, loc)
		c.mu.Lock()
		c.now = day.In(loc).Add(time.Duration(at.Hour())*time.Hour + time.Duration(at.Minute())*time.Minute)
		c.mu.Unlock()
		resp, out := sendWith(t, method, base+path, token, body, map[string]string{"X-Min-Position": pos})
		if resp.StatusCode != want {
			t.Fatalf("%s %s %s: %d %v, want %d", clock, method, path, resp.StatusCode, out, want)
		}
		if p := resp.Header.Get("X-Position"); p != "" && resp.StatusCode < 300 {
			pos = p
		}
		return out
	}
	get := func(path, token string, want int, into any) {
		t.Helper()
		if resp := getJSONAuth(t, base+path, token, map[string]string{"X-Min-Position": pos}, into); resp.StatusCode != want {
			t.Fatalf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}

	appt := do("08:00", "POST", "/appointments", zhang, fmt.Sprintf(`{"station_id":"gulou","service_id":"birth","date":%q,"start":"09:00","resident":{"name":"张三","id_number":"33050219880702447X","phone":"13812345678"}}`, day), 201)["id"].(string)
	booked := do("09:00", "POST", "/appointments/"+appt+"/check-in", kiosk, "", 200)["ticket"].(map[string]any)["id"].(string)
	walkIn := do("09:01", "POST", "/stations/gulou/tickets", kiosk, `{"service_id":"birth"}`, 201)["id"].(string)
	do("09:02", "POST", "/counters/w1/open", li, `{"service_ids":["birth"]}`, 204)
	do("09:03", "POST", "/counters/w1/call-next", li, "", 200) // the appointment, in its slot, first
	do("09:15", "POST", "/counters/w1/complete", li, "", 200)
	do("09:16", "POST", "/counters/w1/call-next", wang, "", 200) // another clerk takes the counter
	// Not served yet: nothing to rate.
	do("09:17", "POST", "/tickets/"+walkIn+"/rate", kiosk, `{"score":5}`, 409)
	do("09:30", "POST", "/counters/w1/complete", wang, "", 200)

	// Who may rate: the appointment's resident, and the station's kiosk.
	do("09:31", "POST", "/tickets/"+booked+"/rate", liSi, `{"score":5}`, 404)       // another resident
	do("09:31", "POST", "/tickets/"+walkIn+"/rate", zhang, `{"score":5}`, 404)      // a walk-in holds no resident's appointment
	do("09:31", "POST", "/tickets/"+walkIn+"/rate", otherKiosk, `{"score":5}`, 404) // another station's kiosk
	do("09:31", "POST", "/tickets/"+walkIn+"/rate", li, `{"score":5}`, 403)         // the staff
	do("09:31", "POST", "/tickets/nope/rate", kiosk, `{"score":5}`, 404)
	if out := do("09:31", "POST", "/tickets/"+walkIn+"/rate", kiosk, `{"score":3,"attitude":6}`, 422); !names(out, "attitude") {
		t.Fatalf("a dimension out of range: %v", out)
	}
	do("09:31", "POST", "/tickets/"+walkIn+"/rate", kiosk, `{"score":3,"mood":2}`, 422) // no such dimension
	out = do("09:32", "POST", "/tickets/"+booked+"/rate", zhang, `{"score":5,"attitude":5,"efficiency":4,"competence":5,"comment":"很快"}`, 200)
	if out["score"].(float64) != 5 || out["round"].(float64) != 1 || out["remediation_due"] != nil {
		t.Fatalf("a good rating: %v", out)
	}
	do("09:33", "POST", "/tickets/"+booked+"/rate", zhang, `{"score":4}`, 409) // rated
	var deadline map[string]string
	getJSON(t, fmt.Sprintf("%s/calendar/deadline?accepted=%s&working_days=15", base, day), nil, &deadline)
	out = do("09:35", "POST", "/tickets/"+walkIn+"/rate", kiosk, `{"score":2,"efficiency":1,"comment":"等太久"}`, 200)
	if out["remediation_due"] != deadline["deadline"] || out["remediation_step"] != "opened" {
		t.Fatalf("a bad rating: %v, want a remediation due %s", out, deadline["deadline"])
	}

	// The ratings are filed under the clerk who completed each ticket.
	var tk struct {
		State  string `json:"state"`
		Rating struct {
			Staff       string `json:"staff"`
			Counter     string `json:"counter_id"`
			Score       int    `json:"score"`
			Efficiency  int    `json:"efficiency"`
			Round       int    `json:"round"`
			RatedBy     string `json:"rated_by_role"`
			Owner       string `json:"owner"`
			Remediation *struct {
				Due      string `json:"due"`
				Step     string `json:"step"`
				State    string `json:"state"`
				DaysLeft *int   `json:"working_days_left"`
				Closed   bool   `json:"closed"`
				FollowUp *struct {
					By   string `json:"by"`
					Note string `json:"note"`
				} `json:"follow_up"`
			} `json:"remediation"`
		} `json:"rating"`
	}
	get("/tickets/"+booked, zhang, 200, &tk)
	if tk.State != "done" || tk.Rating.Staff != "li.wei" || tk.Rating.Score != 5 || tk.Rating.RatedBy != "resident" || tk.Rating.Owner != "" || tk.Rating.Remediation != nil {
		t.Fatalf("the appointment's ticket: %+v", tk)
	}
	get("/tickets/"+walkIn, zhang, 404, nil)
	get("/tickets/"+walkIn, otherLead, 404, nil)
	get("/tickets/"+walkIn, li, 200, &tk)
	if r := tk.Rating; r.Staff != "wang.fang" || r.Counter != "w1" || r.Efficiency != 1 || r.RatedBy != "kiosk" || r.Remediation == nil ||
		r.Remediation.Due != deadline["deadline"] || r.Remediation.State != "on_track" || *r.Remediation.DaysLeft != 15 {
		t.Fatalf("the walk-in's rating: %+v %+v", tk.Rating, tk.Rating.Remediation)
	}

	// The managers' list of remediations.
	var rows []map[string]any
	get("/remediations", lead, 200, &rows)
	if len(rows) != 1 || rows[0]["kind"] != "ticket" || rows[0]["id"] != walkIn || rows[0]["staff"] != "wang.fang" || rows[0]["state"] != "on_track" {
		t.Fatalf("open remediations: %v", rows)
	}
	get("/remediations?state=overdue", lead, 200, &rows)
	if len(rows) != 0 {
		t.Fatalf("overdue remediations: %v", rows)
	}
	get("/remediations?state=late", lead, 422, nil)
	get("/remediations?station_id=gulou", otherLead, 404, nil)
	get("/remediations", li, 403, nil)
	get("/remediations?station_id=xicheng", otherLead, 200, &rows)
	if len(rows) != 0 {
		t.Fatalf("xicheng's remediations: %v", rows)
	}

	// Verify, rectify, then the follow-up closes it; the visit is rated again.
	do("10:00", "POST", "/tickets/"+walkIn+"/remediation/reply", lead, `{"note":"x"}`, 409) // verify first
	do("10:00", "POST", "/tickets/"+walkIn+"/remediation/verify", li, `{"note":""}`, 422)
	do("10:00", "POST", "/tickets/"+walkIn+"/remediation/verify", otherLead, `{"note":"x"}`, 404)
	do("10:00", "POST", "/tickets/"+walkIn+"/remediation/verify", li, `{"note":"监控核实，等候40分钟"}`, 200)
	do("10:05", "POST", "/tickets/"+walkIn+"/remediation/rectify", lead, `{"note":"高峰时段增开窗口"}`, 200)
	do("10:10", "POST", "/tickets/"+walkIn+"/rate", kiosk, `{"score":4}`, 409) // not followed up yet
	if out := do("10:20", "POST", "/tickets/"+walkIn+"/remediation/reply", lead, `{"note":"电话回访，群众表示理解"}`, 200); out["remediation_step"] != "reply" {
		t.Fatalf("the follow-up: %v", out)
	}
	if out := do("10:30", "POST", "/tickets/"+walkIn+"/rate", kiosk, `{"score":4}`, 200); out["round"].(float64) != 2 || out["remediation_due"] != nil {
		t.Fatalf("the second rating: %v", out)
	}
	get("/tickets/"+walkIn, lead, 200, &tk)
	if r := tk.Rating; r.Score != 4 || r.Round != 2 || r.Remediation == nil || !r.Remediation.Closed || r.Remediation.State != "closed" ||
		r.Remediation.FollowUp == nil || r.Remediation.FollowUp.By != "zhao.lead" || r.Remediation.FollowUp.Note != "电话回访，群众表示理解" {
		t.Fatalf("after the follow-up and the second rating: %+v %+v", tk.Rating, tk.Rating.Remediation)
	}
	get("/remediations", lead, 200, &rows)
	if len(rows) != 0 {
		t.Fatalf("open remediations after the follow-up: %v", rows)
	}
	get("/remediations?state=closed", lead, 200, &rows)
	if len(rows) != 1 || rows[0]["state"] != "closed" {
		t.Fatalf("closed remediations: %v", rows)
	}

	// The spread of the day's ratings: each visit's latest, by clerk.
	var spread struct {
		Ratings int   `json:"ratings"`
		ByScore []int `json:"by_score"`
		Bad     int   `json:"bad"`
		ByStaff []struct {
			Staff   string  `json:"staff"`
			Ratings int     `json:"ratings"`
			Average float64 `json:"average"`
		} `json:"by_staff"`
	}
	get("/stats/ratings?from="+day.String()+"&to="+day.String(), lead, 200, &spread)
	if spread.Ratings != 2 || fmt.Sprint(spread.ByScore) != "[0 0 0 1 1]" || spread.Bad != 0 || len(spread.ByStaff) != 2 {
		t.Fatalf("the day's ratings: %+v", spread)
	}
	// The same figures, and the queue's by hour, as an Excel workbook.
	req, _ := http.NewRequest("GET", base+"/stats/export?from="+day.String()+"&to="+day.String(), nil)
	req.Header.Set("Authorization", "Bearer "+lead)
	req.Header.Set("X-Min-Position", pos)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("export: %v %v", resp, err)
	}
	book, err := excelize.OpenReader(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("the export is no workbook: %v", err)
	}
	if sheets := book.GetSheetList(); len(sheets) != 8 || sheets[0] != "办结率-业务 by service" {
		t.Errorf("the workbook's sheets: %q", sheets)
	}
	if stars, _ := book.GetCellValue("评价 Ratings", "B6"); stars != "1" { // one 5
		t.Errorf("5 stars: %q", stars)
	}
	if hour, _ := book.GetCellValue("排队-小时 by hour", "A2"); hour != "09" {
		t.Errorf("the first hour of tickets: %q", hour)
	}
	if counter, _ := book.GetCellValue("排队-窗口 by counter", "A2"); counter != "1号窗口" { // by name, not w1
		t.Errorf("the first counter: %q", counter)
	}
	get("/stats/export?from="+day.String()+"&to="+day.String()+"&basis=soon", lead, 422, nil)
	get("/stats/ratings?station_id=gulou&from="+day.String()+"&to="+day.String(), otherLead, 404, nil)
	get("/stats/ratings?from="+day.String()+"&to="+day.String(), li, 403, nil)

	// The audit trail of the visit's rating says what each step said.
	var trail []struct {
		Type   string         `json:"type"`
		Actor  string         `json:"actor"`
		Detail map[string]any `json:"detail"`
	}
	get("/audit?stream=rating-"+walkIn, lead, 200, &trail)
	if len(trail) != 6 || trail[0].Type != "TicketRated" || trail[0].Actor != "kiosk.gulou" || trail[0].Detail["staff"] != "wang.fang" ||
		trail[0].Detail["efficiency"] != 1.0 || trail[1].Detail["due"] != deadline["deadline"] || trail[4].Detail["note"] != "电话回访，群众表示理解" {
		t.Fatalf("the audit of the visit's rating: %+v", trail)
	}

	// An application accepted by li.wei and approved by the manager, rated
	// 1 by its resident, remedied and rated 5: one rating of 5.
	app := do("11:00", "POST", "/applications", li, `{"station_id":"gulou","service_id":"birth","channel":"counter","ticket_id":"`+booked+`","applicant":{"name":"张三","id_number":"33050219880702447X","phone":"13812345678"}}`, 201)["id"].(string)
	do("11:01", "POST", "/applications/"+app+"/accept", li, "", 200)
	do("11:02", "POST", "/applications/"+app+"/approve", lead, `{"note":"同意"}`, 200)
	do("11:03", "POST", "/applications/"+app+"/complete", wang, "", 200)
	do("11:04", "POST", "/applications/"+app+"/rate", zhang, `{"score":1,"attitude":1,"comment":"态度差"}`, 200)
	var a struct {
		Rating struct {
			Staff       string `json:"staff"`
			DecidedBy   string `json:"decided_by"`
			Score       int    `json:"score"`
			Attitude    int    `json:"attitude"`
			Remediation struct {
				Due   string `json:"due"`
				State string `json:"state"`
			} `json:"remediation"`
		} `json:"rating"`
	}
	get("/applications/"+app, zhang, 200, &a)
	if r := a.Rating; r.Staff != "li.wei" || r.DecidedBy != "zhao.lead" || r.Score != 1 || r.Attitude != 1 || r.Remediation.Due != deadline["deadline"] || r.Remediation.State != "on_track" {
		t.Fatalf("the application's rating: %+v", a.Rating)
	}
	get("/remediations", lead, 200, &rows)
	if len(rows) != 1 || rows[0]["kind"] != "application" || rows[0]["staff"] != "li.wei" {
		t.Fatalf("open remediations: %v", rows)
	}
	for _, step := range []string{"verify", "rectify", "reply"} {
		do("11:10", "POST", "/applications/"+app+"/remediation/"+step, lead, `{"note":"已回访"}`, 200)
	}
	do("11:20", "POST", "/applications/"+app+"/rate", zhang, `{"score":5}`, 200)
	var rates []map[string]any
	get(fmt.Sprintf("/stats/completion?station_id=gulou&from=%s&to=%s&by=month", day, day.AddDays(90)), lead, 200, &rates)
	if len(rates) != 1 || rates[0]["ratings"].(float64) != 1 || rates[0]["score_sum"].(float64) != 5 || rates[0]["satisfaction"].(float64) != 5 {
		t.Fatalf("a rating of 1 then 5 in the month's figures: %v", rates)
	}
}

// names says whether a problem document names field among its errors.
func names(problem map[string]any, field string) bool {
	errs, _ := problem["errors"].([]any)
	for _, e := range errs {
		if m, _ := e.(map[string]any); m["field"] == field {
			return true
		}
	}
	return false
}
