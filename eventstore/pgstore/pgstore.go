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
	res, err := s.appendAll(ctx, []eventstore.Part{{Stream: stream, Expected: expected, Events: events}})
	if err != nil {
		return eventstore.Result{}, err
	}
	return res[0], nil
}

// AppendAll appends to several streams in one transaction, all or nothing.
func (s *Store) AppendAll(ctx context.Context, parts ...eventstore.Part) ([]eventstore.Result, error) {
	if err := eventstore.CheckParts(parts); err != nil {
		return nil, err
	}
	return s.appendAll(ctx, parts)
}

func (s *Store) appendAll(ctx context.Context, parts []eventstore.Part) ([]eventstore.Result, error) {
	for {
		res, err := s.append(ctx, parts)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "40P01" { // deadlock: nothing was written, try again
			continue
		}
		return res, err
	}
}

func (s *Store) append(ctx context.Context, parts []eventstore.Part) ([]eventstore.Result, error) {
	results := make([]eventstore.Result, len(parts))
	var todo []int // the parts not stored already
	for k, p := range parts {
		res, done, err := s.stored(ctx, p.Stream, p.Events)
		if err != nil {
			return nil, err
		}
		if done {
			results[k] = res
			continue
		}
		todo = append(todo, k)
	}
	if len(todo) == 0 {
		return results, nil
	}
	if len(todo) < len(parts) {
		// A retry has every part stored; some stored and some not is an
		// append reusing another's event ids.
		return nil, &eventstore.ConflictError{Stream: parts[todo[0]].Stream, Expected: parts[todo[0]].Expected, Actual: -1}
	}
	first := parts[todo[0]].Stream
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("append to %s: %w", first, err)
	}
	defer tx.Rollback()
	// Lock the streams' rows in name order, so that two appends to the
	// same streams wait for each other instead of deadlocking.
	names := make([]string, len(todo))
	for i, k := range todo {
		names[i] = parts[k].Stream
	}
	versions := make(map[string]int64, len(names))
	rows, err := tx.QueryContext(ctx, `SELECT stream, version FROM log_streams WHERE stream = ANY($1::text[]) ORDER BY stream FOR UPDATE`, names)
	if err != nil {
		return nil, fmt.Errorf("append to %s: %w", first, err)
	}
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("append to %s: %w", first, err)
		}
		versions[name] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("append to %s: %w", first, err)
	}
	total := 0
	for _, k := range todo {
		p := parts[k]
		if v := versions[p.Stream]; p.Expected != eventstore.Any && int64(p.Expected) != v {
			return nil, &eventstore.ConflictError{Stream: p.Stream, Expected: p.Expected, Actual: v}
		}
		total += len(p.Events)
	}
	var last int64
	if err := tx.QueryRowContext(ctx, `UPDATE log_head SET position = position + $1 RETURNING position`, total).Scan(&last); err != nil {
		return nil, fmt.Errorf("append to %s: %w", first, err)
	}
	pos := last - int64(total) + 1
	var b strings.Builder
	b.WriteString(`INSERT INTO log_events (position, id, stream, version, type, data, occurred_at, actor_id, actor_role, correlation, causation, schema) VALUES `)
	args := make([]any, 0, 12*total)
	heads := make([]any, 0, 2*len(todo))
	var hb strings.Builder
	hb.WriteString(`INSERT INTO log_streams (stream, version) VALUES `)
	for i, k := range todo {
		p := parts[k]
		version := versions[p.Stream]
		for _, e := range p.Events {
			if len(args) > 0 {
				b.WriteString(",")
			}
			n := len(args)
			fmt.Fprintf(&b, "($%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11, n+12)
			schema := e.Schema
			if schema == 0 {
				schema = 1
			}
			version++
			args = append(args, pos, e.ID, p.Stream, version, e.Type, string(e.Data), e.OccurredAt.UTC(),
				e.Actor.ID, e.Actor.Role, e.CorrelationID, e.CausationID, schema)
			results[k] = eventstore.Result{Version: uint64(version), Position: uint64(pos)}
			pos++
		}
		if i > 0 {
			hb.WriteString(",")
		}
		fmt.Fprintf(&hb, "($%d,$%d)", 2*i+1, 2*i+2)
		heads = append(heads, p.Stream, version)
	}
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" { // another append got in first
			tx.Rollback()
			if strings.Contains(pe.ConstraintName, "stream_version") {
				return nil, &eventstore.ConflictError{Stream: first, Expected: parts[todo[0]].Expected, Actual: -1}
			}
			return s.append(ctx, parts) // a retry landed meanwhile: answer as one
		}
		return nil, fmt.Errorf("append to %s: %w", first, err)
	}
	hb.WriteString(` ON CONFLICT (stream) DO UPDATE SET version = EXCLUDED.version`)
	if _, err := tx.ExecContext(ctx, hb.String(), heads...); err != nil {
		return nil, fmt.Errorf("append to %s: %w", first, err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, '')`, channel); err != nil {
		return nil, fmt.Errorf("append to %s: %w", first, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("append to %s: %w", first, err)
	}
	return results, nil
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

var (
	_ eventstore.Store  = (*Store)(nil)
	_ eventstore.Atomic = (*Store)(nil)
)
