package api_test

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/servicehall/servicehall/api"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/internal/apitest"
)

// A morning at gulou's kiosk: a resident's card reader types their ID
// number instead of the code (too early first, then in time; exactly one
// of code and ID number; an unknown or another station's is not found,
// and no answer repeats the number); the ticket's signed follow link
// answers its place, without personal data, and moves when a counter
// calls; a link with a wrong or no signature is not found.
func TestKioskCheckInByIDNumberAndFollowLink(t *testing.T) {
	t.Parallel()
	loc := shanghai(t)
	ns, err := calendar.Official()
	if err != nil {
		t.Fatal(err)
	}
	official := calendar.New(ns...)
	day := calendar.DateOf(time.Now().In(loc)).AddDays(1)
	for !official.IsWorkingDay(day) {
		day = day.AddDays(1)
	}
	c := &clock{now: day.In(loc).Add(8 * time.Hour)}
	// Phones reach the hall at its public address, not the kiosk's.
	base, _ := start(t, api.Config{Now: c.Now, DemoOTP: true, PublicURL: "https://hall.example/"})
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
		call{"POST", "/users", `{"username":"kiosk.gulou","password":"kiosk-pass-1","role":"kiosk","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"kiosk.xicheng","password":"kiosk-pass-2","role":"kiosk","station_id":"xicheng"}`},
	)
	login := func(u, p string) string {
		t.Helper()
		resp, out := send(t, "POST", base+"/auth/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, u, p))
		if resp.StatusCode != 200 {
			t.Fatalf("login %s: %d %v", u, resp.StatusCode, out)
		}
		return out["token"].(string)
	}
	li, kiosk, otherKiosk := login("li.wei", "counter-pass-1"), login("kiosk.gulou", "kiosk-pass-1"), login("kiosk.xicheng", "kiosk-pass-2")
	zhang := residentLogin(t, base, "13812345678")

	pos := "0"
	do := func(clock, method, path, token, body string, want int) (map[string]any, string) {
		t.Helper()
		at, _ := time.ParseInLocation("15:04", clock, loc)
		c.mu.Lock()
		c.now = day.In(loc).Add(time.Duration(at.Hour())*time.Hour + time.Duration(at.Minute())*time.Minute)
		c.mu.Unlock()
		resp, out := sendWith(t, method, base+path, token, body, map[string]string{"X-Min-Position": pos})
		raw := fmt.Sprint(out)
		if resp.StatusCode != want {
			t.Fatalf("%s %s %s: %d %v, want %d", clock, method, path, resp.StatusCode, out, want)
		}
		if p := resp.Header.Get("X-Position"); p != "" && resp.StatusCode < 300 {
			pos = p
		}
		return out, raw
	}
	const idNumber = "33050219880702447X"
	noID := func(what, raw string) {
		t.Helper()
		if strings.Contains(strings.ToUpper(raw), "0702447X") {
			t.Errorf("%s repeats the ID number: %s", what, raw)
		}
	}
	bookedOut, _ := do("08:00", "POST", "/appointments", zhang, fmt.Sprintf(`{"station_id":"gulou","service_id":"birth","date":%q,"start":"10:00","resident":{"name":"张三","id_number":%q,"phone":"13812345678"}}`, day, idNumber), 201)

	// Exactly one of code and ID number.
	if out, _ := do("08:30", "POST", "/stations/gulou/check-in", kiosk, `{}`, 422); !names(out, "code") {
		t.Fatalf("neither code nor ID number: %v", out)
	}
	if out, raw := do("08:30", "POST", "/stations/gulou/check-in", kiosk, fmt.Sprintf(`{"code":"ACDEFH","id_number":%q}`, idNumber), 422); !names(out, "id_number") {
		t.Fatalf("both: %v", out)
	} else {
		noID("both", raw)
	}
	_, raw := do("08:30", "POST", "/stations/gulou/check-in", kiosk, `{"id_number":"330502198807024471"}`, 422) // a wrong check digit
	noID("a wrong check digit", raw)
	_, raw = do("08:30", "POST", "/stations/gulou/check-in", kiosk, `{"id_number":"11010519491231002X"}`, 404) // nobody booked
	noID("an unknown person", raw)
	_, raw = do("08:30", "POST", "/stations/xicheng/check-in", otherKiosk, fmt.Sprintf(`{"id_number":%q}`, idNumber), 404)
	noID("another station", raw)
	// Too early: when to come back, in the station's time.
	if out, raw := do("08:30", "POST", "/stations/gulou/check-in", kiosk, fmt.Sprintf(`{"id_number":%q}`, idNumber), 409); !strings.Contains(out["detail"].(string), "请于 09:00 后再来签到") {
		t.Fatalf("too early: %v", out)
	} else {
		noID("too early", raw)
	}
	// In time, the check digit typed in lower case.
	booked, raw := do("09:05", "POST", "/stations/gulou/check-in", kiosk, fmt.Sprintf(`{"id_number":%q}`, strings.ToLower(idNumber)), 200)
	noID("the check-in", raw)
	ticket := booked["ticket"].(map[string]any)
	follow, qr := booked["follow_url"].(string), booked["follow_qr"].(string)
	ref, ok := strings.CutPrefix(follow, "/ticket?t=")
	if !ok || qr != "/api/v1/tickets/"+ref+"/qr" || !strings.HasPrefix(ref, ticket["id"].(string)+".") || booked["issued_at"] != day.In(loc).Add(9*time.Hour+5*time.Minute).Format(time.RFC3339) {
		t.Fatalf("follow links %q %q for ticket %v", follow, qr, ticket)
	}
	// The card again, once checked in: the same ticket, to print again.
	again, raw := do("09:05", "POST", "/stations/gulou/check-in", kiosk, fmt.Sprintf(`{"id_number":%q}`, idNumber), 200)
	noID("the check-in again", raw)
	if t2 := again["ticket"].(map[string]any); t2["id"] != ticket["id"] || t2["number"] != ticket["number"] {
		t.Fatalf("the card again gave %v, first %v", t2, ticket)
	}
	// And the booking's code, once checked in: the same ticket too.
	again, _ = do("09:05", "POST", "/stations/gulou/check-in", kiosk, fmt.Sprintf(`{"code":%q}`, bookedOut["code"]), 200)
	if t2 := again["ticket"].(map[string]any); t2["id"] != ticket["id"] {
		t.Fatalf("the code again gave %v, first %v", t2, ticket)
	}
	walkIn, _ := do("09:06", "POST", "/stations/gulou/tickets", kiosk, `{"service_id":"birth"}`, 201)
	walkRef, _ := strings.CutPrefix(walkIn["follow_url"].(string), "/ticket?t=")

	live := func(ref string, want int) map[string]any {
		t.Helper()
		var out map[string]any
		resp := apitest.Get(t, base+"/tickets/"+ref+"/live", map[string]string{"X-Min-Position": pos}, &out)
		if resp.StatusCode != want {
			t.Fatalf("live %s: %d %v, want %d", ref, resp.StatusCode, out, want)
		}
		return out
	}
	mine := live(ref, 200)
	if mine["number"] != ticket["number"] || mine["state"] != "waiting" || mine["ahead"] != 0.0 || mine["station_name"] != "鼓楼派出所" || mine["service_name_zh"] != "出生登记" {
		t.Fatalf("the checked-in ticket, live: %v", mine)
	}
	theirs := live(walkRef, 200)
	if theirs["number"] != walkIn["number"] || theirs["ahead"] != 1.0 || theirs["estimated_wait_minutes"] == nil {
		t.Fatalf("the walk-in behind it, live: %v", theirs)
	}
	for _, v := range []map[string]any{mine, theirs} {
		raw := fmt.Sprint(v)
		if strings.Contains(raw, "张") || strings.Contains(raw, "447X") || strings.Contains(raw, "5678") || v["appointment_id"] != nil || v["id"] != nil {
			t.Fatalf("the live ticket shows more than its place: %v", v)
		}
	}

	// A counter calls: the first ticket is called there, the second moves up.
	do("09:10", "POST", "/counters/w1/open", li, `{"service_ids":["birth"]}`, 204)
	do("09:11", "POST", "/counters/w1/call-next", li, "", 200)
	if mine := live(ref, 200); mine["state"] != "called" || mine["counter_name"] != "1号窗口" {
		t.Fatalf("the called ticket, live: %v", mine)
	}
	if theirs := live(walkRef, 200); theirs["ahead"] != 0.0 || theirs["state"] != "waiting" {
		t.Fatalf("the walk-in after the call, live: %v", theirs)
	}

	// Only the server's own links: a wrong, foreign or missing signature,
	// or the plain ticket id, is not found.
	id, mac, _ := strings.Cut(ref, ".")
	walkID, walkMAC, _ := strings.Cut(walkRef, ".")
	for _, bad := range []string{id, id + ".", id + "." + strings.Repeat("A", len(mac)), id + "." + walkMAC, walkID + "." + mac, "nope.nope"} {
		live(bad, 404)
		if resp, _ := send(t, "GET", base+"/tickets/"+bad+"/qr", "", ""); resp.StatusCode != 404 {
			t.Fatalf("QR of %q: %d", bad, resp.StatusCode)
		}
	}
	// The QR code of the link, for the printed ticket.
	resp, err := http.Get(strings.TrimSuffix(base, "/api/v1") + qr)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("ticket QR: %v %v", resp, err)
	}
	defer resp.Body.Close()
	img, _ := io.ReadAll(resp.Body)
	if _, err := png.Decode(bytes.NewReader(img)); err != nil {
		t.Fatalf("ticket QR image: %v", err)
	}
	if want, _ := qrcode.Encode("https://hall.example"+follow, qrcode.Medium, 256); !bytes.Equal(img, want) {
		t.Error("the ticket's QR code does not lead to the public address")
	}
}
