package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servicehall/servicehall/api"
)

// clock is a server's time, moved by the test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// serve runs the API on an in-memory log and views, on the clock given.
func serve(t *testing.T, c *clock, trusted ...string) string {
	t.Helper()
	return serveConfig(t, api.Config{Now: c.Now, DemoOTP: true, TrustedProxies: trusted})
}

func post(t *testing.T, url, body string) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The abuse limits run on the server's clock: one login code a minute per
// phone, and twenty at once from one client, then one every three seconds.
func TestLimitsFollowTheServerClock(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	base := serve(t, c)
	phone := `{"phone":"13800000000"}`
	if got := post(t, base+"/auth/otp", phone); got != http.StatusAccepted {
		t.Fatalf("first code: %d", got)
	}
	if got := post(t, base+"/auth/otp", phone); got != http.StatusTooManyRequests {
		t.Fatalf("a second code at once: %d, want 429", got)
	}
	c.Add(61 * time.Second)
	if got := post(t, base+"/auth/otp", phone); got != http.StatusAccepted {
		t.Fatalf("a code a minute later: %d", got)
	}
	passed := 0
	for i := range 25 {
		if post(t, base+"/auth/otp", `{"phone":"1390000`+string(rune('0'+i/10))+string(rune('0'+i%10))+`00"}`) == http.StatusAccepted {
			passed++
		}
	}
	if passed != 19 { // twenty at once (the minute refilled them), one spent above
		t.Fatalf("%d of 25 codes from one client passed, want 19", passed)
	}
	c.Add(3 * time.Second)
	if got := post(t, base+"/auth/otp", `{"phone":"13700000000"}`); got != http.StatusAccepted {
		t.Fatalf("three seconds later: %d, want one more", got)
	}
}

// A client cannot pick the address its limits count under: X-Forwarded-For
// is believed only from a trusted proxy.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		trusted []string
		want    int // of 25 codes, each sent "for" another address
	}{{nil, 20}, {[]string{"10.0.0.0/8"}, 20}, {[]string{"127.0.0.1"}, 25}} {
		base := serve(t, &clock{now: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}, c.trusted...)
		passed := 0
		for i := range 25 {
			req, _ := http.NewRequest("POST", base+"/auth/otp", strings.NewReader(fmt.Sprintf(`{"phone":"1390000%04d"}`, i)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
			req.Header.Set("X-Real-IP", fmt.Sprintf("198.51.100.%d", i))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusAccepted {
				passed++
			}
		}
		if passed != c.want {
			t.Errorf("trusting %v: %d of 25 codes passed, want %d", c.trusted, passed, c.want)
		}
	}
}
