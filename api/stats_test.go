package api_test

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/servicehall/servicehall/api"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/internal/apitest"
)

// A week at two stations on the server's clock: applications approved,
// refused, withdrawn and decided late on day A; a morning's queue with an
// appointment kept and one cancelled too late on day B. The managers' figures
// count them by each parameter of stats/completion and stats/queue, as
// they stand now and as they stood (as_of, a date or an instant); bad
// parameters are 422, another station's figures 404 (as its objects are).
func TestManagersFigures(t *testing.T) {
	t.Parallel()
	loc := shanghai(t)
	c := &clock{now: calendar.DateOf(time.Now().In(loc)).AddDays(1).In(loc).Add(7 * time.Hour)}
	base, _ := start(t, api.Config{Now: c.Now, DemoOTP: true})
	// A and B: the first two working days in a row from tomorrow.
	var cal struct {
		Days []struct {
			Date    calendar.Date `json:"date"`
			Working bool          `json:"working"`
		} `json:"days"`
	}
	from := calendar.DateOf(c.Now().In(loc))
	getJSON(t, fmt.Sprintf("%s/calendar/working-days?from=%s&to=%s", base, from, from.AddDays(30)), nil, &cal)
	var dayA, dayB calendar.Date
	for i := 0; i+1 < len(cal.Days) && dayA.IsZero(); i++ {
		if cal.Days[i].Working && cal.Days[i+1].Working {
			dayA, dayB = cal.Days[i].Date, cal.Days[i+1].Date
		}
	}
	if dayA.IsZero() {
		t.Fatal("no two working days in a row within a month")
	}
	set := func(d calendar.Date, clock string) {
		at, _ := time.ParseInLocation("15:04", clock, loc)
		c.mu.Lock()
		c.now = d.In(loc).Add(time.Duration(at.Hour())*time.Hour + time.Duration(at.Minute())*time.Minute)
		c.mu.Unlock()
	}
	set(dayA, "07:00")
	_, out := send(t, "POST", base+"/auth/login", "", `{"username":"admin","password":"admin-pass-1"}`)
	var weekly []string
	for wd := 1; wd <= 5; wd++ {
		weekly = append(weekly, fmt.Sprintf(`{"weekday":%d,"start":"11:00","end":"12:00","service_ids":["birth"],"slot_minutes":60,"capacity":5}`, wd))
	}
	apitest.SetUp(t, base, out["token"].(string),
		call{"POST", "/services", `{"id":"birth","name":"Birth registration","name_zh":"出生登记","category":"household","time_limit_days":5,"online":false,"materials":[]}`},
		call{"POST", "/services", `{"id":"permit","name":"Residence permit","name_zh":"居住证申领","category":"license","time_limit_days":3,"online":true,"materials":[]}`},
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		call{"POST", "/stations", `{"id":"xicheng","name":"西城派出所"}`},
		call{"POST", "/stations/gulou/counters", `{"id":"w1","name":"1号窗口","service_ids":["birth","permit"]}`},
		call{"POST", "/stations/gulou/counters", `{"id":"w2","name":"2号窗口","service_ids":["birth","permit"]}`},
		call{"POST", "/stations/xicheng/counters", `{"id":"w1","name":"1号窗口","service_ids":["birth"]}`},
		call{"PUT", "/stations/gulou/hours", `{"weekly":[` + join(weekly) + `],"weekend_windows":[]}`},
		call{"POST", "/users", `{"username":"li.wei","password":"counter-pass-1","role":"staff","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"sun.li","password":"counter-pass-3","role":"staff","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"zhao.lead","password":"manager-pass-1","role":"manager","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"wang.xc","password":"counter-pass-2","role":"staff","station_id":"xicheng"}`},
		call{"POST", "/users", `{"username":"wang.lead","password":"manager-pass-2","role":"manager","station_id":"xicheng"}`},
		call{"POST", "/users", `{"username":"chen.bureau","password":"bureau-pass-1","role":"manager"}`},
	)
	tokens := map[string]string{}
	passwords := map[string]string{"li.wei": "counter-pass-1", "sun.li": "counter-pass-3", "zhao.lead": "manager-pass-1", "wang.xc": "counter-pass-2",
		"wang.lead": "manager-pass-2", "chen.bureau": "bureau-pass-1"}
	login := func() { // tokens last 12 hours: once a day of the story
		for u, p := range passwords {
			resp, out := send(t, "POST", base+"/auth/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, u, p))
			if resp.StatusCode != 200 {
				t.Fatalf("login %s: %d %v", u, resp.StatusCode, out)
			}
			tokens[u] = out["token"].(string)
		}
	}
	login()
	pos := "0"
	do := func(who, method, path, body string) map[string]any {
		t.Helper()
		resp, out := sendWith(t, method, base+path, tokens[who], body, map[string]string{"X-Min-Position": pos})
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s as %s: %d %v", method, path, who, resp.StatusCode, out)
		}
		if p := resp.Header.Get("X-Position"); p != "" {
			pos = p
		}
		return out
	}
	apply := func(who, station, service, ticket string) string {
		t.Helper()
		body := fmt.Sprintf(`{"station_id":%q,"service_id":%q,"channel":"counter","ticket_id":%q,"applicant":{"name":"张三","id_number":"33050219880702447X","phone":"13812345678"}}`, station, service, ticket)
		return do(who, "POST", "/applications", body)["id"].(string)
	}

	// Day A. A walk-in at gulou is called to w1 and applies there (g1);
	// g2, g3 and g4 are applied for at the desk without a ticket; x1 at
	// xicheng.
	set(dayA, "08:00")
	do("li.wei", "POST", "/counters/w1/open", `{"service_ids":["birth","permit"]}`)
	do("wang.xc", "POST", "/counters/w1/open", `{"service_ids":["birth"]}`)
	set(dayA, "09:00")
	t0 := do("li.wei", "POST", "/stations/gulou/tickets", `{"service_id":"birth"}`)["id"].(string)
	do("wang.xc", "POST", "/stations/xicheng/tickets", `{"service_id":"birth"}`)
	set(dayA, "09:01")
	do("li.wei", "POST", "/counters/w1/call-next", "") // t0 waited 1 minute
	set(dayA, "09:03")
	do("wang.xc", "POST", "/counters/w1/call-next", "") // xicheng's waited 3
	set(dayA, "09:05")
	g1, g2, g3, g4 := apply("li.wei", "gulou", "birth", t0), apply("li.wei", "gulou", "birth", ""), apply("zhao.lead", "gulou", "birth", ""), apply("li.wei", "gulou", "permit", "")
	x1 := apply("wang.xc", "xicheng", "birth", "")
	set(dayA, "09:10")
	for app, clerk := range map[string]string{g1: "li.wei", g2: "li.wei", g3: "zhao.lead", g4: "li.wei", x1: "wang.xc"} {
		do(clerk, "POST", "/applications/"+app+"/accept", "")
	}
	var a4 map[string]any
	getJSONAuth(t, base+"/applications/"+g4, tokens["li.wei"], map[string]string{"X-Min-Position": pos}, &a4)
	deadline4, err := calendar.ParseDate(fmt.Sprint(a4["deadline"]))
	if err != nil {
		t.Fatalf("g4: %v (%v)", a4, err)
	}
	set(dayA, "10:00")
	do("zhao.lead", "POST", "/applications/"+g1+"/approve", `{"note":"材料齐全"}`)
	do("li.wei", "POST", "/applications/"+g1+"/complete", "")
	do("zhao.lead", "POST", "/applications/"+g2+"/reject", `{"reason":"不符合登记条件"}`)
	do("zhao.lead", "POST", "/applications/"+g3+"/withdraw", `{"reason":"申请人书面申请撤回"}`)
	do("wang.lead", "POST", "/applications/"+x1+"/approve", `{"note":"材料齐全"}`)
	// A resident books day B's 11:00 slot; another too.
	booked := map[string]string{}
	for _, p := range []struct{ phone, name, id string }{{"13812345678", "张三", "33050219880702447X"}, {"13912345678", "李四", "11010519491231002X"}} {
		r := residentLogin(t, base, p.phone)
		resp, out := send(t, "POST", base+"/appointments", r, fmt.Sprintf(`{"station_id":"gulou","service_id":"birth","date":%q,"start":"11:00","resident":{"name":%q,"id_number":%q,"phone":%q}}`, dayB, p.name, p.id, p.phone))
		if resp.StatusCode != 201 {
			t.Fatalf("book day B: %d %v", resp.StatusCode, out)
		}
		booked[p.phone] = out["id"].(string)
	}

	// Day B at gulou: li.wei at w1, sun.li at w2.
	set(dayB, "08:00")
	login()
	do("li.wei", "POST", "/counters/w1/open", `{"service_ids":["birth","permit"]}`)
	do("sun.li", "POST", "/counters/w2/open", `{"service_ids":["birth","permit"]}`)
	set(dayB, "09:00")
	do("li.wei", "POST", "/stations/gulou/tickets", `{"service_id":"birth"}`)
	do("li.wei", "POST", "/stations/gulou/tickets", `{"service_id":"birth"}`)
	set(dayB, "09:02")
	do("li.wei", "POST", "/counters/w1/call-next", "") // waited 2
	set(dayB, "09:05")
	do("sun.li", "POST", "/counters/w2/call-next", "") // waited 5
	set(dayB, "09:20")
	do("li.wei", "POST", "/counters/w1/complete", "") // served 18
	set(dayB, "09:25")
	do("sun.li", "POST", "/counters/w2/complete", "") // served 20
	set(dayB, "09:30")
	do("li.wei", "POST", "/stations/gulou/tickets", `{"service_id":"birth"}`) // never called
	set(dayB, "10:40")
	do("li.wei", "POST", "/appointments/"+booked["13812345678"]+"/check-in", "")
	set(dayB, "10:50")
	do("li.wei", "POST", "/counters/w1/call-next", "") // the appointment first: waited 10
	set(dayB, "11:00")
	do("li.wei", "POST", "/counters/w1/complete", "") // served 10
	set(dayB, "11:05")
	if resp, out := send(t, "POST", base+"/appointments/"+booked["13912345678"]+"/cancel", residentLogin(t, base, "13912345678"), ""); resp.StatusCode != 200 {
		t.Fatalf("late cancellation: %d %v", resp.StatusCode, out)
	} else {
		pos = resp.Header.Get("X-Position")
	}

	// The day after g4's deadline: approved late.
	set(deadline4.AddDays(1), "10:00")
	login()
	do("zhao.lead", "POST", "/applications/"+g4+"/approve", `{"note":"材料齐全"}`)

	read := func(who, query string, into any) {
		t.Helper()
		if resp := getJSONAuth(t, base+query, tokens[who], map[string]string{"X-Min-Position": pos}, into); resp.StatusCode != 200 {
			t.Fatalf("GET %s as %s: %d %v", query, who, resp.StatusCode, into)
		}
	}
	type rate struct {
		Key                                             string
		Rank, Due, Completed, OnTime, Overdue, Approved int
		Rejected, Withdrawn                             int
		CompletionRate, OnTimeRate, ApprovalRate        float64
	}
	rates := func(who, query string) []rate {
		t.Helper()
		var rows []map[string]any
		read(who, query, &rows)
		var out []rate
		for _, r := range rows {
			n := func(k string) int { v, _ := r[k].(float64); return int(v) }
			f := func(k string) float64 { v, _ := r[k].(float64); return v }
			out = append(out, rate{r["key"].(string), n("rank"), n("due"), n("completed"), n("completed_on_time"), n("overdue"), n("approved"),
				n("rejected"), n("withdrawn"), f("completion_rate"), f("on_time_rate"), f("approval_rate")})
		}
		return out
	}
	month := fmt.Sprintf("from=%s&to=%s", dayA, dayA.AddDays(30))
	for _, tc := range []struct {
		name, who, query string
		want             []rate
	}{
		{"by service: a refusal concludes, a withdrawal counts in no rate", "zhao.lead", "/stats/completion?by=service&" + month,
			[]rate{{"birth", 0, 2, 2, 2, 0, 1, 1, 1, 1, 1, 0.5}, {"permit", 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1}}},
		{"by clerk: who accepted", "zhao.lead", "/stats/completion?station_id=gulou&by=clerk&" + month,
			[]rate{{"li.wei", 0, 3, 3, 2, 1, 2, 1, 0, 1, 0.6667, 0.6667}, {"zhao.lead", 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}}},
		{"by counter: the ticket's", "zhao.lead", "/stats/completion?by=counter&" + month,
			[]rate{{"none", 0, 2, 2, 1, 1, 1, 1, 1, 1, 0.5, 0.5}, {"w1", 0, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1}}},
		{"basis completed: day A's conclusions", "zhao.lead", fmt.Sprintf("/stats/completion?basis=completed&by=day&from=%s&to=%s", dayA, dayA),
			[]rate{{dayA.String(), 0, 2, 2, 2, 0, 1, 1, 1, 1, 1, 0.5}}},
		{"basis accepted: day A's acceptances", "zhao.lead", fmt.Sprintf("/stats/completion?basis=accepted&by=month&from=%s&to=%s", dayA, dayA),
			[]rate{{dayA.String()[:7], 0, 3, 3, 2, 1, 2, 1, 1, 1, 0.6667, 0.6667}}},
		{"the bureau ranks its stations", "chen.bureau", "/stats/completion?by=station&" + month,
			[]rate{{"xicheng", 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1}, {"gulou", 2, 3, 3, 2, 1, 2, 1, 1, 1, 0.6667, 0.6667}}},
		{"the bureau's totals over every station", "chen.bureau", "/stats/completion?by=service&" + month,
			[]rate{{"birth", 0, 3, 3, 3, 0, 2, 1, 1, 1, 1, 0.6667}, {"permit", 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1}}},
		{"a station's manager ranks their own station only", "zhao.lead", "/stats/completion?by=station&" + month,
			[]rate{{"gulou", 1, 3, 3, 2, 1, 2, 1, 1, 1, 0.6667, 0.6667}}},
		{"as of the end of day A: g4 open", "zhao.lead", fmt.Sprintf("/stats/completion?by=service&as_of=%s&%s", dayA, month),
			[]rate{{"birth", 0, 2, 2, 2, 0, 1, 1, 1, 1, 1, 0.5}, {"permit", 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}}},
		{"as of an instant: accepted, nothing decided", "zhao.lead", fmt.Sprintf("/stats/completion?by=service&as_of=%s&%s", url.QueryEscape(dayA.In(loc).Add(9*time.Hour+30*time.Minute).Format(time.RFC3339)), month),
			[]rate{{"birth", 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {"permit", 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}}},
	} {
		got := rates(tc.who, tc.query)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}

	// The queue: day B alone, then days A and B, and as it stood at 09:10
	// on day B.
	type queue struct {
		Tickets, Served, NoShows               int
		AvgWait, P50, P90, AvgService          float64
		Appointments, AppointmentNoShows, Late int
		NoShowRate                             *float64
		Rows                                   []map[string]any
	}
	stats := func(who, query string) queue {
		t.Helper()
		var raw map[string]any
		read(who, query, &raw)
		n := func(k string) int { v, _ := raw[k].(float64); return int(v) }
		f := func(k string) float64 { v, _ := raw[k].(float64); return v }
		q := queue{n("tickets"), n("served"), n("no_shows"), f("avg_wait_minutes"), f("p50_wait_minutes"), f("p90_wait_minutes"), f("avg_service_minutes"),
			n("appointments"), n("appointment_no_shows"), n("late_cancellations"), nil, nil}
		if r, ok := raw["appointment_no_show_rate"].(float64); ok {
			q.NoShowRate = &r
		}
		if rows, ok := raw["rows"].([]any); ok {
			for _, r := range rows {
				q.Rows = append(q.Rows, r.(map[string]any))
			}
		}
		return q
	}
	dayBq := stats("zhao.lead", "/stats/queue?date="+dayB.String())
	if want := (queue{4, 3, 0, 5.7, 5, 10, 16, 2, 1, 1, nil, nil}); dayBq.NoShowRate == nil || *dayBq.NoShowRate != 0.5 || fmt.Sprint(dayBq.Tickets, dayBq.Served, dayBq.NoShows, dayBq.AvgWait, dayBq.P50, dayBq.P90, dayBq.AvgService, dayBq.Appointments, dayBq.AppointmentNoShows, dayBq.Late) !=
		fmt.Sprint(want.Tickets, want.Served, want.NoShows, want.AvgWait, want.P50, want.P90, want.AvgService, want.Appointments, want.AppointmentNoShows, want.Late) {
		t.Errorf("day B at gulou: %+v (no-show rate %v)", dayBq, dayBq.NoShowRate)
	}
	both := stats("zhao.lead", fmt.Sprintf("/stats/queue?from=%s&to=%s&by=clerk", dayA, dayB))
	if both.Tickets != 5 || both.AvgWait != 4.5 || both.P50 != 2 || both.P90 != 10 || len(both.Rows) != 3 {
		t.Errorf("days A and B at gulou: %+v", both)
	}
	for i, want := range []struct {
		key      string
		tickets  int
		avg, p90 float64
	}{{"li.wei", 3, 4.3, 10}, {"none", 1, 0, 0}, {"sun.li", 1, 5, 5}} {
		if i >= len(both.Rows) {
			break
		}
		r := both.Rows[i]
		if r["key"] != want.key || r["tickets"] != float64(want.tickets) || r["avg_wait_minutes"] != want.avg || r["p90_wait_minutes"] != want.p90 || r["appointments"] != nil {
			t.Errorf("by clerk, row %d: %v, want %+v and no appointments", i, r, want)
		}
	}
	byCounter := stats("zhao.lead", fmt.Sprintf("/stats/queue?station_id=gulou&date=%s&by=counter", dayB))
	if len(byCounter.Rows) != 3 || byCounter.Rows[0]["key"] != "none" || byCounter.Rows[1]["key"] != "w1" || byCounter.Rows[1]["served"] != 2.0 || byCounter.Rows[2]["key"] != "w2" {
		t.Errorf("day B by counter: %v", byCounter.Rows)
	}
	byService := stats("zhao.lead", fmt.Sprintf("/stats/queue?date=%s&by=service", dayB))
	if len(byService.Rows) != 1 || byService.Rows[0]["key"] != "birth" || byService.Rows[0]["appointment_no_show_rate"] != 0.5 {
		t.Errorf("day B by service: %v", byService.Rows)
	}
	ranked := stats("chen.bureau", fmt.Sprintf("/stats/queue?from=%s&to=%s&by=station", dayA, dayB))
	if ranked.Tickets != 6 || len(ranked.Rows) != 2 || ranked.Rows[0]["key"] != "xicheng" || ranked.Rows[0]["rank"] != 1.0 || ranked.Rows[1]["key"] != "gulou" || ranked.Rows[1]["rank"] != 2.0 {
		t.Errorf("the bureau's stations by wait: %+v", ranked)
	}
	early := stats("zhao.lead", fmt.Sprintf("/stats/queue?date=%s&as_of=%s", dayB, url.QueryEscape(dayB.In(loc).Add(9*time.Hour+10*time.Minute).Format(time.RFC3339))))
	if early.Tickets != 2 || early.Served != 0 || early.AvgWait != 3.5 || early.Appointments != 2 || early.AppointmentNoShows != 0 {
		t.Errorf("day B as of 09:10: %+v", early)
	}

	// One application as it stood: g1 at 09:30 on day A was accepted, its
	// deadline counted from then; before it was submitted, it was not.
	var then map[string]any
	read("zhao.lead", "/applications/"+g1+"?as_of="+url.QueryEscape(dayA.In(loc).Add(9*time.Hour+30*time.Minute).Format(time.RFC3339)), &then)
	if then["status"] != "accepted" || len(then["history"].([]any)) != 2 || then["deadline"] == nil {
		t.Errorf("g1 as of 09:30 on day A: %v", then)
	}
	read("zhao.lead", "/applications/"+g1+"?as_of="+dayA.String(), &then)
	if then["status"] != "completed" {
		t.Errorf("g1 as of the end of day A: %v", then)
	}
	if resp, out := send(t, "GET", base+"/applications/"+g1+"?as_of="+url.QueryEscape(dayA.In(loc).Add(8*time.Hour).Format(time.RFC3339)), tokens["zhao.lead"], ""); resp.StatusCode != 404 {
		t.Errorf("g1 before it was submitted: %d %v", resp.StatusCode, out)
	}
	var sla []map[string]any
	read("zhao.lead", "/sla?as_of="+url.QueryEscape(dayA.In(loc).Add(9*time.Hour+30*time.Minute).Format(time.RFC3339)), &sla)
	if len(sla) != 4 {
		t.Errorf("the SLA list at 09:30 on day A: %v, want gulou's four open", sla)
	}
	read("zhao.lead", "/sla", &sla)
	if len(sla) != 0 {
		t.Errorf("the SLA list now: %v, want none open", sla)
	}

	// Bad parameters name their field; another station's figures are refused.
	future := url.QueryEscape(c.Now().Add(time.Hour).Format(time.RFC3339))
	for _, tc := range []struct{ query, field string }{
		{"/stats/completion?by=week&" + month, "by"},
		{"/stats/completion?basis=submitted&" + month, "basis"},
		{"/stats/completion?as_of=yesterday&" + month, "as_of"},
		{"/stats/completion?as_of=" + future + "&" + month, "as_of"},
		{"/stats/queue?by=window&date=" + dayB.String(), "by"},
		{fmt.Sprintf("/stats/queue?date=%s&from=%s&to=%s", dayB, dayA, dayB), "date"},
		{"/stats/queue", "date"},
		{fmt.Sprintf("/stats/queue?from=%s&to=%s", dayB, dayA), "to"},
		{"/sla?as_of=2025-02-30", "as_of"},
		{"/applications/" + g1 + "?as_of=" + future, "as_of"},
	} {
		resp, out := send(t, "GET", base+tc.query, tokens["zhao.lead"], "")
		errs, _ := out["errors"].([]any)
		if resp.StatusCode != 422 || resp.Header.Get("Content-Type") != "application/problem+json" || len(errs) == 0 || errs[0].(map[string]any)["field"] != tc.field {
			t.Errorf("GET %s: %d %v, want 422 about %s", tc.query, resp.StatusCode, out, tc.field)
		}
	}
	for _, q := range []string{"/stats/completion?station_id=gulou&" + month, fmt.Sprintf("/stats/queue?station_id=gulou&from=%s&to=%s&by=clerk", dayA, dayB)} {
		if resp, out := send(t, "GET", base+q, tokens["wang.lead"], ""); resp.StatusCode != 404 {
			t.Errorf("GET %s as xicheng's manager: %d %v, want 404", q, resp.StatusCode, out)
		}
		if resp, _ := send(t, "GET", base+q, tokens["li.wei"], ""); resp.StatusCode != 403 {
			t.Errorf("GET %s as staff: %d, want 403", q, resp.StatusCode)
		}
	}
}

func join(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += ","
		}
		out += p
	}
	return out
}
