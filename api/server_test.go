package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servicehall/servicehall/api"
	"github.com/servicehall/servicehall/app"
	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/eventstore/memstore"
	"github.com/servicehall/servicehall/internal/apitest"
	"github.com/servicehall/servicehall/projections"
)

var (
	send          = apitest.Send
	sendWith      = apitest.SendWith
	getJSON       = apitest.Get
	getJSONAuth   = apitest.GetAuth
	residentLogin = apitest.ResidentLogin
)

// serveConfig runs the API with cfg on an in-memory log and views, fed as
// serve feeds them, with an admin "admin" (password "admin-pass-1"); the
// application, secret, zone and a silent logger are filled in. It answers
// the API's base URL.
func serveConfig(t *testing.T, cfg api.Config) string {
	t.Helper()
	base, _ := start(t, cfg)
	return base
}

// start is serveConfig that also answers a stop function, which ends
// open streams and waits for the requests in flight.
func start(t *testing.T, cfg api.Config) (base string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := memstore.New()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	views, err := projections.NewEngine(ctx, log, projections.NewMemory(), projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	application, err := app.New(log, views, loc, domain.DefaultPolicy, command.Keys{Reference: []byte("api-test-reference-key"), Seal: []byte("api-test-reference-key")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.App, cfg.Loc = application, loc
	if cfg.TokenKeys == nil {
		cfg.TokenKeys = [][]byte{[]byte(strings.Repeat("k", 32))}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	admin := command.Meta{Actor: eventstore.Actor{ID: "system:test", Role: domain.RoleAdmin}, At: time.Now()}
	if _, err := application.Commands.CreateUser(ctx, "admin", "admin-pass-1", domain.RoleAdmin, "", admin); err != nil {
		t.Fatal(err)
	}
	s, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fed := make(chan error, 1)
	go func() { fed <- projections.RunFeed(ctx, views, log, projections.GoChannel(cfg.Logger), cfg.Logger) }()
	srv := httptest.NewServer(s.Handler())
	var once sync.Once
	var ferr error
	stop = func() error {
		once.Do(func() {
			s.Close()
			srv.Close()
			cancel()
			ferr = <-fed
		})
		return ferr
	}
	t.Cleanup(func() { stop() })
	return srv.URL + "/api/v1", stop
}

// call is one request of a test's setup: method, path and body.
type call = apitest.Call

// configured serves the API with resident codes answered and slots
// released horizon days ahead (14 for 0), makes the admin's calls, and
// answers the API's base URL, the admin's token and the stop function.
func configured(t *testing.T, horizon int, calls ...call) (base, admin string, stop func() error) {
	t.Helper()
	base, stop = start(t, api.Config{DemoOTP: true, Horizon: horizon})
	_, out := send(t, "POST", base+"/auth/login", "", `{"username":"admin","password":"admin-pass-1"}`)
	admin = out["token"].(string)
	apitest.SetUp(t, base, admin, calls...)
	return base, admin, stop
}

var shanghai = apitest.Shanghai
