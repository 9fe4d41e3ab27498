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
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/sqldb"
)

// Each event row points at its stream's previous event (prev) and a small
// table holds each stream's head. An append therefore only adds rows at the
// end of the log and of the id index (ids are time-ordered UUIDv7) and
// updates one head: an index on (stream, version) would dirty a page per
// stream per commit and costs half the write rate. A stream is read by
// walking prev from its head.
const schema = `
CREATE TABLE IF NOT EXISTS events (
	position       INTEGER PRIMARY KEY,
	id             BLOB    NOT NULL,
	stream         TEXT    NOT NULL,
	version        INTEGER NOT NULL,
	prev           INTEGER NOT NULL,
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
CREATE TABLE IF NOT EXISTS streams (
	name    TEXT    PRIMARY KEY,
	version INTEGER NOT NULL,
	last    INTEGER NOT NULL
) WITHOUT ROWID;
PRAGMA user_version = 1;
`

const columns = `position, id, stream, version, type, occurred_at, actor_id, actor_role, correlation_id, causation_id, schema, data`

// maxBatch bounds one group commit, so one transaction never holds the
// writer for long.
const maxBatch = 1024

// Store is the embedded adapter. It is safe for concurrent use.
type Store struct {
	held   *os.File // the lock on the file, for this process alone
	read   *sql.DB
	write  *sql.DB
	reads  sqldb.Stmts // the queries of read, prepared once
	heads1 *sql.Stmt   // a stream's head, in the writer's transaction

	reqs    chan *request
	stop    chan struct{}
	stopped chan struct{}
	closing sync.Once

	head    atomic.Uint64
	mu      sync.Mutex
	changed chan struct{} // closed and replaced after every commit

	heads map[string]head       // writer goroutine only; a cache of the streams table
	stmts map[stmtKey]*sql.Stmt // prepared at Open
}

// request is one append, to one stream or, all or nothing, to several.
type request struct {
	ctx     context.Context
	parts   []part
	results []eventstore.Result
	err     error
	done    chan struct{}
}

type part struct {
	eventstore.Part
	args [][]any // the insert's parameters, built by the caller
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
	held, err := lock(path)
	if err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	write, err := sql.Open("sqlite", DSN(path)+"&_txlock=immediate")
	if err != nil {
		if held != nil {
			held.Close()
		}
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	if err := sqldb.QuickCheck(write, path); err != nil {
		write.Close()
		if held != nil {
			held.Close()
		}
		return nil, err
	}
	if _, err := write.Exec(schema); err != nil {
		write.Close()
		if held != nil {
			held.Close()
		}
		return nil, fmt.Errorf("open event store %s: create schema: %w", path, err)
	}
	read, err := sql.Open("sqlite", DSN(path, "query_only(1)"))
	if err != nil {
		write.Close()
		if held != nil {
			held.Close()
		}
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	read.SetMaxOpenConns(8)
	s := &Store{
		held:    held,
		read:    read,
		write:   write,
		reqs:    make(chan *request, maxBatch),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
		changed: make(chan struct{}),
		heads:   make(map[string]head),
		stmts:   make(map[stmtKey]*sql.Stmt),
		reads:   sqldb.Stmts{DB: read},
	}
	var head sql.NullInt64
	if err := read.QueryRow(`SELECT max(position) FROM events`).Scan(&head); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	s.head.Store(uint64(head.Int64))
	if err := s.prepare(); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	go s.writer()
	return s, nil
}

func (s *Store) closeDBs() {
	s.read.Close()
	s.write.Close()
	if s.held != nil {
		s.held.Close()
	}
}

// Close finishes the appends already queued, then closes the file.
func (s *Store) Close() error {
	s.closing.Do(func() { close(s.stop) })
	<-s.stopped
	s.reads.Close()
	err := errors.Join(s.read.Close(), s.write.Close())
	if s.held != nil {
		err = errors.Join(err, s.held.Close())
	}
	return err
}

var errClosed = errors.New("event store closed")

func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.Event) (eventstore.Result, error) {
	if err := eventstore.Check(stream, events); err != nil {
		return eventstore.Result{}, err
	}
	res, err := s.append(ctx, []eventstore.Part{{Stream: stream, Expected: expected, Events: events}})
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
	return s.append(ctx, parts)
}

func (s *Store) append(ctx context.Context, parts []eventstore.Part) ([]eventstore.Result, error) {
	// The writer is the one serial step: build the insert's parameters here,
	// in the caller's goroutine, and leave it only position and versions.
	r := &request{ctx: ctx, parts: make([]part, len(parts)), done: make(chan struct{})}
	for k, p := range parts {
		args := make([][]any, len(p.Events))
		for i, e := range p.Events {
			args[i] = []any{nil, e.ID[:], p.Stream, nil, nil, e.Type, e.OccurredAt.UnixNano(),
				e.Actor.ID, e.Actor.Role, e.CorrelationID, e.CausationID, e.Schema, string(e.Data)}
		}
		r.parts[k] = part{p, args}
	}
	select {
	case s.reqs <- r:
	case <-s.stop:
		return nil, errClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Once queued, wait for the outcome even if ctx ends: the append may
	// already be durable, and the caller must not be told otherwise.
	<-r.done
	return r.results, r.err
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

// head is where a stream ends: its version and the position of its last event.
type head struct{ version, last uint64 }

// pending is what a transaction has written so far, not yet committed.
type pending struct {
	heads map[string]head
	rows  []row
	next  uint64 // the position the next event gets
}

type row struct {
	eventstore.Event
	args          []any // the insert's parameters, built by the caller
	stream        string
	version, prev uint64
	position      uint64
}

// commit writes a batch in one transaction, each append checked on its own:
// one that fails writes nothing and does not stop the others. The fast path
// inserts the whole batch with one statement; if that fails, the batch is
// replayed one append at a time, each in a savepoint.
func (s *Store) commit(batch []*request) {
	ctx := context.Background()
	live := batch[:0:0]
	for _, r := range batch {
		if r.ctx.Err() != nil { // given up before we started: write nothing
			r.err = r.ctx.Err()
			continue
		}
		live = append(live, r)
	}
	p, err := s.write1(ctx, live, false)
	if err != nil {
		for _, r := range live {
			r.err, r.results = nil, nil
		}
		p, err = s.write1(ctx, live, true)
	}
	if err != nil {
		s.heads = make(map[string]head) // the rollback undid what the cache may say
		for _, r := range live {
			if r.err == nil {
				r.err = err
			}
		}
	} else {
		if len(s.heads) > 1<<18 {
			s.heads = make(map[string]head)
		}
		for stream, h := range p.heads {
			s.heads[stream] = h
		}
		if last := p.next - 1; last > s.head.Load() {
			s.head.Store(last)
			s.mu.Lock()
			close(s.changed)
			s.changed = make(chan struct{})
			s.mu.Unlock()
		}
	}
	for _, r := range batch {
		close(r.done)
	}
}

// write1 runs one transaction over the batch. Careful mode puts each append
// in a savepoint and inserts it on its own.
func (s *Store) write1(ctx context.Context, batch []*request, careful bool) (*pending, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("append: begin: %w", err)
	}
	defer tx.Rollback()
	p := &pending{heads: make(map[string]head), next: s.head.Load() + 1}
	for _, r := range batch {
		if !careful {
			r.results, r.err = s.check(ctx, tx, p, r)
			continue
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT one`); err != nil {
			return nil, fmt.Errorf("append: %w", err)
		}
		mark, heads := len(p.rows), maps.Clone(p.heads)
		r.results, r.err = s.check(ctx, tx, p, r)
		if r.err == nil && len(p.rows) > mark {
			if err := s.flush(ctx, tx, p.rows[mark:], p.heads, r.streams()); err != nil {
				tx.ExecContext(ctx, `ROLLBACK TO one`)
				p.next = p.rows[mark].position
				p.rows = p.rows[:mark]
				p.heads = heads
				r.results, r.err = s.duplicate(ctx, tx, r, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE one`); err != nil {
			return nil, fmt.Errorf("append: %w", err)
		}
	}
	if !careful && len(p.rows) > 0 {
		if err := s.flush(ctx, tx, p.rows, p.heads, nil); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("append: commit: %w", err)
	}
	return p, nil
}

// check decides one append against the heads and queues its rows in p;
// if one part is refused, the others queue nothing either.
func (s *Store) check(ctx context.Context, tx *sql.Tx, p *pending, r *request) ([]eventstore.Result, error) {
	mark, next := len(p.rows), p.next
	type saved struct {
		h  head
		ok bool
	}
	before := make(map[string]saved, len(r.parts))
	undo := func() {
		p.rows, p.next = p.rows[:mark], next
		for stream, b := range before {
			if b.ok {
				p.heads[stream] = b.h
			} else {
				delete(p.heads, stream)
			}
		}
	}
	results := make([]eventstore.Result, len(r.parts))
	retried := 0
	for k, pt := range r.parts {
		h, err := s.headOf(ctx, tx, p, pt.Stream)
		if err != nil {
			undo()
			return nil, err
		}
		if pt.Expected != eventstore.Any && uint64(pt.Expected) != h.version {
			res, ok, err := s.stored(ctx, tx, pt)
			if err == nil && !ok {
				err = &eventstore.ConflictError{Stream: pt.Stream, Expected: pt.Expected, Actual: int64(h.version)}
			}
			if err != nil {
				undo()
				return nil, err
			}
			results[k], retried = res, retried+1
			continue
		}
		if pt.Expected == eventstore.Any { // a retry cannot be told by its version
			res, ok, err := s.stored(ctx, tx, pt)
			if err != nil {
				undo()
				return nil, err
			}
			if ok {
				results[k], retried = res, retried+1
				continue
			}
		}
		b, ok := p.heads[pt.Stream]
		before[pt.Stream] = saved{b, ok}
		for i, e := range pt.Events {
			row := row{Event: e, args: pt.args[i], stream: pt.Stream, version: h.version + 1, prev: h.last, position: p.next}
			p.rows = append(p.rows, row)
			p.next++
			h = head{row.version, row.position}
		}
		p.heads[pt.Stream] = h
		results[k] = eventstore.Result{Version: h.version, Position: h.last}
	}
	if retried > 0 && retried < len(r.parts) {
		// A retry has every part stored; some stored and some not is an
		// append reusing another's event ids.
		undo()
		return nil, &eventstore.ConflictError{Stream: r.parts[0].Stream, Expected: r.parts[0].Expected, Actual: -1}
	}
	return results, nil
}

// streams names the streams a request appends to.
func (r *request) streams() map[string]bool {
	m := make(map[string]bool, len(r.parts))
	for _, p := range r.parts {
		m[p.Stream] = true
	}
	return m
}

// duplicate explains a failed insert: a retry of a stored append succeeds,
// an id stored elsewhere is a conflict.
func (s *Store) duplicate(ctx context.Context, tx *sql.Tx, r *request, err error) ([]eventstore.Result, error) {
	if !uniqueViolation(err) {
		return nil, fmt.Errorf("append to %s: %w", r.parts[0].Stream, err)
	}
	results := make([]eventstore.Result, len(r.parts))
	for k, pt := range r.parts {
		res, ok, serr := s.stored(ctx, tx, pt)
		if serr != nil {
			return nil, serr
		}
		if !ok {
			return nil, &eventstore.ConflictError{Stream: pt.Stream, Expected: pt.Expected, Actual: -1}
		}
		results[k] = res
	}
	return results, nil
}

func (s *Store) headOf(ctx context.Context, tx *sql.Tx, p *pending, stream string) (head, error) {
	if h, ok := p.heads[stream]; ok {
		return h, nil
	}
	if h, ok := s.heads[stream]; ok {
		return h, nil
	}
	var h head
	err := tx.StmtContext(ctx, s.heads1).QueryRowContext(ctx, stream).Scan(&h.version, &h.last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return head{}, fmt.Errorf("append to %s: read head: %w", stream, err)
	}
	return h, nil
}

// flush inserts rows and the heads they move, a few statements for the lot.
// With only set, it writes those streams' heads alone.
func (s *Store) flush(ctx context.Context, tx *sql.Tx, rows []row, heads map[string]head, only map[string]bool) error {
	args := make([]any, 0, len(rows)*13)
	for _, r := range rows {
		r.args[0], r.args[3], r.args[4] = r.position, r.version, r.prev
		args = append(args, r.args...)
	}
	if err := s.insertMany(ctx, tx, insertEvents, args, 13); err != nil {
		return err
	}
	args = args[:0]
	for name, h := range heads {
		if only == nil || only[name] {
			args = append(args, name, h.version, h.last)
		}
	}
	return s.insertMany(ctx, tx, upsertHeads, args, 3)
}

type stmtKey struct {
	prefix string
	rows   int
}

const (
	insertEvents = `INSERT INTO events (position, id, stream, version, prev, type, occurred_at, actor_id, actor_role, correlation_id, causation_id, schema, data) VALUES `
	upsertHeads  = `INSERT INTO streams (name, version, last) VALUES `
	onHead       = ` ON CONFLICT (name) DO UPDATE SET version = excluded.version, last = excluded.last`
)

// insertMany inserts rows of width parameters with as few statements as it
// can, each prepared once: row counts are split into powers of two up to
// 256, so a handful of cached statements serve every batch.
func (s *Store) insertMany(ctx context.Context, tx *sql.Tx, prefix string, args []any, width int) error {
	for len(args) > 0 {
		n := 256
		for n*width > len(args) {
			n /= 2
		}
		if _, err := tx.StmtContext(ctx, s.stmts[stmtKey{prefix, n}]).ExecContext(ctx, args[:n*width]...); err != nil {
			return err
		}
		args = args[n*width:]
	}
	return nil
}

// prepare readies the statements insertMany uses, before the writer starts:
// inside a transaction the pool's one connection is taken.
func (s *Store) prepare() error {
	for _, p := range []struct {
		prefix, suffix string
		width          int
	}{{insertEvents, "", 13}, {upsertHeads, onHead, 3}} {
		tuple := "(" + strings.Repeat("?,", p.width-1) + "?)"
		for n := 1; n <= 256; n *= 2 {
			q := p.prefix + strings.Repeat(tuple+",", n-1) + tuple + p.suffix
			st, err := s.write.Prepare(q)
			if err != nil {
				return fmt.Errorf("prepare: %w", err)
			}
			s.stmts[stmtKey{p.prefix, n}] = st
		}
	}
	var err error
	s.heads1, err = s.write.Prepare(`SELECT version, last FROM streams WHERE name = ?`)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	return nil
}

// stored reports whether every event of p is already in p's stream, in
// order: then p is a retry of an append that succeeded.
func (s *Store) stored(ctx context.Context, tx *sql.Tx, p part) (eventstore.Result, bool, error) {
	var res eventstore.Result
	for i, e := range p.Events {
		var stream string
		var version, pos uint64
		err := tx.QueryRowContext(ctx, `SELECT stream, version, position FROM events WHERE id = ?`, e.ID[:]).Scan(&stream, &version, &pos)
		if errors.Is(err, sql.ErrNoRows) {
			return res, false, nil
		}
		if err != nil {
			return res, false, fmt.Errorf("append to %s: look up event %s: %w", p.Stream, e.ID, err)
		}
		if stream != p.Stream || (i > 0 && version != res.Version+1) {
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
	return s.query(ctx, "read stream "+stream, `
		WITH RECURSIVE chain (pos) AS (
			SELECT last FROM streams WHERE name = ?1
			UNION ALL
			SELECT e.prev FROM events e JOIN chain ON e.position = chain.pos WHERE e.version > ?2 + 1
		)
		SELECT `+columns+` FROM events WHERE position IN (SELECT pos FROM chain) AND version > ?2 ORDER BY position`, stream, after)
}

func (s *Store) ReadAll(ctx context.Context, after uint64, limit int) ([]eventstore.Record, error) {
	return s.query(ctx, fmt.Sprintf("read all after %d", after),
		`SELECT `+columns+` FROM events WHERE position > ? ORDER BY position LIMIT ?`, after, limit)
}

func (s *Store) query(ctx context.Context, what, q string, args ...any) ([]eventstore.Record, error) {
	st, err := s.reads.Prepare(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var recs []eventstore.Record
	for rows.Next() {
		var r eventstore.Record
		var id []byte
		var at int64
		var data string
		if err := rows.Scan(&r.Position, &id, &r.Stream, &r.Version, &r.Type, &at,
			&r.Actor.ID, &r.Actor.Role, &r.CorrelationID, &r.CausationID, &r.Schema, &data); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		var err error
		if r.ID, err = uuid.FromBytes(id); err != nil {
			return nil, fmt.Errorf("%s: event at %d: %w", what, r.Position, err)
		}
		r.OccurredAt = time.Unix(0, at).UTC()
		r.Data = []byte(data)
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return recs, nil
}

func (s *Store) Head(context.Context) (uint64, error) { return s.head.Load(), nil }

func (s *Store) Subscribe(ctx context.Context, after uint64) iter.Seq2[eventstore.Record, error] {
	return eventstore.Tail(ctx, s, after, s.changes, 0, s.stop, errClosed)
}

// changes is closed by the next commit.
func (s *Store) changes() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Exclusive says the store is this process's alone.
func (s *Store) Exclusive() bool { return true }

// String names the adapter in logs and benchmark output.
func (s *Store) String() string { return "sqlite" }

var (
	_ eventstore.Store  = (*Store)(nil)
	_ eventstore.Atomic = (*Store)(nil)
)
