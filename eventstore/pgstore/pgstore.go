// Package pgstore keeps the log in PostgreSQL, for several servicehall
// processes sharing one store. Appends take the one head row in turn, so
// global positions are handed out in commit order: a subscriber never sees
// position n+1 committed before n, the trap of positions drawn from a
// sequence by concurrent transactions. The schema is migrated with goose.
package pgstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/servicehall/servicehall/eventstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the PostgreSQL adapter.
type Store struct {
	db      *sql.DB
	mu      sync.Mutex
	changed chan struct{} // closed when a notification says the log grew
	stop    chan struct{}
	done    chan struct{}
}

const channel = "servicehall_log"

// IsURL says whether a SERVICEHALL_EVENTSTORE value names PostgreSQL.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to url and migrates the schema (under an advisory lock, so
// processes starting together migrate once).
func Open(ctx context.Context, url string) (*Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	db.SetMaxOpenConns(32)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		db.Close()
		return nil, err
	}
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithTableName("log_goose_version"), goose.WithSessionLocker(locker))
	if err == nil {
		_, err = p.Up(ctx)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("pgstore: migrate: %w", err)
	}
	s := &Store{db: db, changed: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go s.listen()
	return s, nil
}

// listen turns notifications of appends (by any process) into wake-ups
// for subscribers; without a connection they still poll once a second.
func (s *Store) listen() {
	defer close(s.done)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-s.stop; cancel() }()
	for ctx.Err() == nil {
		err := func() error {
			conn, err := s.db.Conn(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			return conn.Raw(func(dc any) error {
				pc := dc.(*stdlib.Conn).Conn()
				if _, err := pc.Exec(ctx, "LISTEN "+channel); err != nil {
					return err
				}
				for {
					if _, err := pc.WaitForNotification(ctx); err != nil {
						return err
					}
					s.wake()
				}
			})
		}()
		if ctx.Err() == nil && err != nil {
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
		}
	}
}

func (s *Store) wake() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// Append writes events at the stream's end if it is at expected, in one
// transaction that takes the head row last.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.Event) (eventstore.Result, error) {
	if err := eventstore.Check(stream, events); err != nil {
		return eventstore.Result{}, err
	}
	for {
		res, err := s.append(ctx, stream, expected, events)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "40P01" { // deadlock: nothing was written, try again
			continue
		}
		return res, err
	}
}

func (s *Store) append(ctx context.Context, stream string, expected eventstore.Expected, events []eventstore.Event) (eventstore.Result, error) {
	if res, done, err := s.stored(ctx, stream, events); done || err != nil {
		return res, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return eventstore.Result{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	defer tx.Rollback()
	var version int64
	err = tx.QueryRowContext(ctx, `SELECT version FROM log_streams WHERE stream = $1 FOR UPDATE`, stream).Scan(&version)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return eventstore.Result{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	if expected != eventstore.Any && int64(expected) != version {
		return eventstore.Result{}, &eventstore.ConflictError{Stream: stream, Expected: expected, Actual: version}
	}
	var last int64
	if err := tx.QueryRowContext(ctx, `UPDATE log_head SET position = position + $1 RETURNING position`, len(events)).Scan(&last); err != nil {
		return eventstore.Result{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	first := last - int64(len(events)) + 1
	var b strings.Builder
	b.WriteString(`INSERT INTO log_events (position, id, stream, version, type, data, occurred_at, actor_id, actor_role, correlation, causation, schema) VALUES `)
	args := make([]any, 0, 12*len(events))
	for i, e := range events {
		if i > 0 {
			b.WriteString(",")
		}
		n := len(args)
		fmt.Fprintf(&b, "($%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11, n+12)
		schema := e.Schema
		if schema == 0 {
			schema = 1
		}
		args = append(args, first+int64(i), e.ID, stream, version+int64(i)+1, e.Type, string(e.Data), e.OccurredAt.UTC(),
			e.Actor.ID, e.Actor.Role, e.CorrelationID, e.CausationID, schema)
	}
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" { // another append got in first
			tx.Rollback()
			if strings.Contains(pe.ConstraintName, "stream_version") {
				return eventstore.Result{}, &eventstore.ConflictError{Stream: stream, Expected: expected, Actual: -1}
			}
			if res, done, err := s.stored(ctx, stream, events); done || err != nil {
				return res, err
			}
		}
		return eventstore.Result{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	now := version + int64(len(events))
	if _, err := tx.ExecContext(ctx, `INSERT INTO log_streams (stream, version) VALUES ($1, $2) ON CONFLICT (stream) DO UPDATE SET version = EXCLUDED.version`, stream, now); err != nil {
		return eventstore.Result{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, '')`, channel); err != nil {
		return eventstore.Result{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	if err := tx.Commit(); err != nil {
		return eventstore.Result{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	return eventstore.Result{Version: uint64(now), Position: uint64(last)}, nil
}

// stored answers a retried append: done when every id is in stream
// already; an error when an id is stored elsewhere or only some are.
func (s *Store) stored(ctx context.Context, stream string, events []eventstore.Event) (eventstore.Result, bool, error) {
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID.String()
	}
	rows, err := s.db.QueryContext(ctx, `SELECT stream, version, position FROM log_events WHERE id = ANY($1::uuid[])`, ids)
	if err != nil {
		return eventstore.Result{}, false, fmt.Errorf("append to %s: %w", stream, err)
	}
	defer rows.Close()
	var res eventstore.Result
	found := 0
	for rows.Next() {
		var other string
		var v, p int64
		if err := rows.Scan(&other, &v, &p); err != nil {
			return eventstore.Result{}, false, err
		}
		if other != stream {
			return eventstore.Result{}, false, fmt.Errorf("append to %s: an event id is stored in stream %s already", stream, other)
		}
		found++
		if uint64(p) > res.Position {
			res = eventstore.Result{Version: uint64(v), Position: uint64(p)}
		}
	}
	if err := rows.Err(); err != nil {
		return eventstore.Result{}, false, err
	}
	switch found {
	case 0:
		return eventstore.Result{}, false, nil
	case len(events):
		return res, true, nil
	}
	return eventstore.Result{}, false, fmt.Errorf("append to %s: %d of %d event ids are stored already", stream, found, len(events))
}

const columns = `position, id, stream, version, type, data, occurred_at, actor_id, actor_role, correlation, causation, schema`

func (s *Store) query(ctx context.Context, q string, args ...any) ([]eventstore.Record, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []eventstore.Record
	for rows.Next() {
		var r eventstore.Record
		var id uuid.UUID
		var data string
		var pos, version int64
		if err := rows.Scan(&pos, &id, &r.Stream, &version, &r.Type, &data, &r.OccurredAt, &r.Actor.ID, &r.Actor.Role,
			&r.CorrelationID, &r.CausationID, &r.Schema); err != nil {
			return nil, err
		}
		r.ID, r.Data, r.Position, r.Version = id, []byte(data), uint64(pos), uint64(version)
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Store) ReadStream(ctx context.Context, stream string, after uint64) ([]eventstore.Record, error) {
	recs, err := s.query(ctx, `SELECT `+columns+` FROM log_events WHERE stream = $1 AND version > $2 ORDER BY version`, stream, int64(after))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	return recs, nil
}

func (s *Store) ReadAll(ctx context.Context, after uint64, limit int) ([]eventstore.Record, error) {
	recs, err := s.query(ctx, `SELECT `+columns+` FROM log_events WHERE position > $1 ORDER BY position LIMIT $2`, int64(after), limit)
	if err != nil {
		return nil, fmt.Errorf("read the log after %d: %w", after, err)
	}
	return recs, nil
}

// Subscribe wakes on notifications of appends by any process, and polls
// once a second besides: a lost notification delays, never skips.
func (s *Store) Subscribe(ctx context.Context, after uint64) iter.Seq2[eventstore.Record, error] {
	return eventstore.Tail(ctx, s, after, s.changes, time.Second, s.stop, errors.New("pgstore: closed"))
}

func (s *Store) changes() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *Store) Head(ctx context.Context) (uint64, error) {
	var p int64
	if err := s.db.QueryRowContext(ctx, `SELECT position FROM log_head`).Scan(&p); err != nil {
		return 0, fmt.Errorf("head: %w", err)
	}
	return uint64(p), nil
}

func (s *Store) Close() error {
	select {
	case <-s.stop:
		return nil
	default:
	}
	close(s.stop)
	<-s.done
	return s.db.Close()
}

// String names the adapter in logs and benchmark output.
func (s *Store) String() string { return "postgres" }

var _ eventstore.Store = (*Store)(nil)
