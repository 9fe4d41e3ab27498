package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/servicehall/servicehall/domain/calendar"
)

func TestClosureCancelsTheDaysBookings(t *testing.T) {
	t.Parallel()
	api, admin, stop := configured(t, 21,
		call{"POST", "/services", `{"id":"birth","name":"Birth registration","name_zh":"出生登记","category":"household","time_limit_days":20,"online":false,"materials":[]}`},
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		call{"POST", "/stations", `{"id":"xicheng","name":"西城派出所"}`},
		call{"POST", "/users", `{"username":"lead.gulou","password":"manager-pass-1","role":"manager","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"lead.xicheng","password":"manager-pass-2","role":"manager","station_id":"xicheng"}`},
		call{"POST", "/users", `{"username":"desk.gulou","password":"counter-pass-3","role":"staff","station_id":"gulou"}`},
		call{"PUT", "/stations/gulou/hours", `{"weekly":[],"weekend_windows":[{"weekday":6,"start":"09:00","end":"11:00","service_ids":["birth"],"slot_minutes":60,"capacity":2}]}`},
	)
	defer stop()
	token := func(user, pass string) string {
		_, out := send(t, "POST", api+"/auth/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, user, pass))
		return out["token"].(string)
	}
	lead, other, desk := token("lead.gulou", "manager-pass-1"), token("lead.xicheng", "manager-pass-2"), token("desk.gulou", "counter-pass-3")
	loc, _ := time.LoadLocation("Asia/Shanghai")
	sat := calendar.DateOf(time.Now().In(loc)).AddDays(1)
	for sat.Weekday() != 6 {
		sat = sat.AddDays(1)
	}
	logins := map[string]string{}
	book := func(phone, name, id, start string) (int, map[string]any) {
		if logins[phone] == "" {
			logins[phone] = residentLogin(t, api, phone)
		}
		resp, out := send(t, "POST", api+"/appointments", logins[phone],
			fmt.Sprintf(`{"station_id":"gulou","service_id":"birth","date":%q,"start":%q,"resident":{"name":%q,"id_number":%q,"phone":%q}}`, sat, start, name, id, phone))
		return resp.StatusCode, out
	}
	var ids []string
	for _, r := range [][3]string{{"13812345678", "张三", "33050219880702447X"}, {"13912345678", "陈静", "235407195106112745"}} {
		status, out := book(r[0], r[1], r[2], "09:00")
		if status != 201 {
			t.Fatalf("book: %d %v", status, out)
		}
		ids = append(ids, out["id"].(string))
	}
	closure := fmt.Sprintf(`{"date":%q,"from":"09:00","to":"10:00","reason":"停电检修"}`, sat)
	for _, c := range []struct {
		who, body string
		status    int
	}{
		{desk, closure, 403},  // staff do not close the hall
		{other, closure, 404}, // another station's manager
		{lead, fmt.Sprintf(`{"date":%q,"reason":""}`, sat), 422},
		{lead, fmt.Sprintf(`{"date":%q,"from":"10:00","to":"09:00","reason":"x"}`, sat), 422},
		{lead, `{"date":"2020-01-04","reason":"x"}`, 422},
	} {
		if resp, out := send(t, "POST", api+"/stations/gulou/closures", c.who, c.body); resp.StatusCode != c.status {
			t.Fatalf("closure %s: %d %v, want %d", c.body, resp.StatusCode, out, c.status)
		}
	}
	resp, out := send(t, "POST", api+"/stations/gulou/closures", lead, closure)
	if resp.StatusCode != 200 || out["slots_closed"].(float64) != 1 || len(out["cancelled"].([]any)) != 2 {
		t.Fatalf("closure: %d %v", resp.StatusCode, out)
	}
	pos := map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}
	var a map[string]any
	getJSONAuth(t, api+"/appointments/"+ids[0], admin, pos, &a)
	if a["status"] != "cancelled" || a["cancel_reason"] != "停电检修" || a["cancelled_by_hall"] != true {
		t.Fatalf("a booking of the closed slot: %v", a)
	}
	var slots []map[string]any
	getJSON(t, fmt.Sprintf("%s/stations/gulou/availability?service_id=birth&from=%s&to=%s", api, sat, sat), pos, &slots)
	if len(slots) != 1 || slots[0]["start"] != "10:00" {
		t.Fatalf("availability after closing 09:00-10:00: %v, want the 10:00 slot only", slots)
	}
	if status, out := book("13712345678", "李四", "11010519491231002X", "09:00"); status != 409 || !strings.Contains(out["detail"].(string), "停电检修") {
		t.Fatalf("booking the closed slot: %d %v", status, out)
	}
	// The closure never counts against the residents: the same person
	// books the same service that day again.
	if status, out := book("13812345678", "张三", "33050219880702447X", "10:00"); status != 201 {
		t.Fatalf("rebooking after the closure: %d %v", status, out)
	}
}

func TestWalkInsStop(t *testing.T) {
	t.Parallel()
	api, _, stop := configured(t, 0,
		call{"POST", "/services", `{"id":"birth","name":"Birth registration","name_zh":"出生登记","category":"household","time_limit_days":20,"online":false,"materials":[]}`},
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		call{"POST", "/stations/gulou/counters", `{"id":"w1","name":"1号窗口","service_ids":["birth"]}`},
		call{"POST", "/users", `{"username":"desk.gulou","password":"counter-pass-3","role":"staff","station_id":"gulou"}`},
	)
	defer stop()
	_, out := send(t, "POST", api+"/auth/login", "", `{"username":"desk.gulou","password":"counter-pass-3"}`)
	desk := out["token"].(string)
	if resp, out := send(t, "POST", api+"/stations/gulou/tickets", desk, `{"service_id":"birth"}`); resp.StatusCode != 201 {
		t.Fatalf("walk-in: %d %v", resp.StatusCode, out)
	}
	if resp, out := send(t, "POST", api+"/stations/gulou/walk-ins/stop", desk, `{"reason":"今日号已发完"}`); resp.StatusCode != 200 {
		t.Fatalf("stop walk-ins: %d %v", resp.StatusCode, out)
	}
	if resp, out := send(t, "POST", api+"/stations/gulou/tickets", desk, `{"service_id":"birth"}`); resp.StatusCode != 409 || !strings.Contains(out["detail"].(string), "今日号已发完") {
		t.Fatalf("walk-in after the stop: %d %v", resp.StatusCode, out)
	}
}

func TestWaitlistGetsTheFreedPlaceFirst(t *testing.T) {
	t.Parallel()
	api, _, stop := configured(t, 21,
		call{"POST", "/services", `{"id":"birth","name":"Birth registration","name_zh":"出生登记","category":"household","time_limit_days":20,"online":false,"materials":[]}`},
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		call{"PUT", "/stations/gulou/hours", `{"weekly":[],"weekend_windows":[{"weekday":6,"start":"09:00","end":"10:00","service_ids":["birth"],"slot_minutes":60,"capacity":1}]}`},
	)
	defer stop()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	sat := calendar.DateOf(time.Now().In(loc)).AddDays(1)
	for sat.Weekday() != 6 {
		sat = sat.AddDays(1)
	}
	people := map[string][3]string{
		"zhang": {"13812345678", "张三", "33050219880702447X"},
		"chen":  {"13912345678", "陈静", "235407195106112745"},
		"li":    {"13712345678", "李四", "11010519491231002X"},
	}
	tokens := map[string]string{}
	body := func(name string) string {
		p := people[name]
		return fmt.Sprintf(`{"station_id":"gulou","service_id":"birth","date":%q,"start":"09:00","resident":{"name":%q,"id_number":%q,"phone":%q}}`, sat, p[1], p[2], p[0])
	}
	as := func(name, path string) (int, map[string]any) {
		if tokens[name] == "" {
			tokens[name] = residentLogin(t, api, people[name][0])
		}
		resp, out := send(t, "POST", api+path, tokens[name], body(name))
		return resp.StatusCode, out
	}
	status, out := as("zhang", "/appointments")
	if status != 201 {
		t.Fatalf("book: %d %v", status, out)
	}
	booked := out["id"].(string)
	if status, out := as("chen", "/waitlist"); status != 201 || out["status"] != "waiting" {
		t.Fatalf("join the waitlist: %d %v", status, out)
	}
	if status, _ := as("chen", "/waitlist"); status != 201 {
		t.Fatalf("joining twice: %d", status)
	}
	if status, _ := as("chen", "/appointments"); status != 409 {
		t.Fatalf("booking a full slot: %d", status)
	}
	resp, _ := send(t, "POST", api+"/appointments/"+booked+"/cancel", tokens["zhang"], `{"reason":"plans changed"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	// The freed place is held for the first person waiting: not for anyone
	// else, not even for the one who gave it back.
	if status, _ := as("li", "/appointments"); status != 409 {
		t.Fatalf("someone else takes the place held for the waitlist: %d", status)
	}
	if status, _ := as("zhang", "/appointments"); status != 409 {
		t.Fatalf("the canceller takes it back: %d", status)
	}
	if status, out := as("chen", "/appointments"); status != 201 {
		t.Fatalf("the first waiting books the place held for them: %d %v", status, out)
	}
	if status, _ := as("li", "/waitlist"); status != 201 {
		t.Fatalf("li joins the waitlist of the full slot: %d", status)
	}
}

// Whoever the hall's closure cancelled may rebook the service there first:
// the places kept for walk-ins are open to them, not to others.
func TestClosedOutResidentsRebookFirst(t *testing.T) {
	t.Parallel()
	api, admin, stop := configured(t, 21,
		call{"POST", "/services", `{"id":"birth","name":"Birth registration","name_zh":"出生登记","category":"household","time_limit_days":20,"online":false,"materials":[]}`},
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		call{"PUT", "/stations/gulou/hours", `{"weekly":[],"weekend_windows":[{"weekday":6,"start":"09:00","end":"11:00","service_ids":["birth"],"slot_minutes":60,"capacity":2,"walk_in":1}]}`},
	)
	defer stop()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	sat := calendar.DateOf(time.Now().In(loc)).AddDays(1)
	for sat.Weekday() != 6 {
		sat = sat.AddDays(1)
	}
	people := map[string][3]string{
		"zhang": {"13812345678", "张三", "33050219880702447X"},
		"chen":  {"13912345678", "陈静", "235407195106112745"},
		"li":    {"13712345678", "李四", "11010519491231002X"},
	}
	tokens := map[string]string{}
	book := func(name, start string) int {
		if tokens[name] == "" {
			tokens[name] = residentLogin(t, api, people[name][0])
		}
		p := people[name]
		resp, _ := send(t, "POST", api+"/appointments", tokens[name],
			fmt.Sprintf(`{"station_id":"gulou","service_id":"birth","date":%q,"start":%q,"resident":{"name":%q,"id_number":%q,"phone":%q}}`, sat, start, p[1], p[2], p[0]))
		return resp.StatusCode
	}
	if book("zhang", "09:00") != 201 || book("chen", "10:00") != 201 {
		t.Fatal("the first bookings")
	}
	if resp, out := send(t, "POST", api+"/stations/gulou/closures", admin, fmt.Sprintf(`{"date":%q,"from":"09:00","to":"10:00","reason":"停电检修"}`, sat)); resp.StatusCode != 200 {
		t.Fatalf("closure: %d %v", resp.StatusCode, out)
	}
	if got := book("li", "10:00"); got != 409 {
		t.Fatalf("someone else books the full 10:00 slot: %d", got)
	}
	if got := book("zhang", "10:00"); got != 201 {
		t.Fatalf("the closed-out resident rebooks first: %d", got)
	}
}
