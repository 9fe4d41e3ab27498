package api_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/servicehall/servicehall/api"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/domain/estimate"
	"github.com/servicehall/servicehall/internal/apitest"
)

// A morning at one counter, on the server's clock: the back-test of its
// wait estimates pairs what each ticket was told with the wait that
// followed, for the station's managers and the bureau's only.
func TestEstimatesAgainstTheWaitsThatFollowed(t *testing.T) {
	t.Parallel()
	loc := shanghai(t)
	day := calendar.DateOf(time.Now().In(loc)).AddDays(1) // after every login's creation
	c := &clock{now: day.In(loc).Add(9 * time.Hour)}
	base, _ := start(t, api.Config{Now: c.Now, DemoOTP: true})
	_, out := send(t, "POST", base+"/auth/login", "", `{"username":"admin","password":"admin-pass-1"}`)
	apitest.SetUp(t, base, out["token"].(string),
		call{"POST", "/services", `{"id":"birth","name":"Birth registration","name_zh":"出生登记","category":"household","time_limit_days":20,"online":false,"materials":[]}`},
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		call{"POST", "/stations", `{"id":"xicheng","name":"西城派出所"}`},
		call{"POST", "/stations/gulou/counters", `{"id":"w1","name":"1号窗口","service_ids":["birth"]}`},
		call{"POST", "/users", `{"username":"li.wei","password":"counter-pass-1","role":"staff","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"zhao.lead","password":"manager-pass-1","role":"manager","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"wang.lead","password":"manager-pass-2","role":"manager","station_id":"xicheng"}`},
		call{"POST", "/users", `{"username":"chen.bureau","password":"bureau-pass-1","role":"manager"}`},
	)
	login := func(u, p string) string {
		t.Helper()
		resp, out := send(t, "POST", base+"/auth/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, u, p))
		if resp.StatusCode != 200 {
			t.Fatalf("login %s: %d %v", u, resp.StatusCode, out)
		}
		return out["token"].(string)
	}
	staff, lead, other, bureau := login("li.wei", "counter-pass-1"), login("zhao.lead", "manager-pass-1"),
		login("wang.lead", "manager-pass-2"), login("chen.bureau", "bureau-pass-1")

	// Each step at its minute, once the views hold the step before: the
	// estimate a ticket is told reads them.
	pos := "0"
	step := func(clock, path, body string) map[string]any {
		t.Helper()
		at, _ := time.ParseInLocation("15:04", clock, loc)
		c.mu.Lock()
		c.now = day.In(loc).Add(time.Duration(at.Hour())*time.Hour + time.Duration(at.Minute())*time.Minute)
		c.mu.Unlock()
		resp, out := sendWith(t, "POST", base+path, staff, body, map[string]string{"X-Min-Position": pos})
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", clock, path, resp.StatusCode, out)
		}
		pos = resp.Header.Get("X-Position")
		return out
	}
	issue := func(clock string) int {
		t.Helper()
		return int(step(clock, "/stations/gulou/tickets", `{"service_id":"birth"}`)["estimated_wait_minutes"].(float64))
	}
	told := make([]int, 4)
	told[0] = issue("09:00") // nobody ahead
	told[1] = issue("09:01") // one ahead, no counter open, nothing served
	step("09:02", "/counters/w1/open", `{"service_ids":["birth"]}`)
	step("09:02", "/counters/w1/call-next", "") // the first waited 2 minutes
	told[2] = issue("09:05")                    // one ahead, the counter busy
	step("09:12", "/counters/w1/complete", "")  // a birth takes 10
	told[3] = issue("09:13")                    // two ahead, the counter free
	step("09:14", "/counters/w1/call-next", "") // the second waited 13
	step("09:20", "/counters/w1/complete", "")
	step("09:21", "/counters/w1/call-next", "") // the third 16
	step("09:25", "/counters/w1/complete", "")
	step("09:26", "/counters/w1/call-next", "") // the fourth 13
	issue("09:27")                              // never called

	// What the events imply: each ticket's state at issue, the estimator
	// in use on it, against its wait.
	e := estimate.InUse()
	states := []estimate.State{
		{Service: "birth"},
		{Service: "birth", Ahead: 1},
		{Service: "birth", Ahead: 1, Counters: 1, Busy: 1},
		{Service: "birth", Ahead: 2, Counters: 1, Mean: 10},
	}
	waited := []float64{2, 13, 16, 13}
	var sum, worst float64
	for i, st := range states {
		want := estimate.Tell(e.Estimator, st)
		if told[i] != want {
			t.Errorf("ticket %d was told %d minutes, the back-test says %d", i+1, told[i], want)
		}
		sum += math.Abs(float64(want) - waited[i])
		worst = max(worst, math.Abs(float64(want)-waited[i]))
	}
	mae := math.Round(sum/4*100) / 100

	var got map[string]any
	url := fmt.Sprintf("%s/stats/estimates?station_id=gulou&from=%s&to=%s", base, day.AddDays(-3), day)
	if resp := apitest.GetAuth(t, url, lead, map[string]string{"X-Min-Position": pos}, &got); resp.StatusCode != 200 {
		t.Fatalf("estimates: %d %v", resp.StatusCode, got)
	}
	if got["n"] != 4.0 || got["uncalled"] != 1.0 || got["mae_minutes"] != mae || got["p90_abs_error_minutes"] != worst || got["estimator"] != e.Name {
		t.Errorf("estimates %v, want n 4, 1 uncalled, MAE %v, p90 %v by %s", got, mae, worst, e.Name)
	}
	// The bureau reads the same; the station's manager by default.
	for _, tc := range []struct{ who, token, url string }{
		{"the bureau", bureau, url},
		{"gulou's manager, no station named", lead, fmt.Sprintf("%s/stats/estimates?from=%s&to=%s", base, day, day)},
	} {
		var again map[string]any
		if apitest.GetAuth(t, tc.url, tc.token, nil, &again); again["n"] != 4.0 || again["mae_minutes"] != mae {
			t.Errorf("%s reads %v", tc.who, again)
		}
	}
	// A day without a queue has nothing to tell.
	var none map[string]any
	if apitest.GetAuth(t, fmt.Sprintf("%s/stats/estimates?station_id=gulou&from=%s&to=%s", base, day.AddDays(-1), day.AddDays(-1)), lead, nil, &none); none["n"] != 0.0 {
		t.Errorf("a day without tickets: %v", none)
	}

	// Another station's manager may not read them, nor may staff.
	for _, tc := range []struct {
		who, token string
		want       int
	}{{"xicheng's manager", other, 404}, {"gulou's staff", staff, 403}} {
		if resp, out := send(t, "GET", url, tc.token, ""); resp.StatusCode != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.who, resp.StatusCode, out, tc.want)
		}
	}
	// Bad spans are refused with the field they are about.
	for _, tc := range []struct{ query, field string }{
		{fmt.Sprintf("station_id=gulou&from=%s&to=%s", day, day.AddDays(-1)), "to"},
		{fmt.Sprintf("station_id=gulou&from=%s&to=%s", day.AddDays(-367), day), "to"},
		{fmt.Sprintf("station_id=gulou&from=2025-02-30&to=%s", day), "from"},
		{fmt.Sprintf("station_id=gulou&from=%s", day), "to"},
	} {
		resp, out := send(t, "GET", base+"/stats/estimates?"+tc.query, lead, "")
		errs, _ := out["errors"].([]any)
		if resp.StatusCode != 422 || resp.Header.Get("Content-Type") != "application/problem+json" || len(errs) == 0 || errs[0].(map[string]any)["field"] != tc.field {
			t.Errorf("%s: %d %s %v, want 422 about %s", tc.query, resp.StatusCode, resp.Header.Get("Content-Type"), out, tc.field)
		}
	}
	if resp, out := send(t, "GET", fmt.Sprintf("%s/stats/estimates?from=%s&to=%s", base, day, day), bureau, ""); resp.StatusCode != 422 {
		t.Errorf("the bureau without a station: %d %v, want 422", resp.StatusCode, out)
	}
}
