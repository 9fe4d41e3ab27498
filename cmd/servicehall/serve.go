package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/servicehall/servicehall/api"
	"github.com/servicehall/servicehall/app"
	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/jobs"
	"github.com/servicehall/servicehall/logins"
	"github.com/servicehall/servicehall/projections"
	"github.com/servicehall/servicehall/webhooks"
)

// clock is the server's time. Tests in this package move it, to serve a
// Saturday morning on any day; nothing else does.
var clock = time.Now

// serve runs the API, the projections and the jobs until ctx ends, then
// drains in-flight requests and closes the stores.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, pos, err := parse("serve", args, stderr, nil)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("serve: unexpected %q", pos)
	}
	return runServer(ctx, c, stdout, stderr, nil)
}

// hall is what a running server is made of, for what runs before it
// listens (the demo's seed).
type hall struct {
	h      *command.Handler
	hall   *command.Hall
	log    eventstore.Store
	views  *projections.Engine
	runner *jobs.Runner
}

// runServer serves c; prepare, if given, runs once the projections are caught up
// and before the jobs start, and returns lines to print after the URL.
func runServer(ctx context.Context, c *config, stdout, stderr io.Writer, prepare func(context.Context, *hall) ([]string, error)) error {
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	log, engine, closeAll, err := openEngine(ctx, c)
	if err != nil {
		return err
	}
	defer closeAll()
	if err := followThisLog(ctx, c, engine, logger); err != nil {
		return err
	}
	bus, err := openBus(c, logger)
	if err != nil {
		return err
	}
	head, err := log.Head(ctx)
	if err != nil {
		return err
	}
	keys, err := loadKeys(c.Data, head == 0)
	if err != nil {
		return err
	}
	passwords, err := openLogins(ctx, c)
	if err != nil {
		return err
	}
	defer passwords.Close()
	if keys.Vault, err = openVault(ctx, c); err != nil {
		return err
	}
	defer keys.Vault.Close()
	application, err := app.New(log, engine, c.loc, c.policy(), keys.Keys, passwords)
	if err != nil {
		return err
	}
	h, hl := application.Commands.Handler(), application.Commands
	if err := ensureAdmin(ctx, application, c, stdout); err != nil {
		return err
	}
	lock, closeLock, err := jobLock(c)
	if err != nil {
		return err
	}
	defer closeLock()
	// Codes and reminders go to the SMS gateway when there is one; without
	// it reminders are logged masked, and codes are never logged.
	var notifier api.Notifier
	var texts jobs.Notifier
	if c.SMSWebhook != "" {
		gateway := api.Webhook{URL: c.SMSWebhook}
		notifier = gateway
		texts = jobs.SMSNotifier{Send: gateway.Notify, Unseal: application.Commands.Unseal}
	}
	runner, err := jobs.New(jobs.Config{App: application, Loc: c.loc, Logger: logger, Horizon: c.ReleaseHorizon,
		ReleaseAt: c.ReleaseAt, Lock: lock, Now: clock, Escalation: c.escalation(), Notifier: texts, TurnAhead: c.TurnAhead})
	if err != nil {
		return err
	}
	hooks, err := webhooks.New(webhooks.Config{App: application, Logger: logger, Lock: lock, Now: clock})
	if err != nil {
		return err
	}
	replies, err := openAnswers(ctx, c)
	if err != nil {
		return err
	}
	defer replies.Close()
	srv, err := api.New(api.Config{App: application, TokenKeys: keys.Token, ReloadTokenKeys: tokenKeys(c.Data), Horizon: c.ReleaseHorizon, DemoOTP: c.DemoOTP,
		Loc: c.loc, Logger: logger, Jobs: runner, Now: clock, Unlimited: !c.RateLimits, Escalation: c.escalation(), Answers: replies,
		TrustedProxies: c.trustedProxies(), PublicURL: c.PublicURL, Notifier: notifier, Logins: sharedCodes(passwords), Buckets: sharedBuckets(passwords)})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	var banner []string
	if prepare != nil {
		if err := engine.CatchUp(ctx); err != nil {
			return err
		}
		if banner, err = prepare(ctx, &hall{h, hl, log, engine, runner}); err != nil {
			return err
		}
	}
	if !sharedViews(c) {
		if err := engine.CatchUp(ctx); err != nil {
			return err
		}
	}
	feedCtx, stopFeed := context.WithCancel(context.WithoutCancel(ctx))
	feedDone := make(chan error, 1)
	go func() { feedDone <- feed(feedCtx, c, engine, log, bus, logger, lock) }()
	// Missed ticks are caught up before the server answers, once the views
	// have read what the log holds: on views behind it the release job
	// finds no station and opens nothing. Views shared with other processes
	// are written by whichever holds their lock (see feed), maybe this one.
	if caughtUp(ctx, engine, log, logger) {
		runner.CatchUp(ctx, clock())
		caughtUp(ctx, engine, log, logger) // the jobs' writes, before the first answer
	}
	runner.Start()
	defer runner.Stop()
	hooksCtx, stopHooks := context.WithCancel(context.WithoutCancel(ctx))
	hooksDone := make(chan error, 1)
	go func() { hooksDone <- hooks.Run(hooksCtx) }()
	defer func() {
		stopHooks()
		<-hooksDone
	}()

	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "servicehall listening on http://%s (服务已启动)\n", ln.Addr())
	for _, l := range banner {
		fmt.Fprintln(stdout, l)
	}

	// A feed or a listener that stops on its own (its database gone, say)
	// stops the process with the error: a server that answers nothing must
	// not look alive.
	fed := false
	select {
	case <-ctx.Done():
	case err = <-served:
	case err = <-feedDone:
		fed = true
		err = fmt.Errorf("feed stopped: %w", cmp.Or(err, errors.New("without an error")))
	}
	srv.Close()
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if serr := hs.Shutdown(shutdown); serr != nil && err == nil {
		err = serr
	}
	stopFeed()
	if !fed {
		// Told to stop, a feed may answer with whatever its cut-off read
		// said: logged, not the process's failure.
		if ferr := <-feedDone; ferr != nil {
			logger.Warn("the feed stopped", "error", ferr)
		}
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	fmt.Fprintln(stdout, "servicehall stopped (服务已停止)")
	return err
}

// caughtUp waits, up to two minutes, for every view to reach the log's
// head as it is now, and says whether they did.
func caughtUp(ctx context.Context, e *projections.Engine, log eventstore.Store, logger *slog.Logger) bool {
	head, err := log.Head(ctx)
	if err != nil {
		logger.Warn("the log's head (日志读取失败)", "error", err)
		return false
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for _, name := range e.Names() {
		if err := e.WaitFor(wctx, name, head); err != nil {
			if ctx.Err() == nil {
				logger.Warn("the views did not catch up with the log: missed job ticks wait for their next time (视图未追上日志)", "projection", name, "error", err)
			}
			return false
		}
	}
	return true
}

// sharedViews says whether the read models may be shared with other
// processes: PostgreSQL ones may, the embedded ones may not.
func sharedViews(c *config) bool {
	return strings.HasPrefix(c.ReadModels, "postgres://") || strings.HasPrefix(c.ReadModels, "postgresql://")
}

// feed runs the projections' feed. Views shared by several processes are
// written by one at a time, the holder of the "projections" lock; the
// others follow the checkpoints it writes, so that their reads and their
// read-your-writes waits stay right, and one of them takes over when the
// writer stops or dies (its database session, and so its lock, ends).
func feed(ctx context.Context, c *config, engine *projections.Engine, log eventstore.Store, bus projections.Bus, logger *slog.Logger, lock jobs.Locker) error {
	if !sharedViews(c) {
		return projections.RunFeed(ctx, engine, log, bus, logger)
	}
	for {
		unlock, ok, err := lock.TryLock(ctx, "projections")
		if err == nil && ok {
			defer unlock()
			if err := engine.Refresh(ctx); err != nil {
				return err
			}
			// The writer, alone under the lock, rebuilds shared views that
			// do not follow this log.
			if err := resetStale(ctx, engine, logger); err != nil {
				return err
			}
			logger.Info("this process now writes the views")
			return projections.RunFeed(ctx, engine, log, bus, logger)
		}
		if err == nil {
			err = engine.Refresh(ctx)
		}
		if err != nil && ctx.Err() == nil {
			logger.Warn("following the views", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// jobLock is the lock that lets one process run each job tick: an advisory
// lock when the read models are in PostgreSQL (several processes may share
// them), else one in this process (the embedded store admits one process).
func jobLock(c *config) (jobs.Locker, func(), error) {
	if !sharedViews(c) {
		return &jobs.LocalLock{}, func() {}, nil
	}
	db, err := sql.Open("pgx", c.ReadModels)
	if err != nil {
		return nil, nil, fmt.Errorf("job lock: %w", err)
	}
	return jobs.PostgresLock{DB: db}, func() { db.Close() }, nil
}

// ensureAdmin creates the admin user on first start, with
// SERVICEHALL_ADMIN_PASSWORD or, without it, a generated password printed
// once.
func ensureAdmin(ctx context.Context, a *app.Application, c *config, stdout io.Writer) error {
	u, err := a.Queries.User(ctx, "admin")
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
	m := command.Meta{Actor: command.Actor{ID: "system:serve", Role: domain.RoleSystem}, At: time.Now(), CommandID: "create-admin"}
	if _, err := a.Commands.CreateUser(ctx, "admin", password, domain.RoleAdmin, "", m); err != nil {
		if u, lerr := a.Queries.User(ctx, "admin"); lerr == nil && u.Exists() {
			return nil // another process, starting with this one, made it
		}
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
		return projections.NATS(v, c.BusTopic, logger)
	}
	return projections.Bus{}, fmt.Errorf("SERVICEHALL_BUS %q: want gochannel or nats://… (消息总线配置不正确)", c.Bus)
}

// followThisLog rebuilds, before anything is served, the embedded views
// that do not follow this log (built from another log, or past the head of
// a log restored from an older backup), and records which log they
// follow. Views shared with other processes are rebuilt by the one that
// writes them, under its lock; /readyz reports them meanwhile.
func followThisLog(ctx context.Context, c *config, engine *projections.Engine, logger *slog.Logger) error {
	if sharedViews(c) {
		return nil // the process that writes them checks them (feed)
	}
	return resetStale(ctx, engine, logger)
}

// resetStale rebuilds the views that do not follow this log to its head,
// and records which log they follow.
func resetStale(ctx context.Context, engine *projections.Engine, logger *slog.Logger) error {
	stale, err := engine.Check(ctx)
	if err != nil {
		return err
	}
	if len(stale) > 0 {
		logger.Warn("the views do not follow this log: rebuilding them (视图与日志不符，正在重建)", "projections", stale)
		if err := engine.Reset(ctx, stale, nil); err != nil {
			return fmt.Errorf("rebuild the views: %w", err)
		}
	}
	return engine.MarkLog(ctx)
}

// sharedBuckets counts the abuse limits in the database the processes share,
// when the logins store is one (PostgreSQL); a lone process counts in memory.
func sharedBuckets(s logins.Store) api.Buckets {
	if sql, ok := s.(*logins.SQL); ok && sql.Shared() {
		return sql
	}
	return nil
}

// sharedCodes keeps login codes where other processes find them; a lone
// process (SQLite locks the log to one) keeps them in memory, sparing two
// synced writes per login.
func sharedCodes(s logins.Store) logins.Store {
	if sql, ok := s.(*logins.SQL); ok && sql.Shared() {
		return sql
	}
	return nil
}
