package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/servicehall/servicehall/domain/calendar"
)

// The admin console's reads: the service guide's fields, the logins
// without passwords, a preview of hours equal to what the release opens,
// and the configuration's history, the latest first, with its actors.
func TestAdminConsoleOverHTTP(t *testing.T) {
	t.Parallel()
	api, admin, stop := configured(t, 7,
		call{"POST", "/services", `{"id":"birth","name":"Birth registration","name_zh":"出生登记","category":"household","time_limit_days":20,"online":false,"materials":["出生医学证明"],
			"fee":"不收费","legal_basis":"《中华人民共和国户口登记条例》第七条"}`},
		call{"POST", "/services", `{"id":"idcard","name":"ID card","name_zh":"居民身份证","category":"license","time_limit_days":60,"time_limit_unit":"calendar","online":false,"materials":[]}`},
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所","name_en":"Gulou Police Station","address":"中山路1号","phone":"010-00000000"}`},
		call{"POST", "/stations/gulou/counters", `{"id":"w1","name":"1号窗口","service_ids":["birth"]}`},
		call{"POST", "/users", `{"username":"li.wei","password":"counter-pass-1","role":"staff","station_id":"gulou"}`},
	)
	defer stop()

	// The guide: fee and legal basis, as defined.
	var svcs []map[string]any
	getJSON(t, api+"/services", nil, &svcs)
	if len(svcs) != 2 || svcs[0]["fee"] != "不收费" || svcs[0]["legal_basis"] != "《中华人民共和国户口登记条例》第七条" {
		t.Fatalf("services: %v", svcs)
	}
	if _, ok := svcs[1]["fee"]; ok {
		t.Errorf("a service without a fee names one: %v", svcs[1])
	}

	// The logins, never a password or a credential.
	users := func() map[string]map[string]any {
		t.Helper()
		var us []map[string]any
		if resp := getJSONAuth(t, api+"/users", admin, nil, &us); resp.StatusCode != 200 {
			t.Fatalf("users: %d", resp.StatusCode)
		}
		out := map[string]map[string]any{}
		for _, u := range us {
			out[u["username"].(string)] = u
		}
		return out
	}
	us := users()
	if len(us) != 2 || us["admin"]["role"] != "admin" || us["li.wei"]["station_id"] != "gulou" || us["li.wei"]["disabled"] != false {
		t.Fatalf("users: %v", us)
	}
	raw, _ := json.Marshal(us)
	for _, secret := range []string{"cred-", "$2a$", "password\"", "Credential"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the user list shows %q: %s", secret, raw)
		}
	}
	resp, out := send(t, "PATCH", api+"/users/li.wei", admin, `{"disabled":true}`)
	if resp.StatusCode != 200 {
		t.Fatalf("disable: %d %v", resp.StatusCode, out)
	}
	resp, out = send(t, "PATCH", api+"/users/li.wei", admin, `{"password":"another-counter-pass-7"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("reset: %d %v", resp.StatusCode, out)
	}
	last := resp.Header.Get("X-Position")
	var us2 []map[string]any
	getJSONAuth(t, api+"/users", admin, map[string]string{"X-Min-Position": last}, &us2)
	for _, u := range us2 {
		if u["username"] == "li.wei" && (u["disabled"] != true || u["password_set_at"] == nil) {
			t.Errorf("after disabling and a new password: %v", u)
		}
	}

	// The preview: National Day 2026 (1-7 October) opens nothing, Thursday
	// 8 October Thursday's hours, Saturday 10 October is a make-up working
	// day with Monday's hours, Sunday 11 the weekend window, Monday 12 the
	// weekly hours.
	hours := `"weekly":[{"weekday":1,"start":"09:00","end":"10:00","service_ids":["birth","idcard"],"slot_minutes":30,"capacity":4,"walk_in":1},
		{"weekday":4,"start":"14:00","end":"15:00","service_ids":["idcard"],"slot_minutes":60,"capacity":2}],
		"weekend_windows":[{"weekday":7,"start":"09:00","end":"10:00","service_ids":["birth"],"slot_minutes":60,"capacity":3}]`
	preview := func(station, body string) (int, map[string]any) {
		resp, out := send(t, "POST", api+"/stations/"+station+"/hours/preview", admin, body)
		return resp.StatusCode, out
	}
	code, out := preview("gulou", `{`+hours+`,"from":"2026-10-05","to":"2026-10-12"}`)
	if code != 200 {
		t.Fatalf("preview: %d %v", code, out)
	}
	type slot struct {
		Start, End string
		Services   []string `json:"service_ids"`
		Capacity   int
		WalkIn     int `json:"walk_in"`
	}
	type day struct {
		Date    string
		Working bool
		Reason  string
		Slots   []slot
	}
	var got struct{ Days []day }
	b, _ := json.Marshal(out)
	json.Unmarshal(b, &got)
	if len(got.Days) != 8 {
		t.Fatalf("preview days: %+v", got.Days)
	}
	summary := map[string]string{}
	for _, d := range got.Days {
		var parts []string
		for _, s := range d.Slots {
			parts = append(parts, fmt.Sprintf("%s-%s %s %d/%d", s.Start, s.End, strings.Join(s.Services, "+"), s.Capacity, s.WalkIn))
		}
		summary[d.Date] = d.Reason + ": " + strings.Join(parts, ", ")
	}
	for date, want := range map[string]string{
		"2026-10-05": "holiday: ",
		"2026-10-07": "holiday: ",
		"2026-10-08": "workday: 14:00-15:00 idcard 2/0",
		"2026-10-10": "makeup: 09:00-09:30 birth+idcard 4/1, 09:30-10:00 birth+idcard 4/1",
		"2026-10-11": "weekend: 09:00-10:00 birth 3/0",
		"2026-10-12": "workday: 09:00-09:30 birth+idcard 4/1, 09:30-10:00 birth+idcard 4/1",
	} {
		if summary[date] != want {
			t.Errorf("preview of %s: %q, want %q", date, summary[date], want)
		}
	}
	for _, c := range []struct {
		station, body string
		want          int
	}{
		{"gulou", `{"weekly":[{"weekday":1,"start":"10:00","end":"09:00","service_ids":["birth"],"slot_minutes":30,"capacity":4}],"weekend_windows":[],"from":"2026-10-05","to":"2026-10-06"}`, 422},
		{"gulou", `{` + hours + `,"from":"2026-10-05","to":"2026-12-06"}`, 422},
		{"gulou", `{` + hours + `,"from":"2026-10-05"}`, 422},
		{"nope", `{` + hours + `,"from":"2026-10-05","to":"2026-10-06"}`, 404},
	} {
		if code, out := preview(c.station, c.body); code != c.want {
			t.Errorf("preview %s %s: %d %v, want %d", c.station, c.body, code, out, c.want)
		}
	}

	// What the preview shows for the coming week is what setting the hours
	// releases.
	loc := shanghai(t)
	from := calendar.DateOf(time.Now().In(loc)).AddDays(1)
	to := from.AddDays(5)
	code, out = preview("gulou", fmt.Sprintf(`{%s,"from":"%s","to":"%s"}`, hours, from, to))
	if code != 200 {
		t.Fatalf("preview: %d %v", code, out)
	}
	b, _ = json.Marshal(out)
	json.Unmarshal(b, &got)
	var previewed []string
	for _, d := range got.Days {
		for _, s := range d.Slots {
			for _, svc := range s.Services {
				if svc == "birth" {
					previewed = append(previewed, fmt.Sprintf("%s %s-%s %d", d.Date, s.Start, s.End, s.Capacity-s.WalkIn))
				}
			}
		}
	}
	resp, out = send(t, "PUT", api+"/stations/gulou/hours", admin, `{`+hours+`}`)
	if resp.StatusCode != 200 {
		t.Fatalf("hours: %d %v", resp.StatusCode, out)
	}
	last = resp.Header.Get("X-Position")
	var avail []struct {
		Date, Start, End string
		Capacity         int
	}
	getJSON(t, fmt.Sprintf("%s/stations/gulou/availability?service_id=birth&from=%s&to=%s", api, from, to), map[string]string{"X-Min-Position": last}, &avail)
	var released []string
	for _, a := range avail {
		released = append(released, fmt.Sprintf("%s %s-%s %d", a.Date, a.Start, a.End, a.Capacity))
	}
	if strings.Join(previewed, "; ") != strings.Join(released, "; ") || len(released) == 0 {
		t.Errorf("previewed %v\nreleased %v", previewed, released)
	}

	// The history: every change, the latest first, with who made it.
	var hist []struct {
		Type, Stream, Actor string
		At                  time.Time
		Detail              map[string]any
	}
	if resp := getJSONAuth(t, api+"/admin/history", admin, map[string]string{"X-Min-Position": last}, &hist); resp.StatusCode != 200 {
		t.Fatalf("history: %d", resp.StatusCode)
	}
	var types []string
	for _, h := range hist {
		types = append(types, h.Type)
	}
	want := "HoursSet PasswordChanged UserDisabled UserCreated CounterAdded StationRegistered ServiceDefined ServiceDefined UserCreated"
	if strings.Join(types, " ") != want {
		t.Fatalf("history: %s, want %s", strings.Join(types, " "), want)
	}
	if hist[0].Actor != "admin" || hist[0].Stream != "station-gulou" || hist[0].At.IsZero() || hist[0].Detail["weekly"] != 2.0 {
		t.Errorf("the latest change: %+v", hist[0])
	}
	if hist[len(hist)-1].Actor != "system:test" || hist[7].Detail["name_zh"] != "出生登记" || hist[3].Detail["role"] != "staff" {
		t.Errorf("history: %+v", hist)
	}
	raw, _ = json.Marshal(hist)
	if strings.Contains(string(raw), "cred-") || strings.Contains(string(raw), "another-counter-pass") {
		t.Errorf("the history shows a credential: %s", raw)
	}
	if resp := getJSONAuth(t, api+"/admin/history?limit=1", admin, nil, &hist); resp.StatusCode != 200 || len(hist) != 1 || hist[0].Type != "HoursSet" {
		t.Errorf("history, limit 1: %d %+v", resp.StatusCode, hist)
	}
	if resp := getJSONAuth(t, api+"/admin/history?limit=0", admin, nil, nil); resp.StatusCode != 422 {
		t.Errorf("history, limit 0: %d", resp.StatusCode)
	}
}
