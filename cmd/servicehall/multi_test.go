package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/domain/idnumber"
	"github.com/servicehall/servicehall/internal/bench"
	"github.com/servicehall/servicehall/internal/testenv"
)

// Three processes share the PostgreSQL event store, PostgreSQL read models
// and NATS JetStream. Residents book through all three at once; one is
// killed. No slot is overbooked, no acknowledged booking is lost, the
// survivors' views converge on the same answer, and the release job, run
// at every start, wrote each slot once.
func TestThreeProcesses(t *testing.T) {
	t.Parallel()
	nats := testenv.NATS(t)
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("the three-process test is not short")
	}
	// A database and a JetStream stream of its own.
	db := testenv.FreshPostgres(t, "servicehall_multi")
	topic := streamFor(t, nats, db)

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	procs := make([]*bench.Process, 3)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range procs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		procs[i] = &bench.Process{Exe: exe, Data: data, Addr: ln.Addr().String(), Password: "multi-admin-pass",
			Stores: []string{"--eventstore", db, "--readmodels", db, "--bus", nats, "--bus-topic", topic}}
		ln.Close()
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = procs[i].Start() }() // together: migrations and the admin once
	}
	wg.Wait()
	defer func() { // a failed test leaves no server behind
		for _, p := range procs {
			if p.Running() {
				p.Kill()
			}
		}
	}()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("process %d: %v", i, err)
		}
	}
	client := &http.Client{Timeout: 20 * time.Second}
	via := func(i int) *bench.Client {
		return &bench.Client{Base: "http://" + procs[i].Addr + "/api/v1", HTTP: client}
	}
	s := via(0)
	var tok struct{ Token string }
	if _, err := s.Call("POST", "/auth/login", "", map[string]string{"username": "admin", "password": "multi-admin-pass"}, &tok); err != nil {
		t.Fatal(err)
	}
	s.Admin = tok.Token
	const capacity = 3
	if err := s.Setup(0, 60, capacity); err != nil {
		t.Fatal(err)
	}
	loc := shanghai(t)
	today := calendar.DateOf(time.Now().In(loc))
	var free []struct {
		Date  calendar.Date `json:"date"`
		Start domain.Clock  `json:"start"`
	}
	// Setting hours released the slots through process 0: any process's
	// views show them once they catch up (twelve 5-minute slots a day).
	var day calendar.Date
	var slots []domain.Clock
	for deadline := time.Now().Add(30 * time.Second); len(slots) < 12 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		via(2).Call("GET", fmt.Sprintf("/stations/bench/availability?service_id=birth&from=%s&to=%s", today.AddDays(1), today.AddDays(13)), "", nil, &free)
		slots = slots[:0]
		for _, f := range free {
			if f.Date == free[0].Date {
				day = f.Date
				slots = append(slots, f.Start)
			}
		}
	}
	if len(slots) < 12 {
		t.Fatalf("process 2's views show %d slots of the first day, want 12", len(slots))
	}

	// Residents log in and book, a third through each process; process 0
	// is killed half way.
	const residents = 120
	type booking struct {
		id  string
		pos uint64
	}
	var mu sync.Mutex
	var acked []booking
	start := time.Now()
	book := func(i int) error {
		p := i % 3
		if i >= residents/2 && p == 0 {
			p = 1 + i%2 // process 0 is gone
		}
		srv := via(p)
		phone := fmt.Sprintf("136%08d", i)
		var code struct {
			DevCode string `json:"dev_code"`
		}
		if _, err := srv.Call("POST", "/auth/otp", "", map[string]string{"phone": phone}, &code); err != nil {
			return err
		}
		// The code is verified by another process than the one that sent
		// it: codes live in the shared database.
		other := (p + 1) % 3
		if i >= residents/2 {
			other = 3 - p
		}
		var tok struct{ Token string }
		if _, err := via(other).Call("POST", "/auth/verify", "", map[string]string{"phone": phone, "code": code.DevCode}, &tok); err != nil {
			return fmt.Errorf("a code sent by process %d, verified by %d: %w", p, other, err)
		}
		first := fmt.Sprintf("510104%d%02d%02d%03d", 1970+i%30, 1+i%12, 1+i%28, i)
		body := map[string]any{"station_id": "bench", "service_id": "birth", "date": day, "start": slots[rand.IntN(len(slots))],
			"resident": domain.Applicant{Name: "居民", IDNumber: first + string(idnumber.CheckDigit(first)), Phone: phone}}
		post := func(srv *bench.Client, body map[string]any) (int, string, http.Header, error) {
			req, _ := http.NewRequest("POST", srv.Base+"/appointments", strings.NewReader(mustJSON(body)))
			req.Header.Set("Authorization", "Bearer "+tok.Token)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", fmt.Sprintf("multi-%d", i))
			resp, err := client.Do(req)
			if err != nil {
				return 0, "", nil, err
			}
			defer resp.Body.Close()
			var out struct{ ID string }
			decodeJSON(resp, &out)
			return resp.StatusCode, out.ID, resp.Header, nil
		}
		status, id, header, err := post(srv, body)
		if err != nil {
			return err
		}
		if status == http.StatusCreated && i%10 == 0 {
			// The key holds on every process: the same request through
			// another answers alike, another body is refused.
			other := via(1 + i%2)
			if again, id2, _, err := post(other, body); err != nil || again != status || id2 != id {
				return fmt.Errorf("booking %d retried through another process: %d %q, %v; want %d %q", i, again, id2, err, status, id)
			}
			changed := maps.Clone(body)
			changed["start"] = slots[(slices.Index(slots, body["start"].(domain.Clock))+1)%len(slots)]
			if again, _, _, err := post(other, changed); err != nil || again != http.StatusUnprocessableEntity {
				return fmt.Errorf("booking %d's key with another body through another process: %d, %v; want 422", i, again, err)
			}
		}
		switch status {
		case http.StatusCreated:
			out := struct{ ID string }{id}
			pos, _ := strconv.ParseUint(header.Get("X-Position"), 10, 64)
			mu.Lock()
			acked = append(acked, booking{out.ID, pos})
			mu.Unlock()
		case http.StatusConflict:
		default:
			return fmt.Errorf("booking %d through process %d: %d", i, p, status)
		}
		return nil
	}
	if err := bench.Parallel(residents/2, 12, book); err != nil {
		t.Fatal(err)
	}
	if err := procs[0].Kill(); err != nil {
		t.Fatal(err)
	}
	if err := bench.Parallel(residents/2, 12, func(i int) error { return book(residents/2 + i) }); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	t.Logf("%d residents, %d bookings acknowledged through three processes (one killed half way) in %v", residents, len(acked), elapsed.Round(time.Millisecond))
	if len(acked) > len(slots)*capacity {
		t.Fatalf("%d bookings acknowledged for %d places", len(acked), len(slots)*capacity)
	}

	// The log: every acknowledged booking, no slot beyond its places, and
	// each slot released once although every process ran the release job.
	survivor := via(1)
	survivor.Admin = s.Admin
	var last uint64
	for _, b := range acked {
		last = max(last, b.pos)
		var trail []map[string]any
		if _, err := survivor.Call("GET", "/audit?stream=appointment-"+b.id, s.Admin, nil, &trail); err != nil || len(trail) == 0 {
			t.Fatalf("acknowledged booking %s is not in the log: %v", b.id, err)
		}
	}
	booked := 0
	for _, st := range slots {
		n, released, err := survivor.SlotInLog(day, st)
		if err != nil {
			t.Fatal(err)
		}
		if n > capacity || released != 1 {
			t.Fatalf("slot %s: %d booked of %d, released %d times", st, n, capacity, released)
		}
		booked += n
	}
	if booked != len(acked) {
		t.Fatalf("%d bookings in the log's slots, %d acknowledged", booked, len(acked))
	}

	// The survivors' views converge on the log.
	views := make([]any, 2)
	for i, p := range []int{1, 2} {
		req, _ := http.NewRequest("GET", via(p).Base+fmt.Sprintf("/stations/bench/availability?service_id=birth&from=%s&to=%s", day, day), nil)
		req.Header.Set("X-Min-Position", strconv.FormatUint(last, 10))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		for ctx.Err() == nil {
			resp, err := client.Do(req.WithContext(ctx))
			if err == nil && resp.StatusCode == http.StatusOK {
				var v []map[string]any
				decodeJSON(resp, &v)
				resp.Body.Close()
				views[i] = v
				sum := 0
				for _, sl := range v {
					sum += int(sl["booked"].(float64))
				}
				if sum == booked {
					break
				}
			} else if err == nil {
				resp.Body.Close()
			}
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
	}
	if !reflect.DeepEqual(views[0], views[1]) || views[0] == nil {
		t.Fatalf("the survivors' views differ:\n%v\n%v", views[0], views[1])
	}
	for _, p := range procs[1:] {
		client.CloseIdleConnections() // or the server's graceful stop waits for them
		if err := p.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}
}

// streamFor names a JetStream stream after the test's database, deleted
// when the test ends.
func streamFor(t *testing.T, nats, db string) string {
	parsed, _ := url.Parse(db)
	topic := strings.TrimPrefix(parsed.Path, "/")
	t.Cleanup(func() {
		if nc, err := natsgo.Connect(nats); err == nil {
			if js, err := nc.JetStream(); err == nil {
				js.DeleteStream(topic)
			}
			nc.Close()
		}
	})
	return topic
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func decodeJSON(resp *http.Response, v any) { json.NewDecoder(resp.Body).Decode(v) }

// A process that starts on PostgreSQL and NATS with read models behind the
// log (a new read-model database) runs its start-up jobs only once they
// have caught up: the release job then opens the days its longer horizon
// adds, where on empty views it found no station and opened nothing.
func TestStartUpJobsWaitForTheViews(t *testing.T) {
	t.Parallel()
	nats := testenv.NATS(t)
	events := testenv.FreshPostgres(t, "servicehall_start_log")
	first, second := testenv.FreshPostgres(t, "servicehall_start_a"), testenv.FreshPostgres(t, "servicehall_start_b")
	topic := streamFor(t, nats, events)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	start := func(views string, more ...string) *bench.Process {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := &bench.Process{Exe: exe, Data: data, Addr: ln.Addr().String(), Password: "start-admin-pass",
			Stores: append([]string{"--eventstore", events, "--readmodels", views, "--bus", nats, "--bus-topic", topic}, more...)}
		ln.Close()
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if p.Running() {
				p.Kill()
			}
		})
		return p
	}
	login := func(p *bench.Process) *bench.Client {
		s := &bench.Client{Base: "http://" + p.Addr + "/api/v1", HTTP: &http.Client{Timeout: 20 * time.Second}}
		var tok struct{ Token string }
		if _, err := s.Call("POST", "/auth/login", "", map[string]string{"username": "admin", "password": "start-admin-pass"}, &tok); err != nil {
			t.Fatal(err)
		}
		s.Admin = tok.Token
		return s
	}
	a := start(first)
	if err := login(a).Setup(0, 60, 3); err != nil { // releases 14 days
		t.Fatal(err)
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	b := start(second, "--release-horizon-days", "21")
	s := login(b)
	today := calendar.DateOf(time.Now().In(shanghai(t)))
	var free []struct {
		Date calendar.Date `json:"date"`
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, err := s.Call("GET", fmt.Sprintf("/stations/bench/availability?service_id=birth&from=%s&to=%s", today.AddDays(15), today.AddDays(20)), "", nil, &free); err != nil {
			t.Fatal(err)
		}
		if len(free) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(free) == 0 {
		t.Fatal("the release job at start opened nothing beyond the first process's 14 days: it ran on views that had not caught up")
	}
}
