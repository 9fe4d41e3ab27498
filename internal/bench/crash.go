package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/domain/idnumber"
	"github.com/servicehall/servicehall/projections"
)

// Process is the real binary serving one data folder, killed and
// restarted on the same address.
type Process struct {
	Exe, Data, Addr, Password string
	Stores                    []string // --eventstore, --readmodels and --bus flags; the embedded ones by default
	cmd                       *exec.Cmd
	exited                    chan error // the process's end
}

func (r *Process) Start() error {
	stores := r.Stores
	if stores == nil {
		stores = []string{"--eventstore", "sqlite", "--readmodels", "sqlite", "--bus", "gochannel"}
	}
	r.cmd = exec.Command(r.Exe, append([]string{"serve", "--addr", r.Addr, "--data", r.Data, "--admin-password", r.Password,
		"--demo-otp", "--rate-limits=false"}, stores...)...)
	out, err := os.OpenFile(r.logFile(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	r.cmd.Stdout, r.cmd.Stderr = out, out
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("start the server: %w", err)
	}
	r.exited = make(chan error, 1)
	go func() { r.exited <- r.cmd.Wait() }()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-r.exited:
			r.exited <- err
			return fmt.Errorf("the server exited (%v); its log ends:\n%s", err, r.logTail())
		default:
		}
		if resp, err := http.Get("http://" + r.Addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	r.Kill()
	return fmt.Errorf("the server did not become ready within 60 s; its log ends:\n%s", r.logTail())
}

// running says whether the process is still there.
// Running says whether the process was started and has not ended.
func (r *Process) Running() bool {
	if r.exited == nil {
		return false
	}
	select {
	case err := <-r.exited:
		r.exited <- err
		return false
	default:
		return true
	}
}

func (r *Process) logFile() string {
	return filepath.Join(r.Data, "serve-"+strings.ReplaceAll(r.Addr, ":", "_")+".log")
}

// logTail is the end of the server's log, for a failure message.
func (r *Process) logTail() string {
	b, _ := os.ReadFile(r.logFile())
	return string(b[max(0, len(b)-3000):])
}

func (r *Process) Kill() error {
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-r.exited // "signal: killed" is the point
	return nil
}

func (r *Process) Stop() error {
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	if err := <-r.exited; err != nil {
		return fmt.Errorf("%w; its log ends:\n%s", err, r.logTail())
	}
	return nil
}

// SlotInLog reads a bench slot's history from the log over HTTP: the
// places booked (booked less freed) and how often it was released.
func (s *Client) SlotInLog(day calendar.Date, start domain.Clock) (booked, released int, err error) {
	var trail []struct{ Type string }
	if _, err := s.Call("GET", "/audit?stream="+domain.SlotStream("bench", day, start, "birth"), s.Admin, nil, &trail); err != nil {
		return 0, 0, err
	}
	for _, e := range trail {
		switch e.Type {
		case "SlotBooked":
			booked++
		case "SlotFreed":
			booked--
		case "SlotReleased":
			released++
		}
	}
	return booked, released, nil
}

// benchCrash storms the real binary with bookings and counter work, kills
// it with SIGKILL at random moments, restarts it, and checks that nothing
// acknowledged is lost, no slot holds more than its places, no ticket is
// served twice, and the views equal a fresh rebuild of the log.
func Crash(ctx context.Context, c Config, kills, residents int, stderr io.Writer) (Result, error) {
	exe := c.Exe
	data, err := os.MkdirTemp("", "servicehall-crash-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(data)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Result{}, err
	}
	addr := ln.Addr().String()
	ln.Close()
	pw := make([]byte, 12)
	rand.Read(pw)
	run := &Process{Exe: exe, Data: data, Addr: addr, Password: base64.RawURLEncoding.EncodeToString(pw)}
	if err := run.Start(); err != nil {
		return Result{}, err
	}
	defer func() {
		if run.Running() {
			run.Kill()
		}
	}()
	s := &Client{Base: "http://" + addr + "/api/v1", HTTP: &http.Client{Timeout: 10 * time.Second}}
	var tok struct{ Token string }
	if _, err := s.Call("POST", "/auth/login", "", map[string]string{"username": "admin", "password": run.Password}, &tok); err != nil {
		return Result{}, err
	}
	s.Admin = tok.Token
	const counters, capacity = 4, 3
	if err := s.Setup(counters, 60, capacity); err != nil {
		return Result{}, err
	}
	staff := make([]string, counters)
	for i := range staff {
		user := fmt.Sprintf("staff%d", i+1)
		if _, err := s.Call("POST", "/users", s.Admin, map[string]any{"username": user, "password": "crash-password", "role": "staff", "station_id": "bench"}, nil); err != nil {
			return Result{}, err
		}
		if _, err := s.Call("POST", "/auth/login", "", map[string]string{"username": user, "password": "crash-password"}, &tok); err != nil {
			return Result{}, err
		}
		staff[i] = tok.Token
	}
	today := calendar.DateOf(time.Now().In(c.Loc))
	var free []struct {
		Date  calendar.Date `json:"date"`
		Start domain.Clock  `json:"start"`
	}
	if _, err := s.Call("GET", fmt.Sprintf("/stations/bench/availability?service_id=birth&from=%s&to=%s", today.AddDays(1), today.AddDays(13)), "", nil, &free); err != nil || len(free) == 0 {
		return Result{}, fmt.Errorf("bench crash: no slots: %v", err)
	}
	var slots []domain.Clock
	for _, f := range free {
		if f.Date == free[0].Date {
			slots = append(slots, f.Start)
		}
	}
	day := free[0].Date
	tokens := make([]string, residents)
	people := make([]domain.Applicant, residents)
	for i := range residents {
		phone := fmt.Sprintf("137%08d", i)
		first := fmt.Sprintf("320102%d%02d%02d%03d", 1960+i%40, 1+i%12, 1+i%28, i%1000)
		people[i] = domain.Applicant{Name: "居民", IDNumber: first + string(idnumber.CheckDigit(first)), Phone: phone}
		var code struct {
			DevCode string `json:"dev_code"`
		}
		if _, err := s.Call("POST", "/auth/otp", "", map[string]string{"phone": phone}, &code); err != nil {
			return Result{}, err
		}
		if _, err := s.Call("POST", "/auth/verify", "", map[string]string{"phone": phone, "code": code.DevCode}, &tok); err != nil {
			return Result{}, err
		}
		tokens[i] = tok.Token
	}
	fmt.Fprintf(stderr, "crash: %d residents book %d places on %s, %d counters serve walk-ins; %d kills\n", residents, len(slots)*capacity, day, counters, kills)

	// The storm. A request counts only when its answer arrived.
	var (
		mu        sync.Mutex
		booked    = map[string]bool{} // appointment ids acknowledged
		owner     = map[string]int{}  // appointment id → the resident who booked it
		changed   int                 // reschedules and cancellations acknowledged
		issued    = map[string]bool{} // ticket ids acknowledged
		completed = map[string]int{}  // ticket id → acknowledged completions
		lats      latencies
		failures  atomic.Int64 // 5xx answers
		samples   []string     // the first of them
	)
	ack := func(d time.Duration) { lats = append(lats, d) }
	stopStorm := make(chan struct{})
	var wg sync.WaitGroup
	request := func(method, path, token string, body, out any, key string) (int, time.Duration, error) {
		t0 := time.Now()
		status, err := s.CallKey(method, path, token, body, out, key)
		if status >= 500 {
			failures.Add(1)
			mu.Lock()
			if len(samples) < 3 {
				samples = append(samples, err.Error())
			}
			mu.Unlock()
		}
		return status, time.Since(t0), err
	}
	for w := range 8 { // residents book, retrying with the same key until answered
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < residents; i += 8 {
				body := map[string]any{"station_id": "bench", "service_id": "birth", "date": day, "start": slots[mrand.IntN(len(slots))], "resident": people[i]}
				for {
					select {
					case <-stopStorm:
						return
					default:
					}
					var out struct{ ID string }
					status, d, err := request("POST", "/appointments", tokens[i], body, &out, fmt.Sprintf("crash-%d", i))
					if err != nil && status == 0 { // no answer: the server is down; try again
						time.Sleep(50 * time.Millisecond)
						continue
					}
					mu.Lock()
					if status == http.StatusCreated {
						booked[out.ID] = true
						owner[out.ID] = i
					}
					ack(d)
					mu.Unlock()
					break
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // residents change their minds: reschedule, or cancel
		defer wg.Done()
		cancelled := map[string]bool{}
		for {
			select {
			case <-stopStorm:
				return
			case <-time.After(8 * time.Millisecond):
			}
			mu.Lock()
			var id string
			for a := range owner { // map order: a random booking
				if !cancelled[a] {
					id = a
					break
				}
			}
			who := owner[id]
			mu.Unlock()
			if id == "" {
				continue
			}
			path, body := "/appointments/"+id+"/reschedule", any(map[string]any{"date": day, "start": slots[mrand.IntN(len(slots))]})
			if mrand.IntN(3) == 0 {
				path, body = "/appointments/"+id+"/cancel", nil
			}
			if status, d, _ := request("POST", path, tokens[who], body, nil, ""); status == http.StatusOK {
				mu.Lock()
				changed++
				ack(d)
				if body == nil {
					cancelled[id] = true
				}
				mu.Unlock()
			}
		}
	}()
	wg.Add(1)
	go func() { // walk-ins arrive
		defer wg.Done()
		for {
			select {
			case <-stopStorm:
				return
			case <-time.After(4 * time.Millisecond):
			}
			var out struct{ ID string }
			if status, d, _ := request("POST", "/stations/bench/tickets", staff[0], map[string]string{"service_id": "birth"}, &out, ""); status == http.StatusCreated {
				mu.Lock()
				issued[out.ID] = true
				ack(d)
				mu.Unlock()
			}
		}
	}()
	for i := range counters { // counters serve them
		wg.Add(1)
		go func() {
			defer wg.Done()
			counter := fmt.Sprintf("/counters/w%d/", i+1)
			for {
				select {
				case <-stopStorm:
					return
				default:
				}
				var out struct {
					Ticket struct{ ID, State string }
				}
				status, d, _ := request("POST", counter+"complete", staff[i], nil, &out, "")
				if status == http.StatusOK && out.Ticket.State == "done" {
					mu.Lock()
					completed[out.Ticket.ID]++
					ack(d)
					mu.Unlock()
				}
				if status == 0 {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				request("POST", counter+"open", staff[i], map[string]any{"service_ids": []string{"birth"}}, nil, "")
				if status, _, _ := request("POST", counter+"call-next", staff[i], nil, nil, ""); status == http.StatusNoContent {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				request("POST", counter+"start", staff[i], nil, nil, "")
			}
		}()
	}

	// The killer, checking the log after each restart.
	t0 := time.Now()
	lost, overbooked := 0, 0
	checkLog := func() error {
		mu.Lock()
		ids := make([]string, 0, len(booked))
		for id := range booked {
			ids = append(ids, id)
		}
		mu.Unlock()
		for _, id := range ids {
			var trail []map[string]any
			if _, err := s.Call("GET", "/audit?stream=appointment-"+id, s.Admin, nil, &trail); err != nil {
				return err
			}
			if len(trail) == 0 {
				lost++
			}
		}
		for _, st := range slots {
			n, _, err := s.SlotInLog(day, st)
			if err != nil {
				return err
			}
			overbooked += max(0, n-capacity)
		}
		return nil
	}
	for k := range kills {
		time.Sleep(time.Duration(150+mrand.IntN(600)) * time.Millisecond)
		if err := run.Kill(); err != nil {
			return Result{}, err
		}
		if err := run.Start(); err != nil {
			return Result{}, fmt.Errorf("restart %d: %w", k+1, err)
		}
		if err := checkLog(); err != nil {
			return Result{}, err
		}
		fmt.Fprintf(stderr, "\rcrash: %d/%d kills", k+1, kills)
	}
	fmt.Fprintln(stderr)
	close(stopStorm)
	wg.Wait()
	elapsed := time.Since(t0)
	if err := checkLog(); err != nil {
		return Result{}, err
	}
	if _, err := s.Call("POST", "/admin/jobs/recover-places/run", s.Admin, nil, nil); err != nil {
		return Result{}, fmt.Errorf("run the recovery job: %w", err)
	}
	s.HTTP.CloseIdleConnections() // or the server's graceful stop waits for them
	if err := run.Stop(); err != nil {
		return Result{}, fmt.Errorf("the server stopped with %w", err)
	}

	// With the server gone: the queue in the log, and the views against a
	// fresh rebuild.
	log, live, closeAll, err := c.Open(ctx, data)
	if err != nil {
		return Result{}, err
	}
	defer closeAll()
	orphans, err := command.Orphans(ctx, log)
	if err != nil {
		return Result{}, err
	}
	recs, err := log.ReadStream(ctx, domain.QueueStream("bench", today), 0)
	if err != nil {
		return Result{}, err
	}
	duplicates := 0
	inLog := map[string]int{}
	for _, r := range recs {
		e, err := domain.DecodeSchema(r.Type, r.Schema, r.Data)
		if err != nil {
			return Result{}, err
		}
		switch e := e.(type) {
		case domain.TicketCompleted:
			if inLog[e.TicketID]++; inLog[e.TicketID] > 1 {
				duplicates++
			}
		case domain.TicketIssued:
			inLog["issued:"+e.TicketID]++
		}
	}
	for id := range issued {
		if inLog["issued:"+id] == 0 {
			lost++
		}
	}
	for id, n := range completed {
		duplicates += max(0, n-1)
		if inLog[id] == 0 {
			lost++
		}
	}
	if err := live.CatchUp(ctx); err != nil {
		return Result{}, err
	}
	fresh, err := projections.NewEngine(ctx, log, projections.NewMemory(), projections.All()...)
	if err != nil {
		return Result{}, err
	}
	if err := fresh.CatchUp(ctx); err != nil {
		return Result{}, err
	}
	differ := 0
	for _, name := range fresh.Names() {
		a, err := live.Dump(ctx, name, fresh.Tables(name))
		if err != nil {
			return Result{}, err
		}
		b, err := fresh.Dump(ctx, name, fresh.Tables(name))
		if err != nil {
			return Result{}, err
		}
		for k, v := range b {
			if a[k] != v {
				differ++
			}
		}
		for k := range a {
			if _, ok := b[k]; !ok {
				differ++
			}
		}
	}
	r := summarize("crash", []latencies{lats}, int(failures.Load()), elapsed)
	served := len(completed)
	r.Extra = map[string]any{"kills": kills, "acknowledged": len(booked) + changed + len(issued) + served, "booked": len(booked),
		"changed": changed, "tickets": len(issued), "served": served, "lost": lost, "overbooked": overbooked,
		"duplicates": duplicates, "orphaned": len(orphans), "views_differ": differ}
	if len(samples) > 0 {
		r.Extra["error_samples"] = samples
		log, _ := os.ReadFile(run.logFile())
		for _, line := range strings.Split(string(log), "\n") {
			if strings.Contains(line, `"level":"ERROR"`) {
				fmt.Fprintln(stderr, line)
			}
		}
	}
	return r, nil
}
