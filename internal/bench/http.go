package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/servicehall/servicehall/domain"
)

// Client runs a server in this process on a free loopback port over
// a fresh data folder, as a user would run serve; the HTTP scenarios drive
// it like any client.
type Client struct {
	Base, Admin string
	data        string
	HTTP        *http.Client // the client requests go through
	stop        func() error
}

func startServer(ctx context.Context, c Config) (*Client, error) {
	data, err := os.MkdirTemp("", "servicehall-bench-")
	if err != nil {
		return nil, err
	}
	b := make([]byte, 12)
	rand.Read(b)
	password := base64.RawURLEncoding.EncodeToString(b)
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- c.Serve(ctx, data, password, pw)
		pw.Close()
	}()
	s := &Client{data: data, HTTP: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, IdleConnTimeout: time.Minute}}}
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if addr, ok := strings.CutPrefix(lines.Text(), "servicehall listening on "); ok {
			s.Base = strings.Fields(addr)[0] + "/api/v1"
			break
		}
	}
	go io.Copy(io.Discard, pr)
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() {
			// Connections the client dialled but never used look to the
			// server like requests about to come: its graceful shutdown
			// would wait five seconds for them.
			s.HTTP.CloseIdleConnections()
			cancel()
			stopErr = <-done
		})
		return stopErr
	}
	if s.Base == "" {
		cancel()
		os.RemoveAll(data)
		return nil, fmt.Errorf("bench: the server did not start: %v", <-done)
	}
	var out struct{ Token string }
	if _, err := s.Call("POST", "/auth/login", "", map[string]string{"username": "admin", "password": password}, &out); err != nil {
		s.close()
		return nil, err
	}
	s.Admin = out.Token
	return s, nil
}

// close stops the server and removes its data.
func (s *Client) close() error {
	err := s.stop()
	os.RemoveAll(s.data)
	return err
}

// call sends one request and decodes a 2xx answer into out; it returns the
// status, and an error for anything else but 409.
func (s *Client) Call(method, path, token string, body, out any) (int, error) {
	return s.CallKey(method, path, token, body, out, "")
}

// callKey is call with an Idempotency-Key, when key is not empty.
func (s *Client) CallKey(method, path, token string, body, out any, key string) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.Base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	switch {
	case resp.StatusCode == http.StatusConflict:
		return resp.StatusCode, nil
	case resp.StatusCode >= 300:
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	case out != nil && len(raw) > 0:
		return resp.StatusCode, json.Unmarshal(raw, out)
	}
	return resp.StatusCode, nil
}

// setup defines a service and a station with hours on every day of the
// week: length minutes of 5-minute slots of capacity places each.
func (s *Client) Setup(counters, minutes, capacity int) error {
	hours := func(days ...int) []map[string]any {
		var out []map[string]any
		for _, d := range days {
			out = append(out, map[string]any{"weekday": d, "start": "08:00", "end": domain.Clock(8*60 + minutes).String(),
				"service_ids": []string{"birth"}, "slot_minutes": 5, "capacity": capacity})
		}
		return out
	}
	steps := []struct {
		method, path string
		body         any
	}{
		{"POST", "/services", map[string]any{"id": "birth", "name": "Birth registration", "name_zh": "出生登记", "category": "household", "time_limit_days": 20, "online": false, "materials": []string{}}},
		{"POST", "/stations", map[string]any{"id": "bench", "name": "压测派出所"}},
		{"PUT", "/stations/bench/hours", map[string]any{"weekly": hours(1, 2, 3, 4, 5), "weekend_windows": hours(6, 7)}},
	}
	for i := range counters {
		steps = append(steps, struct {
			method, path string
			body         any
		}{"POST", "/stations/bench/counters", map[string]any{"id": fmt.Sprintf("w%d", i+1), "name": fmt.Sprintf("%d号窗口", i+1), "service_ids": []string{"birth"}}})
	}
	for _, st := range steps {
		if _, err := s.Call(st.method, st.path, s.Admin, st.body, nil); err != nil {
			return fmt.Errorf("bench setup: %w", err)
		}
	}
	return nil
}

// parallel runs n jobs on workers goroutines and returns the first error.
func Parallel(n, workers int, job func(i int) error) error {
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := job(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// benchCallnext: tickets wait; each counter, with its own staff login,
// calls the next, starts and completes until none is left. Every action
// is one HTTP request against the day's one queue stream.
func Callnext(ctx context.Context, c Config, tickets, counters int, stderr io.Writer) (Result, error) {
	s, err := startServer(ctx, c)
	if err != nil {
		return Result{}, err
	}
	defer s.close()
	if err := s.Setup(counters, 60, 10); err != nil {
		return Result{}, err
	}
	staff := make([]string, counters)
	if err := Parallel(counters, 4, func(i int) error {
		user := fmt.Sprintf("staff%d", i+1)
		if _, err := s.Call("POST", "/users", s.Admin, map[string]any{"username": user, "password": "bench-password", "role": "staff", "station_id": "bench"}, nil); err != nil {
			return err
		}
		var tok struct{ Token string }
		_, err := s.Call("POST", "/auth/login", "", map[string]string{"username": user, "password": "bench-password"}, &tok)
		staff[i] = tok.Token
		return err
	}); err != nil {
		return Result{}, err
	}
	fmt.Fprintf(stderr, "callnext: %d walk-in tickets, %d counters\n", tickets, counters)
	if err := Parallel(tickets, 16, func(int) error {
		_, err := s.Call("POST", "/stations/bench/tickets", staff[0], map[string]string{"service_id": "birth"}, nil)
		return err
	}); err != nil {
		return Result{}, err
	}
	lats := make([]latencies, counters)
	calls := make([]latencies, counters)
	errs := make([]int, counters)
	served := make([]int, counters)
	// The view's lag: from each action's answer until a read that waits
	// for the views to reach the action's position (X-Min-Position) comes
	// back, on goroutines beside the counters'.
	var lagMu sync.Mutex
	var lags latencies
	var watchers sync.WaitGroup
	watch := make(chan struct{}, 256)
	lag := func(pos string, answered time.Time) {
		watch <- struct{}{}
		watchers.Add(1)
		go func() {
			defer func() { <-watch; watchers.Done() }()
			req, _ := http.NewRequest("GET", s.Base+"/services", nil)
			req.Header.Set("X-Min-Position", pos)
			resp, err := s.HTTP.Do(req)
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				lagMu.Lock()
				lags = append(lags, time.Since(answered))
				lagMu.Unlock()
			}
		}()
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := range counters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counter := fmt.Sprintf("/counters/w%d/", i+1)
			act := func(action string, body any) (int, bool) {
				start := time.Now()
				status, pos, err := s.act(counter+action, staff[i], body)
				d := time.Since(start)
				lats[i] = append(lats[i], d)
				if action == "call-next" {
					calls[i] = append(calls[i], d)
				}
				// A conflict ends the counter's work: an error, as any other.
				if err != nil || status == http.StatusConflict {
					errs[i]++
					return status, false
				}
				if pos != "" {
					lag(pos, start.Add(d))
				}
				return status, true
			}
			if _, ok := act("open", map[string]any{"service_ids": []string{"birth"}}); !ok {
				return
			}
			for {
				status, ok := act("call-next", nil)
				if !ok || status == http.StatusNoContent {
					return
				}
				if _, ok := act("start", nil); !ok {
					return
				}
				if _, ok := act("complete", nil); ok {
					served[i]++
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	watchers.Wait()
	total, failed := 0, 0
	for i := range counters {
		total += served[i]
		failed += errs[i]
	}
	r := summarize("callnext", lats, failed, elapsed)
	cn := summarize("", calls, 0, elapsed)
	vl := summarize("", []latencies{lags}, 0, elapsed)
	r.Extra = map[string]any{"tickets": tickets, "counters": counters, "served": total, "call_next_p50_ms": cn.P50ms, "call_next_p99_ms": cn.P99ms,
		"view_lag_p50_ms": vl.P50ms, "view_lag_p99_ms": vl.P99ms, "view_lag_samples": len(lags)}
	return r, nil
}

// act POSTs an action and answers its status and the log position it wrote
// (X-Position); a 409 is a status, not an error.
func (s *Client) act(path, token string, body any) (int, string, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequest("POST", s.Base+path, bytes.NewReader(b))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusConflict {
		return resp.StatusCode, "", fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, raw)
	}
	return resp.StatusCode, resp.Header.Get("X-Position"), nil
}
