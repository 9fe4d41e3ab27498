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
	"time"

	"github.com/servicehall/servicehall/api"
	"github.com/servicehall/servicehall/app"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/eventstore/memstore"
	"github.com/servicehall/servicehall/projections"
)

// serveWith runs the API with a notifier (or none) and no demo codes,
// logging into logs.
func serveWith(t *testing.T, n api.Notifier, logs io.Writer) string {
	t.Helper()
	ctx := context.Background()
	log := memstore.New()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	views, err := projections.NewEngine(ctx, log, projections.NewMemory(), projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	application, err := app.New(log, views, loc, domain.DefaultPolicy, []byte("api-test-reference-key"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := api.New(api.Config{App: application, Secret: []byte(strings.Repeat("k", 32)), Loc: loc,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Notifier: n})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv.URL + "/api/v1"
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
