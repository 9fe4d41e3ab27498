package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/servicehall/servicehall/domain/calendar"
)

// A resident asks to be erased: their details can be read nowhere, their
// live appointments are cancelled, and every statistic reads as before.
// An admin erases another person by ID number.
func TestErasure(t *testing.T) {
	t.Parallel()
	var days []string
	for wd := 1; wd <= 7; wd++ {
		days = append(days, fmt.Sprintf(`{"weekday":%d,"start":"09:00","end":"11:00","service_ids":["permit"],"slot_minutes":60,"capacity":5}`, wd))
	}
	api, admin, stop := configured(t, 0,
		call{"POST", "/services", `{"id":"permit","name":"Residence permit","name_zh":"居住证申领","category":"license","time_limit_days":15,"time_limit_unit":"calendar","online":true,"materials":[]}`},
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		call{"POST", "/stations/gulou/counters", `{"id":"w1","name":"1号窗口","service_ids":["permit"]}`},
		call{"PUT", "/stations/gulou/hours", `{"weekly":[` + strings.Join(days[:5], ",") + `],"weekend_windows":[` + strings.Join(days[5:], ",") + `]}`},
		call{"POST", "/users", `{"username":"li.wei","password":"counter-pass-1","role":"staff","station_id":"gulou"}`},
	)
	defer stop()
	_, out := send(t, "POST", api+"/auth/login", "", `{"username":"li.wei","password":"counter-pass-1"}`)
	staff := out["token"].(string)
	zhang, li := residentLogin(t, api, "13812345678"), residentLogin(t, api, "13912345678")
	today := calendar.DateOf(time.Now().In(shanghai(t)))
	var slots []map[string]any
	getJSON(t, fmt.Sprintf("%s/stations/gulou/availability?service_id=permit&from=%s&to=%s", api, today.AddDays(1), today.AddDays(13)), nil, &slots)
	if len(slots) < 2 {
		t.Fatalf("slots: %v", slots)
	}
	book := func(token, name, id, phone string, slot map[string]any) string {
		t.Helper()
		resp, out := send(t, "POST", api+"/appointments", token, fmt.Sprintf(`{"station_id":"gulou","service_id":"permit","date":%q,"start":%q,"resident":{"name":%q,"id_number":%q,"phone":%q}}`,
			slot["date"], slot["start"], name, id, phone))
		if resp.StatusCode != 201 {
			t.Fatalf("book: %d %v", resp.StatusCode, out)
		}
		return out["id"].(string)
	}
	second := slots[len(slots)-1] // another day: one booking per service and day
	mine := []string{book(zhang, "张三", "33050219880702447X", "13812345678", slots[0]), book(zhang, "张三", "33050219880702447X", "13812345678", second)}
	theirs := book(li, "李四", "11010519491231002X", "13912345678", slots[0])
	// An application of zhang's, done at the counter: it counts in 办结率.
	resp, out := send(t, "POST", api+"/applications", staff, `{"station_id":"gulou","service_id":"permit","channel":"counter","applicant":{"name":"张三","id_number":"33050219880702447X","phone":"13812345678"}}`)
	if resp.StatusCode != 201 {
		t.Fatalf("apply: %d %v", resp.StatusCode, out)
	}
	app := out["id"].(string)
	for _, step := range []string{"accept", "approve", "complete"} {
		if resp, out := send(t, "POST", api+"/applications/"+app+"/"+step, staff, ""); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", step, resp.StatusCode, out)
		}
	}
	if resp, out = send(t, "POST", api+"/stations/gulou/tickets", staff, `{"service_id":"permit"}`); resp.StatusCode != 201 {
		t.Fatalf("ticket: %d %v", resp.StatusCode, out)
	}
	figures := func(pos string) string {
		t.Helper()
		var b strings.Builder
		for _, q := range []string{"/stats/completion?station_id=gulou&by=day&from=" + today.AddDays(-1).String() + "&to=" + today.AddDays(30).String(),
			"/stats/queue?station_id=gulou&date=" + today.String(), "/sla?station_id=gulou"} {
			var v any
			if resp := getJSONAuth(t, api+q, admin, map[string]string{"X-Min-Position": pos}, &v); resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d", q, resp.StatusCode)
			}
			raw, _ := json.Marshal(v)
			b.Write(raw)
		}
		return b.String()
	}
	before := figures(resp.Header.Get("X-Position"))
	if !strings.Contains(before, `"completed":1`) {
		t.Fatalf("the figures miss the completed application: %s", before)
	}

	resp, out = send(t, "POST", api+"/me/erase", zhang, "")
	if resp.StatusCode != 202 || out["people"].(float64) != 1 || out["cancelled"].(float64) != 2 {
		t.Fatalf("erase me: %d %v", resp.StatusCode, out)
	}
	pos := map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}
	for _, id := range mine {
		var a map[string]any
		getJSONAuth(t, api+"/appointments/"+id, zhang, pos, &a)
		if r := a["resident"].(map[string]any); a["status"] != "cancelled" || r["erased"] != true || r["name"] != "" || r["id_number"] != "" || r["phone"] != "" {
			t.Fatalf("after the erasure, to the resident: %v", a)
		}
		getJSONAuth(t, api+"/appointments/"+id, admin, pos, &a)
		if raw, _ := json.Marshal(a); strings.Contains(string(raw), "447X") || strings.Contains(string(raw), "5678") || strings.Contains(string(raw), "张") {
			t.Fatalf("after the erasure, to the admin: %s", raw)
		}
	}
	var apps []map[string]any
	getJSONAuth(t, api+"/me/applications", zhang, pos, &apps)
	if len(apps) != 1 || apps[0]["applicant"].(map[string]any)["erased"] != true {
		t.Fatalf("the erased resident's applications: %v", apps)
	}
	if after := figures(resp.Header.Get("X-Position")); after != before {
		t.Fatalf("the figures changed with the erasure:\nbefore %s\nafter  %s", before, after)
	}
	var a map[string]any
	getJSONAuth(t, api+"/appointments/"+theirs, li, pos, &a)
	if r := a["resident"].(map[string]any); a["status"] != "booked" || r["id_number"] != "11010519491231002X" {
		t.Fatalf("another resident's appointment after zhang's erasure: %v", a)
	}

	if resp, _ := send(t, "POST", api+"/admin/erasures", admin, `{"id_number":"110105194912310021"}`); resp.StatusCode != 422 {
		t.Fatalf("a bad ID number: %d", resp.StatusCode)
	}
	resp, out = send(t, "POST", api+"/admin/erasures", admin, `{"id_number":"11010519491231002X"}`)
	if resp.StatusCode != 202 || out["cancelled"].(float64) != 1 {
		t.Fatalf("erase by ID number: %d %v", resp.StatusCode, out)
	}
	getJSONAuth(t, api+"/appointments/"+theirs, li, map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}, &a)
	if r := a["resident"].(map[string]any); a["status"] != "cancelled" || r["erased"] != true {
		t.Fatalf("after the admin's erasure: %v", a)
	}
}
