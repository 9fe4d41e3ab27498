package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func constant(r Request) func() (Request, bool) { return func() (Request, bool) { return r, true } }

// Latency runs from when a request was due, not from when it went out: a
// generator that stalls charges the stall to the requests it delayed.
func TestOpenLoopCountsFromTheDueTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":"a1"}`)
	}))
	defer srv.Close()
	calls := 0
	next := func() (Request, bool) {
		if calls++; calls == 10 {
			time.Sleep(200 * time.Millisecond) // the generator stalls: requests 10 to 29 go late
		}
		return Request{Token: "t", Body: []byte(`{}`)}, true
	}
	s := OpenLoop(context.Background(), LoadClient(5*time.Second), srv.URL, 100, time.Second, next, true)
	if s.Sent != 100 || s.OK != 100 || s.Errors != 0 || len(s.IDs) != 100 || s.IDs[0] != "a1" {
		t.Fatalf("step %+v", s)
	}
	// Some 20 of 100 requests were delayed by 0 to 200 ms.
	if s.P99ms < 150 || s.MaxMs < 190 || s.P50ms > 50 {
		t.Errorf("p50 %v ms, p99 %v ms, max %v ms: want the stall in the tail", s.P50ms, s.P99ms, s.MaxMs)
	}
}

// A server that answers one request at a time, slower than they arrive:
// the queue grows, and so does each latency, though every request is
// answered.
func TestOpenLoopQueue(t *testing.T) {
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		time.Sleep(10 * time.Millisecond)
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer t" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusConflict)
	}))
	defer srv.Close()
	// 200/s for half a second against 100/s: the last answer comes about
	// 100*10 ms after the start, 500 ms after it was due.
	s := OpenLoop(context.Background(), LoadClient(5*time.Second), srv.URL, 200, 500*time.Millisecond, constant(Request{Token: "t", Body: []byte(`{}`)}), false)
	if s.Sent != 100 || s.Full != 100 || s.Errors != 0 || s.Answered() != 100 {
		t.Fatalf("step %+v", s)
	}
	if s.MaxMs < 400 || s.P50ms < 150 || s.Seconds < 0.9 || passes(s) {
		t.Errorf("p50 %v ms, max %v ms over %v s: want a growing queue", s.P50ms, s.MaxMs, s.Seconds)
	}
}

func TestOpenLoopShort(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	defer srv.Close()
	left := 5
	next := func() (Request, bool) {
		left--
		return Request{Token: "t"}, left >= 0
	}
	s := OpenLoop(context.Background(), LoadClient(5*time.Second), srv.URL, 100, time.Second, next, false)
	if !s.Short || s.Sent != 5 || s.Errors != 5 || s.Error == "" || passes(s) {
		t.Fatalf("step %+v", s)
	}
}

// The ramp keeps the highest rate that passed and stops after two
// failures in a row.
func TestRamp(t *testing.T) {
	var tried []int
	step := func(rate int) (Step, error) {
		tried = append(tried, rate)
		s := Step{Rate: rate, Sent: rate, OK: rate, P99ms: 10}
		if rate == 300 || rate >= 2000 { // a noisy step, then saturation
			s.P99ms = 80
		}
		return s, nil
	}
	steps, best, err := ramp([]int{100, 300, 500, 1000, 2000, 3000, 4000}, step, io.Discard, "test")
	if err != nil || best != 3 || steps[best].Rate != 1000 || fmt.Sprint(tried) != "[100 300 500 1000 2000 3000]" {
		t.Fatalf("best %d, tried %v, err %v", best, tried, err)
	}
}
