package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/servicehall/servicehall/api"
)

// serveWith runs the API with a notifier (or none) and no demo codes,
// logging into logs.
func serveWith(t *testing.T, n api.Notifier, logs io.Writer) string {
	t.Helper()
	return serveConfig(t, api.Config{Notifier: n, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
}

// A login code goes to the SMS gateway and nowhere else: not into the
// answer, not into the log. Without a gateway, login by code is 503.
func TestLoginCodesGoToTheGatewayOnly(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []map[string]string
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer gateway.Close()
	var logs bytes.Buffer
	base := serveWith(t, api.Webhook{URL: gateway.URL}, &logs)
	resp, err := http.Post(base+"/auth/otp", "application/json", strings.NewReader(`{"phone":"13812345678"}`))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if resp.StatusCode != http.StatusAccepted || len(got) != 1 || got[0]["phone"] != "13812345678" {
		t.Fatalf("code request: %d %s; gateway got %v", resp.StatusCode, answer, got)
	}
	text := got[0]["text"]
	i := strings.IndexAny(text, "0123456789")
	if i < 0 || len(text) < i+6 {
		t.Fatalf("the message holds no code: %q", text)
	}
	code := text[i : i+6]
	if strings.Contains(string(answer), code) || strings.Contains(logs.String(), code) {
		t.Fatalf("the code %s leaked: answer %s, log %s", code, answer, logs.String())
	}
	body := `{"phone":"13812345678","code":"` + code + `"}`
	if resp, err := http.Post(base+"/auth/verify", "application/json", strings.NewReader(body)); err != nil {
		t.Fatal(err)
	} else if resp.StatusCode != http.StatusOK {
		t.Fatalf("verify with the gateway's code: %d", resp.StatusCode)
	}

	none := serveWith(t, nil, io.Discard)
	if resp, err := http.Post(none+"/auth/otp", "application/json", strings.NewReader(`{"phone":"13812345678"}`)); err != nil {
		t.Fatal(err)
	} else if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a code without a gateway: %d, want 503", resp.StatusCode)
	}
}

// The gateway is tried three times while it fails, and not again when it
// refuses the message.
func TestWebhookRetries(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		answers []int
		hits    int
		ok      bool
	}{
		{[]int{503, 502, 200}, 3, true},
		{[]int{429, 200}, 2, true},
		{[]int{503, 503, 503, 200}, 3, false},
		{[]int{400, 200}, 1, false},
	} {
		var mu sync.Mutex
		hits := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			w.WriteHeader(c.answers[min(hits, len(c.answers)-1)])
			hits++
		}))
		err := api.Webhook{URL: srv.URL}.Notify(context.Background(), "13812345678", "servicehall")
		srv.Close()
		if (err == nil) != c.ok || hits != c.hits {
			t.Errorf("answers %v: %d requests, %v; want %d, ok %v", c.answers, hits, err, c.hits, c.ok)
		}
	}
}
