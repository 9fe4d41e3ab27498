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

// openAnswers opens where the answers to idempotent requests are kept: the
// PostgreSQL database that processes share, if the event store or the views
// are in one, else a SQLite file beside the log.
func openAnswers(ctx context.Context, c *config) (answers.Store, error) {
	for _, v := range []string{c.EventStore, c.ReadModels} {
		if pgstore.IsURL(v) {
			return answers.OpenPostgres(ctx, v)
		}
	}
	if strings.EqualFold(c.EventStore, "memory") {
		return answers.NewMemory(), nil
	}
	return answers.OpenSQLite(filepath.Join(c.Data, "answers.db"))
}

// openLogins opens the password store where the answers are: the shared
// PostgreSQL database, memory, or a SQLite file beside the log.
func openLogins(ctx context.Context, c *config) (logins.Store, error) {
	for _, v := range []string{c.EventStore, c.ReadModels} {
		if pgstore.IsURL(v) {
			return logins.OpenPostgres(ctx, v)
		}
	}
	if strings.EqualFold(c.EventStore, "memory") {
		return logins.NewMemory(), nil
	}
	return logins.OpenSQLite(filepath.Join(c.Data, "logins.db"))
}

// now is the wall clock, read here and passed down: the domain never reads it.
func now() time.Time { return time.Now() }
