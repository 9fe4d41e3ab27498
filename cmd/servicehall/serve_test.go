package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/eventstore/sqlitestore"
	"github.com/servicehall/servicehall/internal/apitest"
	"github.com/servicehall/servicehall/vault"
)

// seed sets up a station with two weeks of Saturday windows and books one
// place through the command path, as the write endpoints would.
func seed(t *testing.T, data string) uint64 {
	t.Helper()
	ctx := context.Background()
	store, err := sqlitestore.Open(filepath.Join(data, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h, _ := command.New(store)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	keys, err := loadKeys(data, true) // as serve makes them on an empty log
	if err != nil {
		t.Fatal(err)
	}
	if keys.Vault, err = vault.OpenSQLite(filepath.Join(data, "vault.db")); err != nil {
		t.Fatal(err)
	}
	defer keys.Vault.Close()
	hall, _ := command.NewHall(h, loc, domain.DefaultPolicy, keys.Keys, nil)
	admin := command.Meta{Actor: eventstore.Actor{ID: "admin", Role: "admin"}, At: time.Now()}
	if _, err := hall.SetUp(ctx, command.Setup{
		Services:          []domain.Service{{ID: "birth", Name: "Birth registration", NameZh: "出生登记", Category: domain.Household, TimeLimitDays: 20, Materials: []string{"出生医学证明"}}},
		StationRegistered: domain.StationRegistered{ID: "gulou", Name: "鼓楼派出所"},
		Counters:          []domain.Counter{{ID: "w1", Name: "1号窗口", ServiceIDs: []string{"birth"}}},
		Hours:             command.Hours{WeekendWindows: []domain.Hours{{Weekday: 6, Start: 9 * 60, End: 12 * 60, ServiceIDs: []string{"birth"}, SlotMinutes: 30, Capacity: 4, WalkIn: 1}}},
	}, 14, admin); err != nil {
		t.Fatal(err)
	}
	sat := calendar.DateOf(time.Now().In(loc)).AddDays(7)
	for sat.Weekday() != 6 {
		sat = sat.AddDays(1)
	}
	res, err := hall.Book(ctx, command.Booking{AppointmentID: "a1", StationID: "gulou", ServiceID: "birth", Date: sat, Start: 9 * 60,
		Resident: domain.Applicant{Name: "张三", IDNumber: "33050219880702447X", Phone: "13812345678"}}, command.Meta{At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return res.Position
}

var (
	send          = apitest.Send
	sendWith      = apitest.SendWith
	getJSON       = apitest.Get
	getJSONAuth   = apitest.GetAuth
	residentLogin = apitest.ResidentLogin
)

// startServe runs "servicehall serve" on a free loopback port; extra
// flags follow. It returns the base URL and every line printed before it.
func startServe(t *testing.T, data string, extra ...string) (base string, printed []string, stop func() error) {
	t.Helper()
	return start(t, "serve", data, extra...)
}

// start runs serve or demo; see startServe.
func start(t *testing.T, name, data string, extra ...string) (base string, printed []string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{name, "--addr", "127.0.0.1:0", "--data", data}, extra...), pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if addr, ok := strings.CutPrefix(lines.Text(), "servicehall listening on "); ok {
			base = strings.Fields(addr)[0]
			break
		}
		printed = append(printed, lines.Text())
	}
	go io.Copy(io.Discard, pr) // serve keeps printing; never block it
	if base == "" {
		cancel()
		t.Fatalf("serve did not start: %q, %v", printed, <-done)
	}
	return base, printed, func() error {
		// Connections the client dialled but never used would hold up the
		// server's graceful stop for five seconds.
		http.DefaultClient.CloseIdleConnections()
		cancel()
		return <-done
	}
}

func TestServeReadsOverHTTP(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	pos := seed(t, data)
	base, _, stop := startServe(t, data)
	min := map[string]string{"X-Min-Position": strconv.FormatUint(pos, 10)}

	var svcs []map[string]any
	getJSON(t, base+"/api/v1/services", min, &svcs)
	if len(svcs) != 1 || svcs[0]["id"] != "birth" || svcs[0]["name_zh"] != "出生登记" || svcs[0]["time_limit_unit"] != "working" ||
		svcs[0]["time_limit_days"].(float64) != 20 || svcs[0]["online"] != false || len(svcs[0]["materials"].([]any)) != 1 {
		t.Errorf("services = %v", svcs)
	}
	var st map[string]any
	getJSON(t, base+"/api/v1/stations/gulou", min, &st)
	if st["name"] != "鼓楼派出所" || len(st["counters"].([]any)) != 1 || len(st["weekend_windows"].([]any)) != 1 || st["hours"] == nil {
		t.Errorf("station = %v", st)
	}
	var slots []map[string]any
	loc, _ := time.LoadLocation("Asia/Shanghai")
	today := calendar.DateOf(time.Now().In(loc))
	getJSON(t, fmt.Sprintf("%s/api/v1/stations/gulou/availability?service_id=birth&from=%s&to=%s", base, today, today.AddDays(14)), min, &slots)
	// The release job opened the Saturday windows of the horizon at start;
	// the one booked place shows.
	booked := 0
	for _, sl := range slots {
		d, _ := calendar.ParseDate(sl["date"].(string))
		if d.Weekday() != 6 || sl["capacity"].(float64) != 3 {
			t.Errorf("slot %v: want Saturday-window slots of 3 bookable places", sl)
		}
		if sl["booked"].(float64) == 1 && sl["start"] == "09:00" && sl["available"].(float64) == 2 {
			booked++
		}
	}
	if len(slots) < 6 || booked != 1 {
		t.Errorf("availability = %v", slots)
	}

	var p map[string]any
	resp := getJSON(t, base+"/api/v1/stations/gulou/availability?service_id=birth&from=2025-02-30&to=2025-03-01", nil, &p)
	if resp.StatusCode != 422 || resp.Header.Get("Content-Type") != "application/problem+json" || p["errors"].([]any)[0].(map[string]any)["field"] != "from" {
		t.Errorf("bad date: %d %s %v", resp.StatusCode, resp.Header.Get("Content-Type"), p)
	}
	resp = getJSON(t, base+"/api/v1/calendar/working-days?from=2025-01-01&to=2026-06-01", nil, &p)
	if resp.StatusCode != 422 {
		t.Errorf("a span over a year: %d", resp.StatusCode)
	}
	resp = getJSON(t, base+"/api/v1/stations/nowhere", nil, &p)
	if resp.StatusCode != 404 || p["status"].(float64) != 404 {
		t.Errorf("unknown station: %d %v", resp.StatusCode, p)
	}
	resp = getJSON(t, base+"/api/v1/nothing-here", nil, &p)
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown route: %d", resp.StatusCode)
	}
	resp = getJSON(t, base+"/api/v1/services", map[string]string{"X-Min-Position": "soon"}, &p)
	if resp.StatusCode != 422 {
		t.Errorf("bad X-Min-Position: %d", resp.StatusCode)
	}
	var dl map[string]string
	getJSON(t, base+"/api/v1/calendar/deadline?accepted=2025-09-30&working_days=3", nil, &dl)
	if dl["deadline"] != "2025-10-11" {
		t.Errorf("deadline = %v, want the make-up Saturday 2025-10-11", dl)
	}
	var ready map[string]any
	if resp := getJSON(t, base+"/readyz", nil, &ready); resp.StatusCode != 200 || ready["ready"] != true {
		t.Errorf("readyz: %d %v", resp.StatusCode, ready)
	}
	mresp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if !strings.Contains(string(metrics), `servicehall_http_requests_total{method="GET",route="/api/v1/services",status="200"} 1`) ||
		!strings.Contains(string(metrics), "servicehall_projection_lag_max 0") {
		t.Errorf("metrics lack the request count or the lag:\n%s", metrics)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve stopped with %v", err)
	}
}

func TestAdminConfiguresOverHTTP(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	base, printed, stop := startServe(t, data)
	var password string
	for _, l := range printed {
		if p, ok := strings.CutPrefix(l, "admin password (管理员密码): "); ok {
			password = p
		}
	}
	if len(password) < 12 {
		t.Fatalf("no generated admin password among %q", printed)
	}
	api := base + "/api/v1"
	if resp, _ := send(t, "POST", api+"/auth/login", "", `{"username":"admin","password":"wrong-password"}`); resp.StatusCode != 401 {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	if resp, _ := send(t, "POST", api+"/auth/login", "", `{"username":"nobody","password":"wrong-password"}`); resp.StatusCode != 401 {
		t.Fatalf("unknown user: %d", resp.StatusCode)
	}
	resp, out := send(t, "POST", api+"/auth/login", "", fmt.Sprintf(`{"username":"admin","password":%q}`, password))
	if resp.StatusCode != 200 || out["role"] != "admin" {
		t.Fatalf("login: %d %v", resp.StatusCode, out)
	}
	admin := out["token"].(string)

	svc := `{"id":"birth","name":"Birth registration","name_zh":"出生登记","category":"household","time_limit_days":20,"online":false,"materials":["出生医学证明"]}`
	if resp, _ := send(t, "POST", api+"/services", "", svc); resp.StatusCode != 401 {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
	if resp, _ := send(t, "POST", api+"/services", "not.a.token", svc); resp.StatusCode != 401 {
		t.Fatalf("bad token: %d", resp.StatusCode)
	}
	resp, out = send(t, "POST", api+"/services", admin, svc)
	if resp.StatusCode != 201 || resp.Header.Get("X-Position") == "" || out["time_limit_unit"] != "working" {
		t.Fatalf("define service: %d %v", resp.StatusCode, out)
	}
	if resp, out := send(t, "POST", api+"/services", admin, `{"id":"x","extra":1}`); resp.StatusCode != 422 || out["errors"] == nil {
		t.Fatalf("unknown field: %d %v", resp.StatusCode, out)
	}
	if resp, out := send(t, "POST", api+"/services", admin, `{"id":"x","time_limit_days":"twenty"}`); resp.StatusCode != 422 ||
		out["errors"].([]any)[0].(map[string]any)["field"] != "time_limit_days" {
		t.Fatalf("wrong type: %d %v", resp.StatusCode, out)
	}
	if resp, _ := send(t, "POST", api+"/services", admin, `{"id":"x"`); resp.StatusCode != 422 {
		t.Fatalf("broken JSON: %d", resp.StatusCode)
	}

	for _, step := range []struct{ method, path, body string }{
		{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		{"POST", "/users", `{"username":"li.wei","password":"counter-pass-1","role":"staff","station_id":"gulou"}`},
		{"POST", "/stations/gulou/counters", `{"id":"w1","name":"1号窗口","service_ids":["birth"]}`},
	} {
		if resp, out := send(t, step.method, api+step.path, admin, step.body); resp.StatusCode != 201 {
			t.Fatalf("%s %s: %d %v", step.method, step.path, resp.StatusCode, out)
		}
	}
	if resp, _ := send(t, "POST", api+"/stations/gulou/counters", admin, `{"id":"w2","name":"2号窗口","service_ids":["nope"]}`); resp.StatusCode != 422 {
		t.Fatalf("counter for an unknown service: %d", resp.StatusCode)
	}
	resp, out = send(t, "POST", api+"/auth/login", "", `{"username":"li.wei","password":"counter-pass-1"}`)
	if resp.StatusCode != 200 || out["station_id"] != "gulou" {
		t.Fatalf("staff login: %d %v", resp.StatusCode, out)
	}
	if resp, _ := send(t, "POST", api+"/services", out["token"].(string), svc); resp.StatusCode != 403 {
		t.Fatalf("staff defining a service: %d", resp.StatusCode)
	}

	hours := `{"weekly":[{"weekday":1,"start":"09:00","end":"12:00","service_ids":["birth"],"slot_minutes":30,"capacity":4}],
		"weekend_windows":[{"weekday":6,"start":"09:00","end":"11:00","service_ids":["birth"],"slot_minutes":60,"capacity":2}]}`
	resp, out = send(t, "PUT", api+"/stations/gulou/hours", admin, hours)
	if resp.StatusCode != 200 || out["released"].(float64) < 4 {
		t.Fatalf("set hours: %d %v", resp.StatusCode, out)
	}
	if resp, _ := send(t, "PUT", api+"/stations/gulou/hours", admin, `{"weekly":[{"weekday":9,"start":"09:00","end":"08:00"}]}`); resp.StatusCode != 422 {
		t.Fatalf("bad hours: %d", resp.StatusCode)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	today := calendar.DateOf(time.Now().In(loc))
	var slots []map[string]any
	getJSON(t, fmt.Sprintf("%s/stations/gulou/availability?service_id=birth&from=%s&to=%s", api, today, today.AddDays(13)),
		map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}, &slots)
	saturdays := 0
	for _, s := range slots {
		d, _ := calendar.ParseDate(s["date"].(string))
		if d.Weekday() == 6 {
			saturdays++
		}
	}
	if len(slots) < 4 || saturdays == 0 {
		t.Fatalf("released slots = %v, want the Monday and Saturday-window slots", slots)
	}
	if resp, out := send(t, "PUT", api+"/calendar/2026", admin, `{"year":2027,"days":[]}`); resp.StatusCode != 422 {
		t.Fatalf("calendar for the wrong year: %d %v", resp.StatusCode, out)
	}

	// The jobs are listed, and one runs on demand: the slots are open already.
	var js []map[string]any
	if resp := getJSONAuth(t, api+"/admin/jobs", admin, nil, &js); resp.StatusCode != 200 || len(js) != 9 ||
		js[0]["name"] != "release-slots" || js[0]["next_run"] == nil || js[0]["last_run"] == nil {
		t.Fatalf("jobs: %d %v", resp.StatusCode, js)
	}
	// The embedded calendars end with the current year's notice at most:
	// next year's holidays are computed, and the job says so.
	next := time.Now().Year() + 1
	if resp, out := send(t, "POST", api+"/admin/jobs/release-slots/run", admin, ""); resp.StatusCode != 200 ||
		!strings.HasPrefix(out["result"].(string), "opened 0 slots at 1 stations") ||
		!strings.Contains(out["result"].(string), fmt.Sprintf("%d 年放假安排尚未导入", next)) {
		t.Fatalf("run release-slots: %d %v", resp.StatusCode, out)
	}
	var days map[string][]map[string]any
	getJSON(t, fmt.Sprintf("%s/calendar/working-days?from=%d-01-01&to=%d-01-01", api, next, next), nil, &days)
	if d := days["days"]; len(d) != 1 || d[0]["working"] != false || d[0]["reason"] != "provisional" || d[0]["name"] != "元旦" {
		t.Fatalf("New Year's Day of a year without a notice: %v", d)
	}
	if resp, _ := send(t, "POST", api+"/admin/jobs/nope/run", admin, ""); resp.StatusCode != 404 {
		t.Fatalf("run an unknown job: %d", resp.StatusCode)
	}

	// A rebuild over HTTP swaps in an equal view while the old one serves.
	if resp, _ := send(t, "POST", api+"/admin/projections/nope/rebuild", admin, ""); resp.StatusCode != 404 {
		t.Fatalf("rebuild of an unknown projection: %d", resp.StatusCode)
	}
	if resp, out := send(t, "POST", api+"/admin/projections/availability/rebuild", admin, ""); resp.StatusCode != 202 {
		t.Fatalf("rebuild: %d %v", resp.StatusCode, out)
	}
	var rebuilt bool
	for deadline := time.Now().Add(10 * time.Second); !rebuilt && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var ps []map[string]any
		getJSONAuth(t, api+"/admin/projections", admin, nil, &ps)
		for _, p := range ps {
			if r, ok := p["rebuild"].(map[string]any); ok && p["name"] == "availability" && r["running"] == false {
				if r["error"] != nil || p["lag"].(float64) != 0 {
					t.Fatalf("after the rebuild: %v", p)
				}
				rebuilt = true
			}
		}
	}
	if !rebuilt {
		t.Fatal("the rebuild did not finish within 10 s")
	}
	var again []map[string]any
	getJSON(t, fmt.Sprintf("%s/stations/gulou/availability?service_id=birth&from=%s&to=%s", api, today, today.AddDays(13)), nil, &again)
	if fmt.Sprint(again) != fmt.Sprint(slots) {
		t.Fatalf("rebuilt availability differs:\n%v\n%v", again, slots)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// A restart keeps the admin and prints no new password.
	_, printed, stop = startServe(t, data)
	defer stop()
	for _, l := range printed {
		if strings.Contains(l, "admin password") {
			t.Fatalf("second start printed %q", l)
		}
	}
}

// call is one request of a test's setup: method, path and body.
type call = apitest.Call

// configuredIn starts serve on the data folder with a known admin password
// and resident codes answered, makes the admin's calls, and returns the
// API's base URL, the admin's token and the stop function. (The routes'
// own tests are in package api, on httptest.)
func configuredIn(t *testing.T, data string, extra []string, calls ...call) (api, admin string, stop func() error) {
	t.Helper()
	base, _, stop := startServe(t, data, append([]string{"--demo-otp", "--admin-password", "admin-pass-1"}, extra...)...)
	api = base + "/api/v1"
	_, out := send(t, "POST", api+"/auth/login", "", `{"username":"admin","password":"admin-pass-1"}`)
	admin = out["token"].(string)
	apitest.SetUp(t, api, admin, calls...)
	return api, admin, stop
}

var shanghai = apitest.Shanghai

// A booking retried with its Idempotency-Key, even by eight clients at
// once, is made once and answered alike; the key with another body is
// refused; both hold after a restart.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	api, _, stop := configuredIn(t, data, nil,
		call{"POST", "/services", `{"id":"birth","name":"Birth registration","name_zh":"出生登记","category":"household","time_limit_days":20,"online":false,"materials":[]}`},
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		call{"PUT", "/stations/gulou/hours", `{"weekly":[{"weekday":1,"start":"09:00","end":"10:00","service_ids":["birth"],"slot_minutes":60,"capacity":5},{"weekday":2,"start":"09:00","end":"10:00","service_ids":["birth"],"slot_minutes":60,"capacity":5},{"weekday":3,"start":"09:00","end":"10:00","service_ids":["birth"],"slot_minutes":60,"capacity":5},{"weekday":4,"start":"09:00","end":"10:00","service_ids":["birth"],"slot_minutes":60,"capacity":5},{"weekday":5,"start":"09:00","end":"10:00","service_ids":["birth"],"slot_minutes":60,"capacity":5}],"weekend_windows":[{"weekday":6,"start":"09:00","end":"10:00","service_ids":["birth"],"slot_minutes":60,"capacity":5}]}`},
	)
	defer func() { stop() }()
	zhang := residentLogin(t, api, "13812345678")
	today := calendar.DateOf(time.Now().In(shanghai(t)))
	var slots []map[string]any
	getJSON(t, fmt.Sprintf("%s/stations/gulou/availability?service_id=birth&from=%s&to=%s", api, today.AddDays(1), today.AddDays(13)), nil, &slots)
	if len(slots) == 0 {
		t.Fatal("no slots released")
	}
	day := slots[0]["date"].(string)
	body := fmt.Sprintf(`{"station_id":"gulou","service_id":"birth","date":%q,"start":"09:00","resident":{"name":"张三","id_number":"33050219880702447X","phone":"13812345678"}}`, day)
	key := map[string]string{"Idempotency-Key": "book-7f3a"}
	ids := make(chan string, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, out := sendWith(t, "POST", api+"/appointments", zhang, body, key)
			if resp.StatusCode != 201 {
				t.Errorf("retry: %d %v", resp.StatusCode, out)
				return
			}
			ids <- out["id"].(string) + "@" + resp.Header.Get("X-Position")
		}()
	}
	wg.Wait()
	close(ids)
	var first string
	for id := range ids {
		if first == "" {
			first = id
		}
		if id != first {
			t.Fatalf("answers differ: %s and %s", first, id)
		}
	}
	var mine []map[string]any
	getJSONAuth(t, api+"/me/appointments", zhang, map[string]string{"X-Min-Position": strings.Split(first, "@")[1]}, &mine)
	if len(mine) != 1 {
		t.Fatalf("%d appointments after eight tries with one key", len(mine))
	}
	other := strings.Replace(body, "09:00", "09:30", 1)
	if resp, out := sendWith(t, "POST", api+"/appointments", zhang, other, key); resp.StatusCode != 422 {
		t.Fatalf("the key with another body: %d %v", resp.StatusCode, out)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	base, _, stop2 := startServe(t, data, "--demo-otp")
	stop = stop2
	api = base + "/api/v1"
	if resp, out := sendWith(t, "POST", api+"/appointments", zhang, other, key); resp.StatusCode != 422 {
		t.Fatalf("after a restart, the key with another body: %d %v", resp.StatusCode, out)
	}
	resp, out := sendWith(t, "POST", api+"/appointments", zhang, body, key)
	if got := fmt.Sprint(out["id"]) + "@" + resp.Header.Get("X-Position"); resp.StatusCode != 201 || got != first {
		t.Fatalf("after a restart, the retry: %d %s, want 201 %s", resp.StatusCode, got, first)
	}
	// A key is the request's, the object's path included: the same key to
	// cancel another appointment is another request, not a replay.
	id, cancelKey := strings.Split(first, "@")[0], map[string]string{"Idempotency-Key": "cancel-1"}
	if resp, out := sendWith(t, "POST", api+"/appointments/"+id+"/cancel", zhang, `{}`, cancelKey); resp.StatusCode != 200 {
		t.Fatalf("cancel: %d %v", resp.StatusCode, out)
	}
	if resp, out := sendWith(t, "POST", api+"/appointments/00000000-0000-4000-8000-000000000000/cancel", zhang, `{}`, cancelKey); resp.StatusCode != 404 {
		t.Fatalf("the same key on another appointment: %d %v, want 404", resp.StatusCode, out)
	}
}
