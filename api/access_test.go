package api_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/servicehall/servicehall/domain/calendar"
)

// Every route of the document that names a station's object, called by
// the staff, the kiosk and the manager of another station (gulou) on
// xicheng's appointment, application, ticket, queue, figures, remediations
// and audit trail: each answers 404 and writes nothing (the contract's
// rule for another station, figures included). The bureau manager, over
// every station, and xicheng's own staff get past the check.
func TestNobodyActsOutsideTheirStation(t *testing.T) {
	t.Parallel()
	birth := `{"id":"birth","name":"Birth registration","name_zh":"出生登记","category":"household","time_limit_days":20,"online":true,"materials":[]}`
	var days []string
	for wd := 1; wd <= 5; wd++ {
		days = append(days, fmt.Sprintf(`{"weekday":%d,"start":"09:00","end":"10:00","service_ids":["birth"],"slot_minutes":60,"capacity":5}`, wd))
	}
	weekend := `{"weekday":6,"start":"09:00","end":"10:00","service_ids":["birth"],"slot_minutes":60,"capacity":5},{"weekday":7,"start":"09:00","end":"10:00","service_ids":["birth"],"slot_minutes":60,"capacity":5}`
	hours := `{"weekly":[` + strings.Join(days, ",") + `],"weekend_windows":[` + weekend + `]}`
	api, _, stop := configured(t, 0,
		call{"POST", "/services", birth},
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		call{"POST", "/stations", `{"id":"xicheng","name":"西城派出所"}`},
		call{"POST", "/stations/gulou/counters", `{"id":"w1","name":"1号窗口","service_ids":["birth"]}`},
		call{"POST", "/stations/xicheng/counters", `{"id":"w1","name":"1号窗口","service_ids":["birth"]}`},
		call{"PUT", "/stations/xicheng/hours", hours},
		call{"POST", "/users", `{"username":"li.wei","password":"counter-pass-1","role":"staff","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"kiosk.gulou","password":"kiosk-pass-1","role":"kiosk","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"zhao.lead","password":"manager-pass-1","role":"manager","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"wang.xc","password":"counter-pass-2","role":"staff","station_id":"xicheng"}`},
		call{"POST", "/users", `{"username":"chen.bureau","password":"bureau-pass-1","role":"manager"}`},
	)
	defer stop()
	login := func(u, p string) string {
		t.Helper()
		resp, out := send(t, "POST", api+"/auth/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, u, p))
		if resp.StatusCode != 200 {
			t.Fatalf("login %s: %d %v", u, resp.StatusCode, out)
		}
		return out["token"].(string)
	}
	outsiders := map[string]string{"staff": login("li.wei", "counter-pass-1"), "kiosk": login("kiosk.gulou", "kiosk-pass-1"),
		"manager": login("zhao.lead", "manager-pass-1")}
	insider, bureau := login("wang.xc", "counter-pass-2"), login("chen.bureau", "bureau-pass-1")

	// xicheng's objects: a booked appointment, an application at the
	// counter, a walk-in ticket.
	today := calendar.DateOf(time.Now().In(shanghai(t)))
	var slots []map[string]any
	getJSON(t, fmt.Sprintf("%s/stations/xicheng/availability?service_id=birth&from=%s&to=%s", api, today.AddDays(1), today.AddDays(13)), nil, &slots)
	if len(slots) == 0 {
		t.Fatal("no slots at xicheng")
	}
	resident := residentLogin(t, api, "13812345678")
	book := fmt.Sprintf(`{"station_id":"xicheng","service_id":"birth","date":%q,"start":"09:00","resident":{"name":"张三","id_number":"33050219880702447X","phone":"13812345678"}}`, slots[0]["date"])
	resp, out := send(t, "POST", api+"/appointments", resident, book)
	if resp.StatusCode != 201 {
		t.Fatalf("book at xicheng: %d %v", resp.StatusCode, out)
	}
	appointment := out["id"].(string)
	apply := `{"station_id":"xicheng","service_id":"birth","channel":"counter","applicant":{"name":"李四","id_number":"11010519491231002X","phone":"13912345678"}}`
	resp, out = send(t, "POST", api+"/applications", insider, apply)
	if resp.StatusCode != 201 {
		t.Fatalf("apply at xicheng: %d %v", resp.StatusCode, out)
	}
	application := out["id"].(string)
	resp, out = send(t, "POST", api+"/stations/xicheng/tickets", insider, `{"service_id":"birth"}`)
	if resp.StatusCode != 201 {
		t.Fatalf("walk-in at xicheng: %d %v", resp.StatusCode, out)
	}
	ticket := out["id"].(string)
	pos := map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}
	getJSON(t, api+"/services", pos, nil) // the views have the objects

	var doc struct {
		Paths map[string]map[string]struct {
			Roles []string `json:"x-roles"`
		} `json:"paths"`
	}
	getJSON(t, strings.TrimSuffix(api, "/api/v1")+"/openapi.json", nil, &doc)
	span := fmt.Sprintf("from=%s&to=%s", today.AddDays(-30), today)
	query := map[string]string{
		"/api/v1/stats/completion": "?station_id=xicheng&" + span,
		"/api/v1/stats/queue":      "?station_id=xicheng&date=" + today.String(),
		"/api/v1/stats/estimates":  "?station_id=xicheng&" + span,
		"/api/v1/sla":              "?station_id=xicheng",
		"/api/v1/remediations":     "?station_id=xicheng",
		"/api/v1/audit":            "?stream=application-" + application,
	}
	bodies := map[string]string{"/api/v1/appointments": book, "/api/v1/applications": apply}
	type target struct{ method, url, body string }
	var targets []target
	refusals := 0
	for path, ops := range doc.Paths {
		url, scoped := "", false
		switch {
		case strings.HasPrefix(path, "/api/v1/appointments/{id}"):
			url, scoped = strings.Replace(path, "{id}", appointment, 1), true
		case strings.HasPrefix(path, "/api/v1/applications/{id}"):
			url, scoped = strings.Replace(path, "{id}", application, 1), true
		case strings.HasPrefix(path, "/api/v1/tickets/{id}"):
			url, scoped = strings.Replace(path, "{id}", ticket, 1), true
		case strings.HasPrefix(path, "/api/v1/stations/{id}/"):
			url, scoped = strings.Replace(path, "{id}", "xicheng", 1), true
		case query[path] != "":
			url, scoped = path+query[path], true
		case bodies[path] != "":
			url, scoped = path, true
		}
		for method, op := range ops {
			if !scoped || len(op.Roles) == 0 || (method == "get" && bodies[path] != "") {
				continue // public, or not about one station's object
			}
			body := bodies[path]
			if body == "" {
				body = "{}"
			}
			targets = append(targets, target{strings.ToUpper(method), strings.TrimSuffix(api, "/api/v1") + url, body})
			for role, token := range outsiders {
				if !slices.Contains(op.Roles, role) {
					continue // the role matrix covers 403
				}
				refusals++
				before := headOf(t, api)
				resp, out := send(t, strings.ToUpper(method), strings.TrimSuffix(api, "/api/v1")+url, token, body)
				want := 404
				if resp.StatusCode != want {
					t.Errorf("%s %s as gulou's %s: %d %v, want %d", method, url, role, resp.StatusCode, out, want)
				}
				if after := headOf(t, api); after != before {
					t.Errorf("%s %s as gulou's %s wrote %d events", method, url, role, after-before)
				}
			}
		}
	}
	if len(targets) < 20 || refusals < 40 {
		t.Fatalf("only %d station-scoped routes found, %d refusals checked", len(targets), refusals)
	}
	t.Logf("%d station-scoped routes, %d refusals checked", len(targets), refusals)
	// The bureau manager and xicheng's staff read them.
	for _, tg := range targets {
		if tg.method != "GET" {
			continue
		}
		for name, token := range map[string]string{"the bureau manager": bureau, "xicheng's staff": insider} {
			resp, out := send(t, tg.method, tg.url, token, "")
			if resp.StatusCode == 404 || resp.StatusCode == 401 {
				t.Errorf("GET %s as %s: %d %v", tg.url, name, resp.StatusCode, out)
			}
		}
	}
	// An actor's decisions at another station are left out of the audit.
	var trail []map[string]any
	getJSONAuth(t, api+"/audit?actor=wang.xc", outsiders["manager"], nil, &trail)
	if len(trail) != 0 {
		t.Errorf("gulou's manager reads xicheng's decisions: %v", trail)
	}
	getJSONAuth(t, api+"/audit?actor=wang.xc", bureau, nil, &trail)
	if len(trail) < 2 {
		t.Errorf("the bureau manager reads %d of xicheng's decisions, want the application and the ticket", len(trail))
	}
	// A station's trail is its own manager's and the bureau's to read.
	if resp, body := send(t, "GET", api+"/audit?station_id=xicheng", outsiders["manager"], ""); resp.StatusCode != 404 {
		t.Errorf("gulou's manager reads xicheng's trail: %d %s", resp.StatusCode, body)
	}
	getJSONAuth(t, api+"/audit?station_id=xicheng", bureau, nil, &trail)
	if len(trail) < 3 || trail[0]["station_id"] != "xicheng" {
		t.Errorf("the bureau manager reads xicheng's trail as %v", trail)
	}
	// A tied manager's figures default to their station; a bureau manager
	// asks for one or gets every station.
	if resp, _ := send(t, "GET", api+"/stats/completion?"+span, outsiders["manager"], ""); resp.StatusCode != 200 {
		t.Errorf("gulou's manager on their own figures: %d", resp.StatusCode)
	}
	// However the figures are asked for, another station's are refused;
	// grouped by station, a tied manager's hold their own station only.
	for _, q := range []string{"/stats/completion?station_id=xicheng&by=station&" + span, "/stats/completion?station_id=xicheng&basis=accepted&by=clerk&" + span,
		"/stats/completion?station_id=xicheng&as_of=" + today.String() + "&" + span, "/stats/queue?station_id=xicheng&by=station&" + span,
		"/stats/queue?station_id=xicheng&as_of=" + today.String() + "T08:00:00%2B08:00&" + span} {
		if resp, out := send(t, "GET", api+q, outsiders["manager"], ""); resp.StatusCode != 404 {
			t.Errorf("GET %s as gulou's manager: %d %v, want 404", q, resp.StatusCode, out)
		}
	}
	// The SLA list is of applications, objects: as of a past instant too,
	// another station's is not found.
	if resp, out := send(t, "GET", api+"/sla?station_id=xicheng&as_of="+today.String()+"T08:00:00%2B08:00", outsiders["manager"], ""); resp.StatusCode != 404 {
		t.Errorf("xicheng's SLA list as of this morning, as gulou's manager: %d %v, want 404", resp.StatusCode, out)
	}
	var queue struct {
		Tickets int `json:"tickets"`
		Rows    []struct {
			Key string `json:"key"`
		} `json:"rows"`
	}
	getJSONAuth(t, api+"/stats/queue?by=station&"+span, outsiders["manager"], nil, &queue)
	if queue.Tickets != 0 || len(queue.Rows) != 0 {
		t.Errorf("gulou's manager, by station, reads %+v: xicheng's walk-in among them", queue)
	}
	getJSONAuth(t, api+"/stats/queue?by=station&"+span, bureau, nil, &queue)
	if queue.Tickets != 1 || len(queue.Rows) != 1 || queue.Rows[0].Key != "xicheng" {
		t.Errorf("the bureau, by station, reads %+v: want xicheng's walk-in", queue)
	}
}

// headOf is the log's head, as /readyz tells it: a projection's position
// and its lag.
func headOf(t *testing.T, api string) uint64 {
	t.Helper()
	var ready struct {
		Projections []struct{ Position, Lag uint64 } `json:"projections"`
	}
	getJSON(t, strings.TrimSuffix(api, "/api/v1")+"/readyz", nil, &ready)
	if len(ready.Projections) == 0 {
		t.Fatal("readyz lists no projection")
	}
	return ready.Projections[0].Position + ready.Projections[0].Lag
}

// Every answer forbids framing, type sniffing and referrers; a signed-in
// answer, which may carry personal data, is never cached.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	api, admin, _ := configured(t, 0)
	root := strings.TrimSuffix(api, "/api/v1")
	for _, c := range []struct {
		url, token, cache string
	}{
		{root + "/", "", ""},
		{api + "/services", "", ""},
		{api + "/audit?actor=admin", admin, "no-store"},
	} {
		resp := getJSONAuth(t, c.url, c.token, nil, nil)
		h := resp.Header
		if h.Get("X-Frame-Options") != "DENY" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != c.cache {
			t.Errorf("GET %s: %d, headers %v", c.url, resp.StatusCode, h)
		}
	}
}

// An admin disables a user, enables them, and sets their password: each
// change voids the tokens issued before it at once, and the old password
// stops working.
func TestAdminChangesAUser(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Now()}
	api, _ := start(t, apiConfig(c))
	login := func(user, password string) (int, string) {
		resp, out := send(t, "POST", api+"/auth/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, user, password))
		tok, _ := out["token"].(string)
		return resp.StatusCode, tok
	}
	_, admin := login("admin", "admin-pass-1")
	for _, b := range []string{`{"id":"gulou","name":"鼓楼派出所"}`} {
		send(t, "POST", api+"/stations", admin, b)
	}
	if resp, out := send(t, "POST", api+"/users", admin, `{"username":"li.wei","password":"counter-pass-1","role":"staff","station_id":"gulou"}`); resp.StatusCode != 201 {
		t.Fatalf("create: %d %v", resp.StatusCode, out)
	}
	works := func(tok string) int {
		return getJSONAuth(t, api+"/stations/gulou/queue", tok, nil, nil).StatusCode
	}
	_, first := login("li.wei", "counter-pass-1")
	if got := works(first); got != 200 {
		t.Fatalf("a fresh token: %d", got)
	}
	c.Add(time.Second)
	patch := func(body string) (int, map[string]any) {
		resp, out := send(t, "PATCH", api+"/users/li.wei", admin, body)
		return resp.StatusCode, out
	}
	if got, out := patch(`{"disabled":true}`); got != 200 || out["disabled"] != true {
		t.Fatalf("disable: %d %v", got, out)
	}
	if got := works(first); got != 401 {
		t.Fatalf("the disabled user's token: %d, want 401 at once", got)
	}
	if got, _ := login("li.wei", "counter-pass-1"); got != 401 {
		t.Fatalf("the disabled user logs in: %d", got)
	}
	c.Add(time.Second)
	if got, out := patch(`{"disabled":false}`); got != 200 || out["disabled"] != false {
		t.Fatalf("enable: %d %v", got, out)
	}
	_, second := login("li.wei", "counter-pass-1")
	if works(first) != 401 || works(second) != 200 {
		t.Fatalf("after enabling: the old token %d (want 401), a new one %d (want 200)", works(first), works(second))
	}
	c.Add(time.Second)
	if got, out := patch(`{"password":"123456789"}`); got != 422 {
		t.Fatalf("a weak new password: %d %v", got, out)
	}
	if got, out := patch(`{"password":"new-counter-pass-9"}`); got != 200 {
		t.Fatalf("set a password: %d %v", got, out)
	}
	if works(second) != 401 {
		t.Fatal("a token from before the password change still works")
	}
	if got, _ := login("li.wei", "counter-pass-1"); got != 401 {
		t.Fatalf("the old password: %d", got)
	}
	if got, tok := login("li.wei", "new-counter-pass-9"); got != 200 || works(tok) != 200 {
		t.Fatalf("the new password: %d", got)
	}
	if got, _ := patch(`{"disabled":true}`); got != 200 {
		t.Fatal("disable again")
	}
	if resp, _ := send(t, "PATCH", api+"/users/admin", admin, `{"disabled":true}`); resp.StatusCode != 422 {
		t.Fatalf("the admin disabling themself: %d", resp.StatusCode)
	}
	if resp, _ := send(t, "PATCH", api+"/users/nobody", admin, `{"disabled":true}`); resp.StatusCode != 404 {
		t.Fatalf("an unknown user: %d", resp.StatusCode)
	}
}

// However many displays watch a station's board, one reader follows its
// queue; one address may hold only so many streams.
func TestBoardsShareOneReader(t *testing.T) {
	t.Parallel()
	api, _, _ := configured(t, 0, call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`})
	root := strings.TrimSuffix(api, "/api/v1")
	metric := func(name string) string {
		t.Helper()
		resp, err := http.Get(root + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				return v
			}
		}
		return ""
	}
	var open []*http.Response
	defer func() {
		for _, r := range open {
			r.Body.Close()
		}
	}()
	for i := range 17 {
		resp, err := http.Get(api + "/stations/gulou/board")
		if err != nil {
			t.Fatal(err)
		}
		if i == 16 {
			if resp.StatusCode != 429 {
				t.Fatalf("a 17th stream from one address: %d", resp.StatusCode)
			}
			resp.Body.Close()
			break
		}
		if resp.StatusCode != 200 {
			t.Fatalf("stream %d: %d", i, resp.StatusCode)
		}
		open = append(open, resp)
	}
	if s, r := metric("servicehall_board_streams"), metric("servicehall_board_readers"); s != "16" || r != "1" {
		t.Fatalf("16 displays of one station: %s streams, %s readers; want 16 and 1", s, r)
	}
	// Each display got the day at once.
	for i, r := range open {
		line, err := bufio.NewReader(r.Body).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "event:") {
			t.Fatalf("display %d: %q %v", i, line, err)
		}
	}
	// When the displays go, so does the reader.
	for _, r := range open {
		r.Body.Close()
	}
	open = nil
	for deadline := time.Now().Add(5 * time.Second); metric("servicehall_board_readers") != "0"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after the displays closed: %s streams, %s readers", metric("servicehall_board_streams"), metric("servicehall_board_readers"))
		}
	}
}
