package api_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servicehall/servicehall/api"
	"github.com/servicehall/servicehall/logins"
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
	cfg := apiConfig(c)
	cfg.TrustedProxies = trusted
	return serveConfig(t, cfg)
}

// apiConfig answers resident codes, on the clock given.
func apiConfig(c *clock) api.Config { return api.Config{Now: c.Now, DemoOTP: true} }

func post(t *testing.T, url, body string) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// sendAs posts body as a client at address (believed only from a trusted
// proxy) and answers the status and the decoded answer.
func sendAs(t *testing.T, url, address, body string) (int, map[string]any) {
	t.Helper()
	header := map[string]string{}
	if address != "" {
		header["X-Forwarded-For"] = address
	}
	resp, out := sendWith(t, "POST", url, "", body, header)
	return resp.StatusCode, out
}

// The abuse limits run on the server's clock: one login code a minute per
// phone; three hundred at once from one client, then five a second.
func TestLimitsFollowTheServerClock(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	base := serve(t, c)
	phone := `{"phone":"13800000000"}`
	if got := post(t, base+"/auth/otp", phone); got != http.StatusAccepted {
		t.Fatalf("first code: %d", got)
	}
	if resp, out := send(t, "POST", base+"/auth/otp", "", phone); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(fmt.Sprint(out["detail"]), "秒后再试") {
		t.Fatalf("a second code at once: %d %v, want 429 saying when, in both languages", resp.StatusCode, out)
	}
	c.Add(61 * time.Second)
	if got := post(t, base+"/auth/otp", phone); got != http.StatusAccepted {
		t.Fatalf("a code a minute later: %d", got)
	}
	passed := 0
	for i := range 320 {
		if post(t, base+"/auth/otp", fmt.Sprintf(`{"phone":"139%08d"}`, i)) == http.StatusAccepted {
			passed++
		}
	}
	if passed != 299 { // three hundred at once (the minute refilled them), one spent above
		t.Fatalf("%d of 320 codes from one client passed, want 299", passed)
	}
	c.Add(time.Second)
	passed = 0
	for i := range 10 {
		if post(t, base+"/auth/otp", fmt.Sprintf(`{"phone":"137%08d"}`, i)) == http.StatusAccepted {
			passed++
		}
	}
	if passed != 5 {
		t.Fatalf("a second later %d of 10 passed, want five", passed)
	}
}

// A client cannot pick the address its limits count under: X-Forwarded-For
// is believed only from a trusted proxy, so a rotating header buys nothing.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		trusted []string
		want    int // of 320 codes, each sent "for" another address
	}{{nil, 300}, {[]string{"10.0.0.0/8"}, 300}, {[]string{"127.0.0.1"}, 320}} {
		base := serve(t, &clock{now: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}, c.trusted...)
		passed := 0
		for i := range 320 {
			if got, _ := sendAs(t, base+"/auth/otp", fmt.Sprintf("203.0.%d.%d", i/256, i%256), fmt.Sprintf(`{"phone":"1390000%04d"}`, i)); got == http.StatusAccepted {
				passed++
			}
		}
		if passed != c.want {
			t.Errorf("trusting %v: %d of 320 codes passed, want %d", c.trusted, passed, c.want)
		}
	}
}

// Two hundred residents behind one carrier-grade NAT address all log in
// within the same minute.
func TestResidentsBehindOneAddress(t *testing.T) {
	t.Parallel()
	base := serve(t, &clock{now: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)})
	in := 0
	for i := range 200 {
		phone := fmt.Sprintf("1380013%04d", i)
		got, out := sendAs(t, base+"/auth/otp", "", fmt.Sprintf(`{"phone":%q}`, phone))
		if got != http.StatusAccepted {
			t.Fatalf("resident %d: code %d", i, got)
		}
		if got, _ = sendAs(t, base+"/auth/verify", "", fmt.Sprintf(`{"phone":%q,"code":%q}`, phone, out["dev_code"])); got == http.StatusOK {
			in++
		}
	}
	if in != 200 {
		t.Fatalf("%d of 200 residents behind one address logged in", in)
	}
}

// Nobody locks another person out: a stranger's code for the owner's phone
// does not void the owner's, the stranger's wrong codes and passwords slow
// the stranger only, and the owner then logs in.
func TestStrangersCannotLockTheOwnerOut(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	base := serve(t, c, "127.0.0.1")
	const owner, stranger = "203.0.113.1", "198.51.100.7"
	phone := `{"phone":"13812345678"}`
	_, out := sendAs(t, base+"/auth/otp", owner, phone)
	mine := out["dev_code"].(string)
	c.Add(61 * time.Second)
	if got, _ := sendAs(t, base+"/auth/otp", stranger, phone); got != http.StatusAccepted {
		t.Fatalf("the stranger's code: %d", got)
	}
	var statuses []int
	for i := range 8 {
		wrong := fmt.Sprintf("%06d", (i*7919+13)%1_000_000)
		if wrong == mine {
			continue
		}
		got, _ := sendAs(t, base+"/auth/verify", stranger, fmt.Sprintf(`{"phone":"13812345678","code":%q}`, wrong))
		statuses = append(statuses, got)
	}
	if fmt.Sprint(statuses[:5]) != "[401 401 401 401 401]" || statuses[len(statuses)-1] != http.StatusTooManyRequests {
		t.Fatalf("the stranger's wrong codes: %v, want five 401 then 429", statuses)
	}
	if got, _ := sendAs(t, base+"/auth/verify", owner, fmt.Sprintf(`{"phone":"13812345678","code":%q}`, mine)); got != http.StatusOK {
		t.Fatalf("the owner's code after the stranger's tries: %d", got)
	}

	statuses = nil
	for range 7 {
		got, _ := sendAs(t, base+"/auth/login", stranger, `{"username":"admin","password":"not-the-password"}`)
		statuses = append(statuses, got)
	}
	if fmt.Sprint(statuses) != "[401 401 401 401 401 429 429]" {
		t.Fatalf("the stranger's password guesses: %v, want five 401 then 429", statuses)
	}
	if got, out := sendAs(t, base+"/auth/login", owner, `{"username":"admin","password":"admin-pass-1"}`); got != http.StatusOK {
		t.Fatalf("the owner's login after the guesses: %d %v", got, out)
	}
}

// Two processes sharing the logins database count limits together: a
// phone's code sent through one is the minute's one for the other, and the
// code verifies on the other.
func TestLimitsAndCodesAcrossProcesses(t *testing.T) {
	t.Parallel()
	shared, err := logins.OpenSQLite(filepath.Join(t.TempDir(), "logins.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	c := &clock{now: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	cfg := apiConfig(c)
	cfg.Logins, cfg.Buckets = shared, shared
	one, two := serveConfig(t, cfg), serveConfig(t, cfg)
	status, out := sendAs(t, one+"/auth/otp", "", `{"phone":"13812345678"}`)
	if status != 202 {
		t.Fatalf("a code through one: %d", status)
	}
	if got, _ := sendAs(t, two+"/auth/otp", "", `{"phone":"13812345678"}`); got != 429 {
		t.Fatalf("a second code for the phone through the other: %d, want 429", got)
	}
	if got, _ := sendAs(t, two+"/auth/verify", "", fmt.Sprintf(`{"phone":"13812345678","code":%q}`, out["dev_code"])); got != 200 {
		t.Fatalf("the code verified through the other: %d", got)
	}
}
