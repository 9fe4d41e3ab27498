package api_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/servicehall/servicehall/domain/calendar"
)

func TestResidentsBookOverHTTP(t *testing.T) {
	t.Parallel()
	api, admin, stop := configured(t, 0,
		call{"POST", "/services", `{"id":"birth","name":"Birth registration","name_zh":"出生登记","category":"household","time_limit_days":20,"online":false,"materials":[]}`},
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		call{"PUT", "/stations/gulou/hours", `{"weekly":[],"weekend_windows":[{"weekday":6,"start":"09:00","end":"10:00","service_ids":["birth"],"slot_minutes":60,"capacity":2}]}`},
	)
	defer stop()

	if resp, _ := send(t, "POST", api+"/auth/otp", "", `{"phone":"12345"}`); resp.StatusCode != 422 {
		t.Fatalf("otp for a bad phone: %d", resp.StatusCode)
	}
	_, out := send(t, "POST", api+"/auth/otp", "", `{"phone":"13700000001"}`)
	good := out["dev_code"].(string)
	if resp, _ := send(t, "POST", api+"/auth/verify", "", `{"phone":"13700000001","code":"000000x"}`); resp.StatusCode != 401 {
		t.Fatalf("wrong code: %d", resp.StatusCode)
	}
	if resp, _ := send(t, "POST", api+"/auth/verify", "", fmt.Sprintf(`{"phone":"13700000001","code":%q}`, good)); resp.StatusCode != 200 {
		t.Fatalf("right code after one wrong try: %d", resp.StatusCode)
	}
	if resp, _ := send(t, "POST", api+"/auth/verify", "", fmt.Sprintf(`{"phone":"13700000001","code":%q}`, good)); resp.StatusCode != 401 {
		t.Fatalf("a code used twice: %d", resp.StatusCode)
	}

	loc, _ := time.LoadLocation("Asia/Shanghai")
	sat := calendar.DateOf(time.Now().In(loc)).AddDays(1)
	for sat.Weekday() != 6 {
		sat = sat.AddDays(1)
	}
	booking := func(name, id, phone string) string {
		return fmt.Sprintf(`{"station_id":"gulou","service_id":"birth","date":%q,"start":"09:00","resident":{"name":%q,"id_number":%q,"phone":%q}}`, sat, name, id, phone)
	}
	zhang := residentLogin(t, api, "13812345678")
	li := residentLogin(t, api, "13912345678")
	if resp, out := send(t, "POST", api+"/appointments", zhang, booking("张三", "330502198807024471", "13812345678")); resp.StatusCode != 422 {
		t.Fatalf("bad ID number: %d %v", resp.StatusCode, out)
	}
	resp, out := send(t, "POST", api+"/appointments", zhang, booking("张三", "33050219880702447X", "13812345678"))
	if resp.StatusCode != 201 || out["status"] != "booked" || out["resident"].(map[string]any)["id_number"] != "33050219880702447X" {
		t.Fatalf("book: %d %v", resp.StatusCode, out)
	}
	id := out["id"].(string)
	pos := map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}
	if resp, _ := send(t, "POST", api+"/appointments", li, booking("李四", "11010519491231002X", "13912345678")); resp.StatusCode != 201 {
		t.Fatalf("second place: %d", resp.StatusCode)
	}
	resp, out = send(t, "POST", api+"/appointments", li, booking("王五", "440308199901101512", "13712345678"))
	if resp.StatusCode != 409 || out["type"] != "/problems/fully-booked" {
		t.Fatalf("a third booking of two places: %d %v", resp.StatusCode, out)
	}

	var a map[string]any
	if resp := getJSONAuth(t, api+"/appointments/"+id, zhang, pos, &a); resp.StatusCode != 200 || a["status"] != "booked" || a["date"] != sat.String() {
		t.Fatalf("owner reads: %d %v", resp.StatusCode, a)
	}
	if resp := getJSONAuth(t, api+"/appointments/"+id, li, pos, nil); resp.StatusCode != 404 {
		t.Fatalf("another resident reads: %d", resp.StatusCode)
	}
	// The resident sees their own details in full; anyone else masked.
	if r := a["resident"].(map[string]any); r["id_number"] != "33050219880702447X" || r["phone"] != "13812345678" || r["masked"] != false {
		t.Fatalf("the owner's view of themself: %v", r)
	}
	if resp := getJSONAuth(t, api+"/appointments/"+id, admin, pos, &a); resp.StatusCode != 200 {
		t.Fatalf("admin reads: %d", resp.StatusCode)
	}
	if r := a["resident"].(map[string]any); r["id_number"] != "330***********447X" || r["phone"] != "138****5678" || r["name"] != "张*" || r["masked"] != true {
		t.Fatalf("admin's view of the resident: %v", r)
	}
	if raw, _ := json.Marshal(a); strings.Contains(string(raw), "sealed") || strings.Contains(string(raw), "33050219880702447X") {
		t.Fatalf("admin's answer carries the sealed or full details: %s", raw)
	}
	var mine []map[string]any
	if resp := getJSONAuth(t, api+"/me/appointments", zhang, pos, &mine); resp.StatusCode != 200 || len(mine) != 1 || mine[0]["id"] != id {
		t.Fatalf("my appointments: %d %v", resp.StatusCode, mine)
	}
	if resp := getJSONAuth(t, api+"/me/appointments", admin, pos, nil); resp.StatusCode != 403 {
		t.Fatalf("admin on /me: %d", resp.StatusCode)
	}
}

func TestAppointmentLifecycleOverHTTP(t *testing.T) {
	t.Parallel()
	// Three weeks of slots, so that the Saturday after next is always open.
	api, _, stop := configured(t, 21,
		call{"POST", "/services", `{"id":"birth","name":"Birth registration","name_zh":"出生登记","category":"household","time_limit_days":20,"online":false,"materials":[]}`},
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		call{"POST", "/stations", `{"id":"xicheng","name":"西城派出所"}`},
		call{"POST", "/users", `{"username":"other.staff","password":"counter-pass-2","role":"staff","station_id":"xicheng"}`},
		call{"POST", "/users", `{"username":"desk.gulou","password":"counter-pass-3","role":"staff","station_id":"gulou"}`},
		call{"PUT", "/stations/gulou/hours", `{"weekly":[],"weekend_windows":[{"weekday":6,"start":"09:00","end":"11:00","service_ids":["birth"],"slot_minutes":60,"capacity":1}]}`},
	)
	defer stop()
	_, out := send(t, "POST", api+"/auth/login", "", `{"username":"other.staff","password":"counter-pass-2"}`)
	otherStaff := out["token"].(string)
	_, out = send(t, "POST", api+"/auth/login", "", `{"username":"desk.gulou","password":"counter-pass-3"}`)
	desk := out["token"].(string)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	sat := calendar.DateOf(time.Now().In(loc)).AddDays(1)
	for sat.Weekday() != 6 {
		sat = sat.AddDays(1)
	}
	zhang := residentLogin(t, api, "13812345678")
	li := residentLogin(t, api, "13912345678")
	resp, out := send(t, "POST", api+"/appointments", zhang, fmt.Sprintf(`{"station_id":"gulou","service_id":"birth","date":%q,"start":"09:00","resident":{"name":"张三","id_number":"33050219880702447X","phone":"13812345678"}}`, sat))
	if resp.StatusCode != 201 {
		t.Fatalf("book: %d %v", resp.StatusCode, out)
	}
	id, atBooking := out["id"].(string), resp.Header.Get("X-Position") // reads wait for the booking's view
	code, _ := out["code"].(string)
	if len(code) != 6 || strings.ContainsAny(code, "0O1IL2Z5S8BG") {
		t.Fatalf("check-in code %q: want 6 characters, none that read alike", code)
	}

	// The confirmation: the code as a QR image and the booking as a
	// calendar file, for the owner only.
	req, _ := http.NewRequest("GET", api+"/appointments/"+id+"/qr", nil)
	req.Header.Set("Authorization", "Bearer "+zhang)
	req.Header.Set("X-Min-Position", atBooking)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("QR code: %v %v", resp, err)
	} else if img, err := png.Decode(resp.Body); err != nil || img.Bounds().Dx() != 256 {
		t.Fatalf("QR code image: %v", err)
	}
	req, _ = http.NewRequest("GET", api+"/appointments/"+id+"/ics", nil)
	req.Header.Set("Authorization", "Bearer "+zhang)
	req.Header.Set("X-Min-Position", atBooking)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("calendar file: %v %v", resp, err)
	} else if ics, _ := io.ReadAll(resp.Body); !strings.Contains(string(ics), "BEGIN:VEVENT") || !strings.Contains(string(ics), code) ||
		!strings.Contains(string(ics), "DTSTART:"+sat.In(loc).Add(9*time.Hour).UTC().Format("20060102T150405Z")) || !strings.Contains(string(ics), "SUMMARY:出生登记 (Birth") {
		t.Fatalf("calendar file: %s", ics)
	}
	if resp := getJSONAuth(t, api+"/appointments/"+id+"/ics", li, nil, nil); resp.StatusCode != 404 {
		t.Fatalf("another resident's calendar file: %d", resp.StatusCode)
	}

	// Only the owner (or the station's staff, managers, admin) may act.
	if resp, _ := send(t, "POST", api+"/appointments/"+id+"/cancel", li, ""); resp.StatusCode != 404 {
		t.Fatalf("another resident cancels: %d", resp.StatusCode)
	}
	if resp, _ := send(t, "POST", api+"/appointments/"+id+"/cancel", otherStaff, ""); resp.StatusCode != 404 {
		t.Fatalf("another station's staff cancels: %d", resp.StatusCode)
	}
	// Check-in is at the hall only, and refused before the day.
	if resp, out := send(t, "POST", api+"/appointments/"+id+"/check-in", zhang, ""); resp.StatusCode != 403 {
		t.Fatalf("check-in from the resident's phone: %d %v", resp.StatusCode, out)
	}
	if resp, out := send(t, "POST", api+"/appointments/"+id+"/check-in", desk, ""); resp.StatusCode != 409 || !strings.Contains(out["detail"].(string), "请于") {
		t.Fatalf("check-in before the day: %d %v", resp.StatusCode, out)
	}
	// By the short code, typed in lower case with a dash: found, and
	// refused for the same reason.
	typed := strings.ToLower(code[:3] + "-" + code[3:])
	if resp, out := send(t, "POST", api+"/stations/gulou/check-in", desk, fmt.Sprintf(`{"code":%q}`, typed)); resp.StatusCode != 409 || !strings.Contains(out["detail"].(string), "请于") {
		t.Fatalf("check-in by code before the day: %d %v", resp.StatusCode, out)
	}
	if resp, out := send(t, "POST", api+"/stations/gulou/check-in", desk, `{"code":"XXXXXX"}`); resp.StatusCode != 404 {
		t.Fatalf("an unknown code: %d %v", resp.StatusCode, out)
	}
	if resp, _ := send(t, "POST", api+"/stations/xicheng/check-in", otherStaff, fmt.Sprintf(`{"code":%q}`, code)); resp.StatusCode != 404 {
		t.Fatalf("the code at another station: %d", resp.StatusCode)
	}
	// Reschedule to 10:00 the week after; the 09:00 place is freed.
	next := sat.AddDays(7)
	resp, out = send(t, "POST", api+"/appointments/"+id+"/reschedule", zhang, fmt.Sprintf(`{"date":%q,"start":"10:00"}`, next))
	if resp.StatusCode != 200 || out["start"] != "10:00" {
		t.Fatalf("reschedule: %d %v", resp.StatusCode, out)
	}
	pos := map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}
	var a map[string]any
	getJSONAuth(t, api+"/appointments/"+id, zhang, pos, &a)
	if a["date"] != next.String() || a["start"] != "10:00" || a["status"] != "booked" {
		t.Fatalf("after reschedule: %v", a)
	}
	var slots []map[string]any
	getJSON(t, fmt.Sprintf("%s/stations/gulou/availability?service_id=birth&from=%s&to=%s", api, sat, next), pos, &slots)
	booked := map[string]float64{}
	for _, s := range slots {
		booked[s["date"].(string)+" "+s["start"].(string)] = s["booked"].(float64)
	}
	if booked[sat.String()+" 09:00"] != 0 || booked[next.String()+" 10:00"] != 1 {
		t.Fatalf("bookings after reschedule: %v", booked)
	}
	// Cancel: the appointment is cancelled, the place counts free again
	// once the return delay has passed.
	resp, out = send(t, "POST", api+"/appointments/"+id+"/cancel", zhang, `{"reason":"plans changed"}`)
	if resp.StatusCode != 200 || out["status"] != "cancelled" {
		t.Fatalf("cancel: %d %v", resp.StatusCode, out)
	}
	pos["X-Min-Position"] = resp.Header.Get("X-Position")
	getJSONAuth(t, api+"/appointments/"+id, zhang, pos, &a)
	if a["status"] != "cancelled" {
		t.Fatalf("after cancel: %v", a)
	}
	if resp, _ := send(t, "POST", api+"/appointments/"+id+"/check-in", desk, ""); resp.StatusCode != 409 {
		t.Fatalf("check-in after cancel: %d", resp.StatusCode)
	}
	if resp, _ := send(t, "POST", api+"/stations/gulou/check-in", desk, fmt.Sprintf(`{"code":%q}`, code)); resp.StatusCode != 404 {
		t.Fatalf("a cancelled booking's code: %d", resp.StatusCode)
	}
	if resp, _ := send(t, "POST", api+"/appointments/"+id+"/cancel", zhang, `{"reason":"again"}`); resp.StatusCode != 200 {
		t.Fatalf("cancelling twice: %d", resp.StatusCode)
	}
}

func TestCounterDayOverHTTP(t *testing.T) {
	t.Parallel()
	api, _, stop := configured(t, 0,
		call{"POST", "/services", `{"id":"birth","name":"Birth registration","name_zh":"出生登记","category":"household","time_limit_days":20,"online":false,"materials":[]}`},
		call{"POST", "/services", `{"id":"permit","name":"Residence permit","name_zh":"居住证申领","category":"license","time_limit_days":15,"time_limit_unit":"calendar","online":true,"materials":[]}`},
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		call{"POST", "/stations", `{"id":"xicheng","name":"西城派出所"}`},
		call{"POST", "/services", `{"id":"passport","name":"Passport","name_zh":"护照","category":"license","time_limit_days":7,"online":true,"materials":[]}`},
		call{"POST", "/stations/gulou/counters", `{"id":"w1","name":"1号窗口","service_ids":["birth","permit"]}`},
		call{"POST", "/users", `{"username":"li.wei","password":"counter-pass-1","role":"staff","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"other.staff","password":"counter-pass-2","role":"staff","station_id":"xicheng"}`},
	)
	_, out := send(t, "POST", api+"/auth/login", "", `{"username":"li.wei","password":"counter-pass-1"}`)
	staff := out["token"].(string)
	_, out = send(t, "POST", api+"/auth/login", "", `{"username":"other.staff","password":"counter-pass-2"}`)
	other := out["token"].(string)
	resident := residentLogin(t, api, "13812345678")

	issue := func(token, body string) (*http.Response, map[string]any) {
		return send(t, "POST", api+"/stations/gulou/tickets", token, body)
	}
	resp, out := issue(staff, `{"service_id":"birth"}`)
	if resp.StatusCode != 201 || out["number"] != "A001" || out["position"].(float64) != 0 {
		t.Fatalf("first walk-in: %d %v", resp.StatusCode, out)
	}
	// The estimate follows the call order, after the ticket's own write:
	// the elderly ticket goes first and waits for nobody.
	pos := map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}
	var q map[string]any
	getJSONAuth(t, api+"/stations/gulou/queue", staff, pos, &q)
	if resp, out := issue(staff, `{"service_id":"birth","priority":"elderly"}`); resp.StatusCode != 201 || out["number"] != "A002" || out["position"].(float64) != 0 || out["estimated_wait_minutes"].(float64) != 0 {
		t.Fatalf("elderly walk-in goes first: %d %v", resp.StatusCode, out)
	}
	resp, out = issue(staff, `{"service_id":"permit"}`)
	if resp.StatusCode != 201 || out["number"] != "B001" {
		t.Fatalf("license walk-in: %d %v", resp.StatusCode, out)
	}
	pos = map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}
	if resp, _ := issue(staff, `{"service_id":"birth","priority":"vip"}`); resp.StatusCode != 422 {
		t.Fatalf("unknown priority: %d", resp.StatusCode)
	}
	if resp, _ := issue(other, `{"service_id":"birth"}`); resp.StatusCode != 404 {
		t.Fatalf("another station's staff: %d", resp.StatusCode)
	}
	if resp, _ := issue(resident, `{"service_id":"birth"}`); resp.StatusCode != 403 {
		t.Fatalf("a resident at the counter API: %d", resp.StatusCode)
	}
	getJSONAuth(t, api+"/stations/gulou/queue", staff, pos, &q)
	waiting := q["waiting"].([]any)
	if len(waiting) != 3 || waiting[0].(map[string]any)["number"] != "A002" || waiting[1].(map[string]any)["number"] != "A001" {
		t.Fatalf("queue = %v", q)
	}
	// No counter is open yet: the first to open takes the elderly ticket,
	// and A001 waits for it to finish, half a default service of 5 minutes.
	if a001 := waiting[1].(map[string]any); a001["ahead"].(float64) != 1 || a001["estimated_wait_minutes"].(float64) != 3 {
		t.Fatalf("A001 behind the elderly ticket: %v, want one ahead and 3 minutes", a001)
	}

	counter := func(token, action, body string) (*http.Response, map[string]any) {
		return send(t, "POST", api+"/counters/w1/"+action, token, body)
	}
	if resp, _ := counter(staff, "call-next", ""); resp.StatusCode != 409 {
		t.Fatalf("calling at a closed counter: %d", resp.StatusCode)
	}
	if resp, out := counter(staff, "open", `{"service_ids":["passport"]}`); resp.StatusCode != 422 {
		t.Fatalf("opening a birth and permit counter for passports: %d %v", resp.StatusCode, out)
	}
	if resp, out := counter(staff, "open", `{"service_ids":["birth"]}`); resp.StatusCode != 204 && resp.StatusCode != 200 {
		t.Fatalf("open: %d %v", resp.StatusCode, out)
	}
	// The hall board, open before the call, shows it within a second.
	boardResp, err := http.Get(api + "/stations/gulou/board")
	if err != nil || boardResp.StatusCode != 200 || boardResp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("board: %v %v", boardResp, err)
	}
	defer boardResp.Body.Close()
	calls := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(boardResp.Body)
		event := ""
		for sc.Scan() {
			if e, ok := strings.CutPrefix(sc.Text(), "event:"); ok {
				event = e
			}
			if d, ok := strings.CutPrefix(sc.Text(), "data:"); ok && event == "call" {
				calls <- d
			}
		}
	}()
	time.Sleep(100 * time.Millisecond) // let the board subscribe
	called := time.Now()
	resp, out = counter(staff, "call-next", "")
	if tk := out["ticket"].(map[string]any); resp.StatusCode != 200 || tk["number"] != "A002" || tk["state"] != "called" || tk["counter_id"] != "w1" {
		t.Fatalf("call-next: %d %v", resp.StatusCode, out)
	}
	select {
	case d := <-calls:
		if !strings.Contains(d, `"number":"A002"`) || !strings.Contains(d, `"counter_id":"w1"`) {
			t.Fatalf("board event %s", d)
		}
		if time.Since(called) > time.Second {
			t.Fatalf("the board showed the call after %v", time.Since(called))
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the board showed no call")
	}
	if resp, _ := counter(staff, "call-next", ""); resp.StatusCode != 409 {
		t.Fatalf("a second call while busy: %d", resp.StatusCode)
	}
	if resp, _ := counter(staff, "recall", ""); resp.StatusCode != 200 {
		t.Fatalf("recall: %d", resp.StatusCode)
	}
	a002 := out["ticket"].(map[string]any)["id"].(string)
	if resp, out := counter(staff, "complete", fmt.Sprintf(`{"ticket_id":%q}`, a002)); resp.StatusCode != 200 || out["ticket"].(map[string]any)["state"] != "done" {
		t.Fatalf("complete: %d %v", resp.StatusCode, out)
	}
	if resp, out := counter(staff, "call-next", ""); resp.StatusCode != 200 || out["ticket"].(map[string]any)["number"] != "A001" {
		t.Fatalf("next: %d %v", resp.StatusCode, out)
	}
	// A no-show meant for A002, which a colleague completed meanwhile,
	// does not send away A001, called since.
	if resp, out := counter(staff, "no-show", fmt.Sprintf(`{"ticket_id":%q}`, a002)); resp.StatusCode != 409 {
		t.Fatalf("a no-show for a ticket no longer current: %d %v", resp.StatusCode, out)
	}
	// Only to a line some counter here serves: a passport ticket would wait
	// for nobody.
	if resp, out := counter(staff, "transfer", `{"service_id":"passport"}`); resp.StatusCode != 422 {
		t.Fatalf("transfer to a line nobody serves: %d %v", resp.StatusCode, out)
	}
	if resp, out := issue(staff, `{"service_id":"passport"}`); resp.StatusCode != 422 {
		t.Fatalf("a walk-in for a line nobody serves: %d %v", resp.StatusCode, out)
	}
	if resp, out := counter(staff, "transfer", `{"service_id":"permit"}`); resp.StatusCode != 200 || out["ticket"].(map[string]any)["state"] != "waiting" {
		t.Fatalf("transfer: %d %v", resp.StatusCode, out)
	}
	// The counter serves birth only now, and nobody waits for it.
	if resp, _ := counter(staff, "call-next", ""); resp.StatusCode != 204 {
		t.Fatalf("nobody waiting: %d", resp.StatusCode)
	}
	if resp, _ := counter(other, "call-next", ""); resp.StatusCode != 404 {
		t.Fatalf("another station's staff at w1: %d", resp.StatusCode)
	}
	// A parked ticket stays in the queue until it is resumed.
	if resp, out := issue(staff, `{"service_id":"birth"}`); resp.StatusCode != 201 || out["number"] != "A003" {
		t.Fatalf("walk-in: %d %v", resp.StatusCode, out)
	}
	if resp, out := counter(staff, "call-next", ""); resp.StatusCode != 200 || out["ticket"].(map[string]any)["number"] != "A003" {
		t.Fatalf("call A003: %d %v", resp.StatusCode, out)
	}
	resp, out = counter(staff, "park", "")
	if resp.StatusCode != 200 || out["ticket"].(map[string]any)["state"] != "parked" {
		t.Fatalf("park: %d %v", resp.StatusCode, out)
	}
	parkedID := out["ticket"].(map[string]any)["id"].(string)
	pos = map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}
	getJSONAuth(t, api+"/stations/gulou/queue", staff, pos, &q)
	if parked := q["parked"].([]any); len(parked) != 1 || parked[0].(map[string]any)["number"] != "A003" {
		t.Fatalf("parked tickets in the queue: %v", q["parked"])
	}
	if resp, out := counter(staff, "resume", fmt.Sprintf(`{"ticket_id":%q}`, parkedID)); resp.StatusCode != 200 || out["ticket"].(map[string]any)["state"] != "serving" {
		t.Fatalf("resume: %d %v", resp.StatusCode, out)
	}
	if resp, _ := counter(staff, "complete", ""); resp.StatusCode != 200 {
		t.Fatalf("complete A003: %d", resp.StatusCode)
	}
	if resp, _ := counter(staff, "close", ""); resp.StatusCode != 204 && resp.StatusCode != 200 {
		t.Fatalf("close: %d", resp.StatusCode)
	}
	resp, _ = counter(staff, "pause", "")
	if resp.StatusCode != 409 {
		t.Fatalf("pausing a closed counter: %d", resp.StatusCode)
	}
	// Shutting down with the board still open does not wait for it.
	began := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if time.Since(began) > 5*time.Second {
		t.Fatalf("shutdown took %v with a board open", time.Since(began))
	}
}

func TestApplicationOverHTTP(t *testing.T) {
	t.Parallel()
	api, _, stop := configured(t, 0,
		call{"POST", "/services", `{"id":"birth","name":"Birth registration","name_zh":"出生登记","category":"household","time_limit_days":20,"online":false,"materials":[]}`},
		call{"POST", "/services", `{"id":"permit","name":"Residence permit","name_zh":"居住证申领","category":"license","time_limit_days":15,"time_limit_unit":"calendar","online":true,"materials":[]}`},
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		call{"POST", "/stations", `{"id":"xicheng","name":"西城派出所"}`},
		call{"POST", "/users", `{"username":"li.wei","password":"counter-pass-1","role":"staff","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"other.staff","password":"counter-pass-2","role":"staff","station_id":"xicheng"}`},
		call{"POST", "/users", `{"username":"zhao.lead","password":"manager-pass-1","role":"manager","station_id":"gulou"}`},
	)
	defer stop()
	login := func(u, p string) string {
		_, out := send(t, "POST", api+"/auth/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, u, p))
		return out["token"].(string)
	}
	staff, other, lead := login("li.wei", "counter-pass-1"), login("other.staff", "counter-pass-2"), login("zhao.lead", "manager-pass-1")
	zhang := residentLogin(t, api, "13812345678")

	applicant := `"applicant":{"name":"张三","id_number":"33050219880702447X","phone":"13812345678"}`
	if resp, _ := send(t, "POST", api+"/applications", zhang, `{"station_id":"gulou","service_id":"birth","channel":"online",`+applicant+`}`); resp.StatusCode != 422 {
		t.Fatalf("online application for a counter-only service: %d", resp.StatusCode)
	}
	if resp, _ := send(t, "POST", api+"/applications", zhang, `{"station_id":"nowhere","service_id":"permit","channel":"online",`+applicant+`}`); resp.StatusCode != 422 {
		t.Fatalf("application to an unknown station: %d", resp.StatusCode)
	}
	if resp, _ := send(t, "POST", api+"/applications", zhang, `{"station_id":"gulou","service_id":"permit","channel":"online",`+applicant+`}`); resp.StatusCode != 201 {
		t.Fatalf("online application: %d", resp.StatusCode)
	}
	resp, out := send(t, "POST", api+"/applications", staff, `{"station_id":"gulou","service_id":"birth","channel":"counter",`+applicant+`}`)
	if resp.StatusCode != 201 || out["status"] != "submitted" {
		t.Fatalf("counter application: %d %v", resp.StatusCode, out)
	}
	id := out["id"].(string)
	do := func(token, action, body string) (*http.Response, map[string]any) {
		return send(t, "POST", api+"/applications/"+id+"/"+action, token, body)
	}
	if resp, _ := do(other, "accept", ""); resp.StatusCode != 404 {
		t.Fatalf("another station accepts: %d", resp.StatusCode)
	}
	if resp, _ := do(zhang, "accept", ""); resp.StatusCode != 403 {
		t.Fatalf("a resident accepts: %d", resp.StatusCode)
	}
	if resp, _ := do(staff, "approve", `{"note":"ok"}`); resp.StatusCode != 409 {
		t.Fatalf("approve before acceptance: %d", resp.StatusCode)
	}
	resp, out = do(staff, "accept", "")
	if resp.StatusCode != 200 || out["status"] != "accepted" || out["deadline"] == nil {
		t.Fatalf("accept: %d %v", resp.StatusCode, out)
	}
	if resp, out := do(staff, "request-supplement", `{"missing":[]}`); resp.StatusCode != 422 {
		t.Fatalf("supplement without materials: %d %v", resp.StatusCode, out)
	}
	if resp, out := do(staff, "request-supplement", `{"missing":["出生医学证明"]}`); resp.StatusCode != 200 || out["status"] != "supplement_requested" {
		t.Fatalf("request supplement: %d %v", resp.StatusCode, out)
	}
	if resp, out := do(staff, "supplement", ""); resp.StatusCode != 200 || out["status"] != "accepted" {
		t.Fatalf("supplement received: %d %v", resp.StatusCode, out)
	}
	if resp, _ := do(staff, "extend", `{"days":5,"reason":"需上级审批"}`); resp.StatusCode != 403 {
		t.Fatalf("staff extends: %d", resp.StatusCode)
	}
	resp, out = do(lead, "extend", `{"days":5,"reason":"需上级审批"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("manager extends: %d %v", resp.StatusCode, out)
	}
	// Open: this one, and the online one awaiting acceptance (next working day).
	var sla []map[string]any
	if resp := getJSONAuth(t, api+"/sla", lead, map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}, &sla); resp.StatusCode != 200 ||
		len(sla) != 2 || sla[1]["application_id"] != id || sla[1]["state"] != "on_track" || sla[1]["working_days_left"].(float64) < 20 || sla[0]["state"] != "warning" {
		t.Fatalf("SLA list while open: %d %v", resp.StatusCode, sla)
	}
	if resp := getJSONAuth(t, api+"/sla?state=overdue", lead, nil, &sla); resp.StatusCode != 200 || len(sla) != 0 {
		t.Fatalf("overdue list: %d %v", resp.StatusCode, sla)
	}
	if resp, _ := do(lead, "approve", `{"note":"材料齐全"}`); resp.StatusCode != 200 {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	resp, out = do(staff, "complete", "")
	if resp.StatusCode != 200 || out["status"] != "completed" {
		t.Fatalf("complete: %d %v", resp.StatusCode, out)
	}
	pos := map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}
	if resp, _ := do(zhang, "rate", `{"score":2,"comment":"太慢"}`); resp.StatusCode != 200 {
		t.Fatalf("rate: %d", resp.StatusCode)
	}
	if resp, _ := do(zhang, "rate", `{"score":5}`); resp.StatusCode != 409 {
		t.Fatalf("rate again before the remediation: %d", resp.StatusCode)
	}
	for _, step := range []string{"verify", "rectify", "reply"} {
		if resp, out := do(lead, "remediation/"+step, `{"note":"已整改"}`); resp.StatusCode != 200 {
			t.Fatalf("remediation %s: %d %v", step, resp.StatusCode, out)
		}
	}
	if resp, _ := do(zhang, "rate", `{"score":4}`); resp.StatusCode != 200 {
		t.Fatalf("rate after the remediation: %d", resp.StatusCode)
	} else {
		pos = map[string]string{"X-Min-Position": resp.Header.Get("X-Position")} // the reads below see every write above
	}
	var a map[string]any
	getJSONAuth(t, api+"/applications/"+id, zhang, pos, &a)
	history := a["history"].([]any)
	if a["status"] != "completed" || a["escalation_level"].(float64) != 0 || len(history) < 7 ||
		history[1].(map[string]any)["actor"] != "li.wei" || history[5].(map[string]any)["actor"] != "zhao.lead" {
		t.Fatalf("application = %v", a)
	}
	if resp := getJSONAuth(t, api+"/applications/"+id, other, nil, nil); resp.StatusCode != 404 {
		t.Fatalf("another station reads: %d", resp.StatusCode)
	}
	var mine []map[string]any
	if resp := getJSONAuth(t, api+"/me/applications", zhang, pos, &mine); resp.StatusCode != 200 || len(mine) != 2 {
		t.Fatalf("my applications: %d %v", resp.StatusCode, mine)
	}

	// The manager reads the figures and who decided what.
	today := time.Now().In(shanghai(t)).Format(time.DateOnly)
	later := time.Now().In(shanghai(t)).AddDate(0, 3, 0).Format(time.DateOnly)
	var rates []map[string]any
	if resp := getJSONAuth(t, api+"/stats/completion?from="+today+"&to="+later+"&by=service", lead, pos, &rates); resp.StatusCode != 200 ||
		len(rates) != 1 || rates[0]["key"] != "birth" || rates[0]["due"].(float64) != 1 || rates[0]["completed"].(float64) != 1 ||
		rates[0]["completion_rate"].(float64) != 1 || rates[0]["on_time_rate"].(float64) != 1 {
		t.Fatalf("completion: %d %v", resp.StatusCode, rates)
	}
	if resp := getJSONAuth(t, api+"/stats/completion?station_id=xicheng&from="+today+"&to="+later, lead, nil, nil); resp.StatusCode != 404 {
		t.Fatalf("another station's figures: %d", resp.StatusCode)
	}
	if resp := getJSONAuth(t, api+"/stats/completion?from="+later+"&to="+today, lead, nil, nil); resp.StatusCode != 422 {
		t.Fatalf("reversed range: %d", resp.StatusCode)
	}
	// As of yesterday nothing had been due or done.
	yesterday := time.Now().In(shanghai(t)).AddDate(0, 0, -1).Format(time.DateOnly)
	if resp := getJSONAuth(t, api+"/stats/completion?from="+today+"&to="+later+"&as_of="+yesterday, lead, nil, &rates); resp.StatusCode != 200 || len(rates) != 0 {
		t.Fatalf("completion as of yesterday: %d %v", resp.StatusCode, rates)
	}
	if resp := getJSONAuth(t, api+"/sla", staff, nil, nil); resp.StatusCode != 403 {
		t.Fatalf("staff reads the SLA list: %d", resp.StatusCode)
	}
	var trail []map[string]any
	if resp := getJSONAuth(t, api+"/audit?stream=application-"+id, lead, nil, &trail); resp.StatusCode != 200 || len(trail) != 13 ||
		trail[1]["actor"] != "li.wei" || trail[4]["actor"] != "zhao.lead" {
		t.Fatalf("audit of the application: %d %v", resp.StatusCode, trail)
	}
	if resp := getJSONAuth(t, api+"/audit?actor=zhao.lead", lead, pos, &trail); resp.StatusCode != 200 || len(trail) != 5 {
		t.Fatalf("audit of the manager: %d %v", resp.StatusCode, trail)
	}
	if resp := getJSONAuth(t, api+"/audit", lead, nil, nil); resp.StatusCode != 422 {
		t.Fatalf("audit without stream or actor: %d", resp.StatusCode)
	}
	// The days left, counted on the official calendar by the server, while
	// the clock runs; none once it is done. The online one accepted first.
	for _, m := range mine {
		if m["status"] == "submitted" {
			resp, _ := send(t, "POST", api+"/applications/"+m["id"].(string)+"/accept", staff, "")
			pos = map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}
		}
	}
	mine = nil
	getJSONAuth(t, api+"/me/applications", zhang, pos, &mine)
	accepted := 0
	for _, m := range mine {
		if _, has := m["days_left"]; has != (m["status"] == "accepted") {
			t.Errorf("my application %v %v: days_left %v", m["id"], m["status"], m["days_left"])
		}
		if m["status"] == "accepted" {
			accepted++
			var one map[string]any
			getJSONAuth(t, api+"/applications/"+m["id"].(string), zhang, pos, &one)
			if one["working_days_left"] != m["days_left"] {
				t.Errorf("days left %v in my list, %v in the application", m["days_left"], one["working_days_left"])
			}
		}
	}
	if accepted != 1 {
		t.Errorf("my applications after the acceptance: %v", mine)
	}
}

// Every endpoint of the document, called by every role and without a
// token: a role the document does not list is refused (403, or 401 without
// a token), and a role it lists gets past the check (any other answer:
// the ids are made up, so most say 404 or 422).
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	api, admin, stop := configured(t, 0,
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		call{"POST", "/users", `{"username":"li.wei","password":"counter-pass-1","role":"staff","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"zhao.lead","password":"manager-pass-1","role":"manager","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"kiosk.gulou","password":"kiosk-pass-1","role":"kiosk","station_id":"gulou"}`},
	)
	defer stop()
	login := func(u, p string) string {
		_, out := send(t, "POST", api+"/auth/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, u, p))
		return out["token"].(string)
	}
	tokens := map[string]string{"": "", "resident": residentLogin(t, api, "13812345678"), "staff": login("li.wei", "counter-pass-1"),
		"manager": login("zhao.lead", "manager-pass-1"), "admin": admin, "kiosk": login("kiosk.gulou", "kiosk-pass-1")}
	var doc struct {
		Paths map[string]map[string]struct {
			Roles []string `json:"x-roles"`
		} `json:"paths"`
	}
	getJSON(t, strings.TrimSuffix(api, "/api/v1")+"/openapi.json", nil, &doc)
	client := &http.Client{Timeout: 5 * time.Second}
	checked := 0
	for path, ops := range doc.Paths {
		if strings.HasPrefix(path, "/api/v1/auth/") {
			continue // answers 401 to a wrong password, whoever asks
		}
		url := strings.TrimSuffix(api, "/api/v1") + strings.NewReplacer("{id}", "nope", "{name}", "nope", "{year}", "2031").Replace(path)
		for method, op := range ops {
			for role, token := range tokens {
				req, _ := http.NewRequest(strings.ToUpper(method), url, strings.NewReader("{}"))
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatalf("%s %s as %q: %v", method, path, role, err)
				}
				resp.Body.Close()
				allowed := len(op.Roles) == 0 || slices.Contains(op.Roles, role)
				refused := resp.StatusCode == 401 || resp.StatusCode == 403
				switch {
				case allowed && refused:
					t.Errorf("%s %s as %q: %d, want past the role check", method, path, role, resp.StatusCode)
				case !allowed && role == "" && resp.StatusCode != 401:
					t.Errorf("%s %s without a token: %d, want 401", method, path, resp.StatusCode)
				case !allowed && role != "" && resp.StatusCode != 403:
					t.Errorf("%s %s as %q: %d, want 403", method, path, role, resp.StatusCode)
				}
				checked++
			}
		}
	}
	// The kiosk checks appointments in, issues walk-in tickets and takes
	// the ratings of visits, nothing else.
	var kiosk []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if slices.Contains(op.Roles, "kiosk") {
				kiosk = append(kiosk, method+" "+path)
			}
		}
	}
	slices.Sort(kiosk)
	if want := []string{"post /api/v1/appointments/{id}/check-in", "post /api/v1/stations/{id}/check-in", "post /api/v1/stations/{id}/tickets", "post /api/v1/tickets/{id}/rate"}; !slices.Equal(kiosk, want) {
		t.Errorf("the kiosk may %v, want %v", kiosk, want)
	}
	if checked < 60*6 {
		t.Fatalf("only %d calls checked", checked)
	}
}

// A phone gets one code a minute, and a refusal says when to come back
// (the other limits: limit_test.go); a body over 1 MiB is refused.
func TestAbuseLimits(t *testing.T) {
	t.Parallel()
	api, _, stop := configured(t, 0)
	defer stop()
	if resp, _ := send(t, "POST", api+"/auth/otp", "", `{"phone":"13800000000"}`); resp.StatusCode != 202 {
		t.Fatalf("first code: %d", resp.StatusCode)
	}
	resp, out := send(t, "POST", api+"/auth/otp", "", `{"phone":"13800000000"}`)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || out["type"] != "/problems/too-many-requests" {
		t.Fatalf("a second code for the phone at once: %d %v", resp.StatusCode, out)
	}
	big := `{"username":"admin","password":"` + strings.Repeat("x", 2<<20) + `"}`
	if resp, _ := send(t, "POST", api+"/auth/login", "", big); resp.StatusCode != 422 {
		t.Fatalf("a 2 MiB body: %d", resp.StatusCode)
	}
}
