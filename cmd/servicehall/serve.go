package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/servicehall/servicehall/api"
	"github.com/servicehall/servicehall/app"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/projections"
)

// serve runs the API and the projections until ctx ends, then drains
// in-flight requests and closes the stores.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, pos, err := parse("serve", args, stderr, nil)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("serve: unexpected %q", pos)
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	log, engine, closeAll, err := openEngine(ctx, c)
	if err != nil {
		return err
	}
	defer closeAll()
	bus, err := openBus(c, logger)
	if err != nil {
		return err
	}
	h, err := app.New(log)
	if err != nil {
		return err
	}
	secret, err := tokenKey(c.Data)
	if err != nil {
		return err
	}
	if err := ensureAdmin(ctx, h, c, stdout); err != nil {
		return err
	}
	srv, err := api.New(api.Config{Handler: h, Secret: secret, Horizon: c.ReleaseHorizon, DemoOTP: c.DemoOTP, Log: log, Views: engine, Loc: c.loc, Logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	feedCtx, stopFeed := context.WithCancel(context.WithoutCancel(ctx))
	feedDone := make(chan error, 1)
	go func() { feedDone <- projections.RunFeed(feedCtx, engine, log, bus, logger) }()

	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "servicehall listening on http://%s (服务已启动)\n", ln.Addr())

	select {
	case <-ctx.Done():
	case err = <-served:
	case err = <-feedDone:
		err = fmt.Errorf("feed stopped: %w", err)
	}
	srv.Close()
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if serr := hs.Shutdown(shutdown); serr != nil && err == nil {
		err = serr
	}
	stopFeed()
	if ferr := <-feedDone; ferr != nil && err == nil {
		err = ferr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	fmt.Fprintln(stdout, "servicehall stopped (服务已停止)")
	return err
}

// tokenKey is the key that signs login tokens, made on first start and kept
// in the data folder (several processes share it by sharing that file).
func tokenKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, "token.key")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	return b, nil
}

// ensureAdmin creates the admin user on first start, with
// SERVICEHALL_ADMIN_PASSWORD or, without it, a generated password printed
// once.
func ensureAdmin(ctx context.Context, h *app.Handler, c *config, stdout io.Writer) error {
	u, _, err := app.Load[domain.User](ctx, h.Store(), "user-admin")
	if err != nil || u.Exists() {
		return err
	}
	password := c.AdminPassword
	if password == "" {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		password = base64.RawURLEncoding.EncodeToString(b)
		defer fmt.Fprintf(stdout, "admin password (管理员密码): %s\n", password)
	}
	m := app.Meta{Actor: eventstore.Actor{ID: "system:serve", Role: domain.RoleSystem}, At: time.Now(), CommandID: "create-admin"}
	if _, err := app.CreateUser(ctx, h, m, "admin", password, domain.RoleAdmin, ""); err != nil {
		return fmt.Errorf("create the admin user: %w", err)
	}
	return nil
}

// openBus picks the watermill transport SERVICEHALL_BUS names.
func openBus(c *config, logger *slog.Logger) (projections.Bus, error) {
	switch v := c.Bus; {
	case v == "" || strings.EqualFold(v, "gochannel"):
		return projections.GoChannel(logger), nil
	case strings.HasPrefix(v, "nats://"):
		return projections.NATS(v, projections.DefaultTopic, logger)
	}
	return projections.Bus{}, fmt.Errorf("SERVICEHALL_BUS %q: want gochannel or nats://… (消息总线配置不正确)", c.Bus)
}
