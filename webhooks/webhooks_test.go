package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servicehall/servicehall/app"
	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/eventstore/sqlitestore"
	"github.com/servicehall/servicehall/projections"
	"github.com/servicehall/servicehall/webhooks"
)

var (
	ctx      = context.Background()
	admin    = command.Meta{Actor: eventstore.Actor{ID: "admin", Role: domain.RoleAdmin}}
	resident = domain.Applicant{Name: "张三", IDNumber: "33050219880702447X", Phone: "13812345678"}
)

func newApp(t *testing.T) *app.Application {
	t.Helper()
	log, err := sqlitestore.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	views, err := projections.NewEngine(ctx, log, projections.NewMemory(), projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	a, err := app.New(log, views, loc, domain.DefaultPolicy, command.Keys{Reference: []byte("0123456789abcdef-test-key"), Seal: []byte("0123456789abcdef-test-key")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// receiver answers fail times with 500, then 204, and keeps what came.
type receiver struct {
	mu     sync.Mutex
	fail   int
	tries  int
	bodies [][]byte
	heads  []http.Header
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries++
	if r.fail != 0 {
		r.fail--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	r.bodies = append(r.bodies, body)
	r.heads = append(r.heads, req.Header.Clone())
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) got() ([][]byte, []http.Header, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...), append([]http.Header(nil), r.heads...), r.tries
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestDeliveriesAreSignedRetriedAndDeadLettered(t *testing.T) {
	a := newApp(t)
	flaky := &receiver{fail: 2} // gets through on the third try
	down := &receiver{fail: 1 << 30}
	flakySrv, downSrv := httptest.NewServer(flaky), httptest.NewServer(down)
	defer flakySrv.Close()
	defer downSrv.Close()
	m := admin
	m.At = time.Now()
	if _, err := a.Commands.RegisterStation(ctx, domain.StationRegistered{ID: "before", Name: "订阅前的所"}, m); err != nil {
		t.Fatal(err)
	}
	for _, s := range []command.Subscription{
		{ID: "flaky", URL: flakySrv.URL, EventTypes: []string{"StationRegistered"}, Secret: "flaky-secret-0123456789"},
		{ID: "down", URL: downSrv.URL, EventTypes: []string{"StationRegistered"}, Secret: "down-secret-0123456789"},
	} {
		if _, err := a.Commands.Subscribe(ctx, s, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Commands.Subscribe(ctx, command.Subscription{ID: "bad", URL: "ftp://x", EventTypes: []string{"StationRegistered"}, Secret: "0123456789abcdef"}, m); err == nil {
		t.Fatal("an ftp URL was accepted")
	}
	if _, err := a.Commands.RegisterStation(ctx, domain.StationRegistered{ID: "gulou", Name: "鼓楼派出所"}, m); err != nil {
		t.Fatal(err)
	}
	d, err := webhooks.New(webhooks.Config{App: a, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Poll: 10 * time.Millisecond, Retries: 2, Backoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	run, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(run) }()
	defer func() { stop(); <-done }()

	waitFor(t, "the dead letter", func() bool {
		w, err := a.Commands.Webhooks(ctx)
		return err == nil && len(w.Dead()) == 1 && w.Through > 0
	})
	bodies, heads, tries := flaky.got()
	if len(bodies) != 1 || tries != 3 {
		t.Fatalf("flaky receiver: %d deliveries in %d tries, want 1 in 3 (only the station registered after subscribing)", len(bodies), tries)
	}
	if got, want := heads[0].Get("X-Servicehall-Signature"), webhooks.Sign([]byte("flaky-secret-0123456789"), bodies[0]); got != want {
		t.Fatalf("signature %q, want %q", got, want)
	}
	var body struct {
		Type string
		Data map[string]any
	}
	if err := json.Unmarshal(bodies[0], &body); err != nil || body.Type != "StationRegistered" || !strings.Contains(string(bodies[0]), "鼓楼派出所") {
		t.Fatalf("delivery %s, %v", bodies[0], err)
	}
	if _, _, tries := down.got(); tries != 3 {
		t.Fatalf("the receiver that is down was tried %d times, want 3", tries)
	}
	w, _ := a.Commands.Webhooks(ctx)
	if dl := w.Dead()[0]; dl.Subscription != "down" || dl.EventType != "StationRegistered" || !strings.Contains(dl.Error, "500") {
		t.Fatalf("dead letter %+v", dl)
	}

	// The receiver comes back: a replay delivers the dead letter, once.
	down.mu.Lock()
	down.fail = 0
	down.mu.Unlock()
	out, err := webhooks.Replay(ctx, a, http.DefaultClient, nil, m)
	if err != nil || len(out) != 1 || !out[0].Replayed {
		t.Fatalf("replay: %+v, %v", out, err)
	}
	if bodies, heads, _ := down.got(); len(bodies) != 1 || heads[0].Get("X-Servicehall-Signature") != webhooks.Sign([]byte("down-secret-0123456789"), bodies[0]) {
		t.Fatalf("replayed deliveries %d", len(bodies))
	}
	if w, _ := a.Commands.Webhooks(ctx); len(w.Dead()) != 0 {
		t.Fatalf("dead letters after the replay: %+v", w.Dead())
	}
}

// A resident's details leave masked, and only where the subscription
// allows them; the sealed form never.
func TestResidentsDetailsLeaveMaskedOrNotAtAll(t *testing.T) {
	a := newApp(t)
	person, err := a.Commands.Person(ctx, mustCheck(t))
	if err != nil {
		t.Fatal(err)
	}
	typ, data, err := domain.Encode(domain.AppointmentBooked{ID: "a1", StationID: "gulou", ServiceID: "birth", Resident: person})
	if err != nil {
		t.Fatal(err)
	}
	for _, personal := range []bool{false, true} {
		body, err := webhooks.Body("e1", typ, "appointment-a1", 7, time.Now(), domain.RoleResident, 1, data, personal)
		if err != nil {
			t.Fatal(err)
		}
		s := string(body)
		if strings.Contains(s, "sealed") || strings.Contains(s, person.Ref) || strings.Contains(s, "33050219880702447X") || strings.Contains(s, "13812345678") {
			t.Fatalf("personal=%v: the delivery carries more than masked details: %s", personal, s)
		}
		if masked := strings.Contains(s, person.ID); masked != personal {
			t.Fatalf("personal=%v: masked ID number present %v: %s", personal, masked, s)
		}
	}
}

func mustCheck(t *testing.T) domain.Checked {
	t.Helper()
	c, err := resident.Check(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}
