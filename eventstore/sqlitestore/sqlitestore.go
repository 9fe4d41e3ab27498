// Package sqlitestore is the embedded event store: one SQLite file in WAL
// mode through a pure-Go driver, durable on acknowledgement.
//
// One goroutine owns the write connection. Appends queue to it and each
// transaction takes every append that is waiting (group commit), so that
// concurrent writers share one fsync instead of paying one each. Because one
// writer assigns positions in commit order, a reader never sees position n+1
// before n: the sequence-gap trap of concurrent inserts cannot happen here.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/servicehall/servicehall/eventstore"
)

const schema = `
CREATE TABLE IF NOT EXISTS events (
	position       INTEGER PRIMARY KEY,
	id             BLOB    NOT NULL,
	stream         TEXT    NOT NULL,
	version        INTEGER NOT NULL,
	type           TEXT    NOT NULL,
	occurred_at    INTEGER NOT NULL,
	actor_id       TEXT    NOT NULL,
	actor_role     TEXT    NOT NULL,
	correlation_id TEXT    NOT NULL,
	causation_id   TEXT    NOT NULL,
	schema         INTEGER NOT NULL,
	data           TEXT    NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_id ON events (id);
CREATE UNIQUE INDEX IF NOT EXISTS events_stream ON events (stream, version);
PRAGMA user_version = 1;
`

const columns = `position, id, stream, version, type, occurred_at, actor_id, actor_role, correlation_id, causation_id, schema, data`

// maxBatch bounds one group commit, so one transaction never holds the
// writer for long.
const maxBatch = 1024

// Store is the embedded adapter. It is safe for concurrent use.
type Store struct {
	read  *sql.DB
	write *sql.DB

	reqs    chan *request
	stop    chan struct{}
	stopped chan struct{}
	closing sync.Once

	head    atomic.Uint64
	mu      sync.Mutex
	changed chan struct{} // closed and replaced after every commit

	versions map[string]uint64 // writer goroutine only
}

type request struct {
	ctx      context.Context
	stream   string
	expected eventstore.Expected
	events   []eventstore.Event
	result   eventstore.Result
	err      error
	done     chan struct{}
}

// DSN is the SQLite connection string for the file at path with the pragmas
// servicehall uses: WAL, fsync on every commit, a busy timeout.
func DSN(path string, extra ...string) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(ON)")
	for _, p := range extra {
		q.Add("_pragma", p)
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens or creates the store in the file at path.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	write, err := sql.Open("sqlite", DSN(path)+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	if _, err := write.Exec(schema); err != nil {
		write.Close()
		return nil, fmt.Errorf("open event store %s: create schema: %w", path, err)
	}
	read, err := sql.Open("sqlite", DSN(path, "query_only(1)"))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	read.SetMaxOpenConns(8)
	s := &Store{
		read:     read,
		write:    write,
		reqs:     make(chan *request, maxBatch),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
		changed:  make(chan struct{}),
		versions: make(map[string]uint64),
	}
	var head sql.NullInt64
	if err := read.QueryRow(`SELECT max(position) FROM events`).Scan(&head); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	s.head.Store(uint64(head.Int64))
	go s.writer()
	return s, nil
}

func (s *Store) closeDBs() {
	s.read.Close()
	s.write.Close()
}

// Close finishes the appends already queued, then closes the file.
func (s *Store) Close() error {
	s.closing.Do(func() { close(s.stop) })
	<-s.stopped
	return errors.Join(s.read.Close(), s.write.Close())
}

var errClosed = errors.New("event store closed")

func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.Event) (eventstore.Result, error) {
	if err := eventstore.Check(stream, events); err != nil {
		return eventstore.Result{}, err
	}
	r := &request{ctx: ctx, stream: stream, expected: expected, events: events, done: make(chan struct{})}
	select {
	case s.reqs <- r:
	case <-s.stop:
		return eventstore.Result{}, errClosed
	case <-ctx.Done():
		return eventstore.Result{}, ctx.Err()
	}
	// Once queued, wait for the outcome even if ctx ends: the append may
	// already be durable, and the caller must not be told otherwise.
	<-r.done
	return r.result, r.err
}

func (s *Store) writer() {
	defer close(s.stopped)
	batch := make([]*request, 0, maxBatch)
	for {
		var first *request
		select {
		case first = <-s.reqs:
		case <-s.stop:
			for { // drain what was queued before Close
				select {
				case r := <-s.reqs:
					s.commit([]*request{r})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.commit(batch)
	}
}

// commit writes a batch in one transaction. A request that fails its checks
// writes nothing and does not stop the others.
func (s *Store) commit(batch []*request) {
	ctx := context.Background()
	fail := func(err error) {
		for _, r := range batch {
			if r.err == nil {
				r.err = err
			}
			close(r.done)
		}
		s.versions = make(map[string]uint64) // the rollback may have undone what the cache says
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		fail(fmt.Errorf("append: begin: %w", err))
		return
	}
	insert, err := tx.PrepareContext(ctx, `INSERT INTO events (`+columns+`) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		tx.Rollback()
		fail(fmt.Errorf("append: prepare: %w", err))
		return
	}
	pending := make(map[string]uint64, len(batch))
	var last uint64
	wrote := false
	for _, r := range batch {
		if r.ctx.Err() != nil { // given up before we started: write nothing
			r.err = r.ctx.Err()
			continue
		}
		r.result, r.err = s.apply(ctx, tx, insert, r, pending)
		if r.err == nil && r.result.Position > last {
			last = r.result.Position
			wrote = true
		}
	}
	insert.Close()
	if err := tx.Commit(); err != nil {
		fail(fmt.Errorf("append: commit: %w", err))
		return
	}
	for stream, v := range pending {
		s.versions[stream] = v
	}
	if len(s.versions) > 1<<18 {
		s.versions = make(map[string]uint64)
	}
	if wrote && last > s.head.Load() {
		s.head.Store(last)
		s.mu.Lock()
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
	}
	for _, r := range batch {
		close(r.done)
	}
}

func (s *Store) apply(ctx context.Context, tx *sql.Tx, insert *sql.Stmt, r *request, pending map[string]uint64) (eventstore.Result, error) {
	current, err := s.version(ctx, tx, r.stream, pending)
	if err != nil {
		return eventstore.Result{}, err
	}
	if r.expected != eventstore.Any && uint64(r.expected) != current {
		if res, ok, err := s.stored(ctx, tx, r); err != nil || ok {
			return res, err
		}
		return eventstore.Result{}, &eventstore.ConflictError{Stream: r.stream, Expected: r.expected, Actual: int64(current)}
	}
	multi := len(r.events) > 1
	if multi {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT append`); err != nil {
			return eventstore.Result{}, fmt.Errorf("append to %s: %w", r.stream, err)
		}
	}
	var res eventstore.Result
	for i, e := range r.events {
		version := current + uint64(i) + 1
		out, err := insert.ExecContext(ctx, e.ID[:], r.stream, version, e.Type, e.OccurredAt.UnixNano(),
			e.Actor.ID, e.Actor.Role, e.CorrelationID, e.CausationID, e.Schema, string(e.Data))
		if err != nil {
			if multi {
				tx.ExecContext(ctx, `ROLLBACK TO append; RELEASE append`)
			}
			if uniqueViolation(err) {
				if res, ok, serr := s.stored(ctx, tx, r); serr != nil || ok {
					return res, serr
				}
				delete(s.versions, r.stream)
				return eventstore.Result{}, &eventstore.ConflictError{Stream: r.stream, Expected: r.expected, Actual: -1}
			}
			return eventstore.Result{}, fmt.Errorf("append to %s: %w", r.stream, err)
		}
		pos, err := out.LastInsertId()
		if err != nil {
			return eventstore.Result{}, fmt.Errorf("append to %s: %w", r.stream, err)
		}
		res = eventstore.Result{Version: version, Position: uint64(pos)}
	}
	if multi {
		if _, err := tx.ExecContext(ctx, `RELEASE append`); err != nil {
			return eventstore.Result{}, fmt.Errorf("append to %s: %w", r.stream, err)
		}
	}
	pending[r.stream] = res.Version
	return res, nil
}

func (s *Store) version(ctx context.Context, tx *sql.Tx, stream string, pending map[string]uint64) (uint64, error) {
	if v, ok := pending[stream]; ok {
		return v, nil
	}
	if v, ok := s.versions[stream]; ok {
		return v, nil
	}
	var v sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(version) FROM events WHERE stream = ?`, stream).Scan(&v); err != nil {
		return 0, fmt.Errorf("append to %s: read version: %w", stream, err)
	}
	return uint64(v.Int64), nil
}

// stored reports whether every event of r is already in r's stream, in
// order: then r is a retry of an append that succeeded.
func (s *Store) stored(ctx context.Context, tx *sql.Tx, r *request) (eventstore.Result, bool, error) {
	var res eventstore.Result
	for i, e := range r.events {
		var stream string
		var version, pos uint64
		err := tx.QueryRowContext(ctx, `SELECT stream, version, position FROM events WHERE id = ?`, e.ID[:]).Scan(&stream, &version, &pos)
		if errors.Is(err, sql.ErrNoRows) {
			return res, false, nil
		}
		if err != nil {
			return res, false, fmt.Errorf("append to %s: look up event %s: %w", r.stream, e.ID, err)
		}
		if stream != r.stream || (i > 0 && version != res.Version+1) {
			return res, false, nil
		}
		res = eventstore.Result{Version: version, Position: pos}
	}
	return res, true, nil
}

func uniqueViolation(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

func (s *Store) ReadStream(ctx context.Context, stream string, after uint64) ([]eventstore.Record, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+columns+` FROM events WHERE stream = ? AND version > ? ORDER BY version`, stream, after)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	recs, err := scan(rows)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	return recs, nil
}

func (s *Store) ReadAll(ctx context.Context, after uint64, limit int) ([]eventstore.Record, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+columns+` FROM events WHERE position > ? ORDER BY position LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read all after %d: %w", after, err)
	}
	recs, err := scan(rows)
	if err != nil {
		return nil, fmt.Errorf("read all after %d: %w", after, err)
	}
	return recs, nil
}

func scan(rows *sql.Rows) ([]eventstore.Record, error) {
	defer rows.Close()
	var recs []eventstore.Record
	for rows.Next() {
		var r eventstore.Record
		var id []byte
		var at int64
		var data string
		if err := rows.Scan(&r.Position, &id, &r.Stream, &r.Version, &r.Type, &at,
			&r.Actor.ID, &r.Actor.Role, &r.CorrelationID, &r.CausationID, &r.Schema, &data); err != nil {
			return nil, err
		}
		var err error
		if r.ID, err = uuid.FromBytes(id); err != nil {
			return nil, fmt.Errorf("event at %d: %w", r.Position, err)
		}
		r.OccurredAt = time.Unix(0, at).UTC()
		r.Data = []byte(data)
		recs = append(recs, r)
	}
	return recs, rows.Err()
}

func (s *Store) Head(context.Context) (uint64, error) { return s.head.Load(), nil }

func (s *Store) Subscribe(ctx context.Context, after uint64) iter.Seq2[eventstore.Record, error] {
	return func(yield func(eventstore.Record, error) bool) {
		const page = 1000
		for {
			s.mu.Lock()
			changed := s.changed // taken before reading, so no commit slips between
			s.mu.Unlock()
			recs, err := s.ReadAll(ctx, after, page)
			if err != nil {
				yield(eventstore.Record{}, err)
				return
			}
			for _, r := range recs {
				if !yield(r, nil) {
					return
				}
				after = r.Position
			}
			if len(recs) == page {
				continue
			}
			select {
			case <-changed:
			case <-ctx.Done():
				yield(eventstore.Record{}, ctx.Err())
				return
			case <-s.stop:
				yield(eventstore.Record{}, errClosed)
				return
			}
		}
	}
}

// String names the adapter in logs and benchmark output.
func (s *Store) String() string { return "sqlite" }

var _ eventstore.Store = (*Store)(nil)
