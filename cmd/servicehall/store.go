package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/servicehall/servicehall/answers"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/eventstore/kurrentdb"
	"github.com/servicehall/servicehall/eventstore/memstore"
	"github.com/servicehall/servicehall/eventstore/pgstore"
	"github.com/servicehall/servicehall/eventstore/sqlitestore"
	"github.com/servicehall/servicehall/logins"
	"github.com/servicehall/servicehall/vault"
)

// openStore opens the event store SERVICEHALL_EVENTSTORE names.
func openStore(ctx context.Context, c *config) (eventstore.Store, error) {
	switch v := c.EventStore; {
	case v == "" || strings.EqualFold(v, "sqlite"):
		return sqlitestore.Open(c.eventStorePath())
	case strings.EqualFold(v, "memory"): // tests; nothing survives the process
		return memstore.New(), nil
	case kurrentdb.IsURL(v):
		return kurrentdb.Open(v)
	case pgstore.IsURL(v):
		return pgstore.Open(ctx, v)
	default:
		return nil, fmt.Errorf("SERVICEHALL_EVENTSTORE %q: want sqlite, memory, esdb://… or postgres://… (事件存储配置不正确)", v)
	}
}

// beside opens a store of what the processes share beside the log: in the
// PostgreSQL database when the log or the views are there, in memory for
// the in-memory log, else in the SQLite file named file in the data folder.
func beside[S any](ctx context.Context, c *config, file string, pg func(context.Context, string) (S, error), memory func() S, sqlite func(string) (S, error)) (S, error) {
	for _, v := range []string{c.EventStore, c.ReadModels} {
		if pgstore.IsURL(v) {
			return pg(ctx, v)
		}
	}
	if strings.EqualFold(c.EventStore, "memory") {
		return memory(), nil
	}
	return sqlite(filepath.Join(c.Data, file))
}

// openAnswers opens the answers to idempotent requests.
func openAnswers(ctx context.Context, c *config) (answers.Store, error) {
	return beside[answers.Store](ctx, c, "answers.db",
		func(ctx context.Context, url string) (answers.Store, error) { return answers.OpenPostgres(ctx, url) },
		func() answers.Store { return answers.NewMemory() },
		func(path string) (answers.Store, error) { return answers.OpenSQLite(path) })
}

// openLogins opens the password hashes and login codes.
func openLogins(ctx context.Context, c *config) (logins.Store, error) {
	return beside[logins.Store](ctx, c, "logins.db",
		func(ctx context.Context, url string) (logins.Store, error) { return logins.OpenPostgres(ctx, url) },
		func() logins.Store { return logins.NewMemory() },
		func(path string) (logins.Store, error) { return logins.OpenSQLite(path) })
}

// openVault opens the residents' sealing keys.
func openVault(ctx context.Context, c *config) (vault.Store, error) {
	return beside[vault.Store](ctx, c, "vault.db",
		func(ctx context.Context, url string) (vault.Store, error) { return vault.OpenPostgres(ctx, url) },
		func() vault.Store { return vault.NewMemory() },
		func(path string) (vault.Store, error) { return vault.OpenSQLite(path) })
}

// now is the wall clock, read here and passed down: the domain never reads it.
func now() time.Time { return time.Now() }
