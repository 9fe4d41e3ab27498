package api

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/servicehall/servicehall/app"
	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/eventstore/sqlitestore"
	"github.com/servicehall/servicehall/projections"
)

// The bodies of the commands the fuzzer tries, by route; the seeds are
// valid ones.
var fuzzRoutes = []struct{ method, path, role, seed string }{
	{"POST", "/api/v1/appointments", "resident", `{"station_id":"gulou","service_id":"birth","date":"2031-01-06","start":"09:00","resident":{"name":"张三","id_number":"33050219880702447X","phone":"13812345678"}}`},
	{"POST", "/api/v1/applications", "resident", `{"station_id":"gulou","service_id":"birth","channel":"online","applicant":{"name":"张三","id_number":"33050219880702447X","phone":"13812345678"}}`},
	{"POST", "/api/v1/services", "admin", `{"id":"permit","name":"Residence permit","name_zh":"居住证","category":"license","time_limit_days":15,"time_limit_unit":"calendar","online":true,"materials":["照片"]}`},
	{"POST", "/api/v1/stations", "admin", `{"id":"xicheng","name":"西城派出所"}`},
	{"POST", "/api/v1/stations/gulou/counters", "admin", `{"id":"w2","name":"2号窗口","service_ids":["birth"]}`},
	{"PUT", "/api/v1/stations/gulou/hours", "admin", `{"weekly":[{"weekday":1,"start":"09:00","end":"10:00","service_ids":["birth"],"slot_minutes":30,"capacity":2}],"weekend_windows":[]}`},
	{"PUT", "/api/v1/calendar/2026", "admin", `{"year":2026,"days":[{"name":"元旦","date":"2026-01-01","isOffDay":true}]}`},
	{"POST", "/api/v1/users", "admin", `{"username":"li.wei","password":"counter-pass-1","role":"staff","station_id":"gulou"}`},
	{"POST", "/api/v1/stations/gulou/tickets", "staff", `{"service_id":"birth","priority":"elderly"}`},
	{"POST", "/api/v1/counters/w1/open", "staff", `{"service_ids":["birth"]}`},
	{"POST", "/api/v1/counters/w1/transfer", "staff", `{"service_id":"birth"}`},
	{"POST", "/api/v1/auth/login", "", `{"username":"admin","password":"x"}`},
	{"POST", "/api/v1/auth/otp", "", `{"phone":"13812345678"}`},
}

// No command body makes the server fail (5xx) or panic, and one it refuses
// writes nothing.
func FuzzCommandJSON(f *testing.F) {
	for i, r := range fuzzRoutes {
		f.Add(uint8(i), []byte(r.seed))
		f.Add(uint8(i), []byte(`{"unknown":1}`))
	}
	f.Add(uint8(0), []byte(`{"station_id":"gulou","service_id":"birth","date":"2031-02-30","start":"25:00","resident":{}}`))
	f.Add(uint8(5), []byte(`{"weekly":[{"weekday":1,"start":"09:00","end":"09:01","service_ids":["birth"],"slot_minutes":1,"capacity":-1}]}`))
	ctx := context.Background()
	log, err := sqlitestore.Open(filepath.Join(f.TempDir(), "events.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { log.Close() })
	loc, _ := time.LoadLocation("Asia/Shanghai")
	views, err := projections.NewEngine(ctx, log, projections.NewMemory(), projections.All()...)
	if err != nil {
		f.Fatal(err)
	}
	application, err := app.New(log, views, loc, domain.DefaultPolicy, command.Keys{Reference: []byte("fuzz-resident-reference-key"), Seal: []byte("fuzz-resident-reference-key")}, nil)
	if err != nil {
		f.Fatal(err)
	}
	s, err := New(Config{App: application, TokenKeys: [][]byte{bytes.Repeat([]byte("k"), 32)}, Loc: loc, DemoOTP: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	admin := command.Meta{Actor: eventstore.Actor{ID: "admin", Role: domain.RoleAdmin}, At: time.Now()}
	if _, err := application.Commands.SetUp(ctx, command.Setup{
		Services:          []domain.Service{{ID: "birth", Name: "Birth", NameZh: "出生登记", Category: domain.Household, TimeLimitDays: 20, Online: true}},
		StationRegistered: domain.StationRegistered{ID: "gulou", Name: "鼓楼派出所"},
		Counters:          []domain.Counter{{ID: "w1", Name: "1号窗口", ServiceIDs: []string{"birth"}}},
	}, 0, admin); err != nil {
		f.Fatal(err)
	}
	if err := views.CatchUp(ctx); err != nil {
		f.Fatal(err)
	}
	for _, u := range []struct{ name, role, station string }{{"admin", domain.RoleAdmin, ""}, {"li.wei", domain.RoleStaff, "gulou"}} {
		if _, err := application.Commands.CreateUser(ctx, u.name, "fuzz-password-1", u.role, u.station, admin); err != nil {
			f.Fatal(err)
		}
	}
	tokens := map[string]string{}
	for role, w := range map[string]Who{"resident": {"resident:fuzz", domain.RoleResident, ""}, "admin": {"admin", domain.RoleAdmin, ""},
		"staff": {"li.wei", domain.RoleStaff, "gulou"}} {
		if tokens[role], err = s.token(w); err != nil {
			f.Fatal(err)
		}
	}
	handler := s.Handler()
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		before, _ := log.Head(ctx)
		req := httptest.NewRequest(r.method, r.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tok := tokens[r.role]; tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", r.method, r.path, body, w.Code, w.Body)
		}
		if after, _ := log.Head(ctx); w.Code >= 400 && after != before {
			t.Fatalf("%s %s %q refused with %d but wrote %d events", r.method, r.path, body, w.Code, after-before)
		}
		if w.Code >= 400 && w.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s %s: %d answered as %s", r.method, r.path, w.Code, w.Header().Get("Content-Type"))
		}
	})
}
