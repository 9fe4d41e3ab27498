// Package vault keeps each resident's sealing keys outside the event log,
// so that erasing a person (PIPL art. 47) is destroying their keys: what
// the log sealed with them can never be opened again, while every event,
// and so every statistic, stays. Keys live in memory, in a SQLite file
// beside the log, or in the PostgreSQL database the processes share; back
// them up with the log.
package vault

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/servicehall/servicehall/sqldb"
)

// Store keeps sealing keys by id, each belonging to a resident reference.
type Store interface {
	// Key is a live key of ref, made if ref has none (again after an
	// erasure: a person who comes back gets a new key).
	Key(ctx context.Context, ref string) (id string, key []byte, err error)
	// Get is the key id names; false once it was erased.
	Get(ctx context.Context, id string) ([]byte, bool, error)
	// Erase destroys every key of ref and records when.
	Erase(ctx context.Context, ref string, at time.Time) error
	// Erased says whether ref was ever erased (for details sealed before
	// keys were stored, which no key id names).
	Erased(ctx context.Context, ref string) (bool, error)
	Close() error
}

func newKey() (string, []byte) {
	key := make([]byte, 32)
	rand.Read(key)
	return "k-" + rand.Text(), key
}

// Memory is a Store for one process.
type Memory struct {
	mu     sync.Mutex
	keys   map[string][]byte // by id
	of     map[string]string // id by ref
	erased map[string]bool
}

func NewMemory() *Memory {
	return &Memory{keys: map[string][]byte{}, of: map[string]string{}, erased: map[string]bool{}}
}

func (m *Memory) Key(_ context.Context, ref string) (string, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id, ok := m.of[ref]; ok {
		return id, m.keys[id], nil
	}
	id, key := newKey()
	m.keys[id], m.of[ref] = key, id
	return id, key, nil
}

func (m *Memory) Get(_ context.Context, id string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[id]
	return k, ok, nil
}

func (m *Memory) Erase(_ context.Context, ref string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, m.of[ref])
	delete(m.of, ref)
	m.erased[ref] = true
	return nil
}

func (m *Memory) Erased(_ context.Context, ref string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.erased[ref], nil
}

func (m *Memory) Close() error { return nil }

// SQL is a Store in a SQLite file or a PostgreSQL database. New keys are
// written in groups: each booking of a new person needs one, and one
// synced commit for all that arrive together, not one each, keeps the
// booking rush at its pace.
type SQL struct {
	db      *sqldb.DB
	mu      sync.Mutex
	pending []newRow
	batch   *batch // the group the pending rows will commit in
	writing bool
}

type newRow struct{ id, ref, key string }

type batch struct {
	done chan struct{}
	err  error
}

const schema = `CREATE TABLE IF NOT EXISTS vault_keys (
	id  TEXT PRIMARY KEY,
	ref TEXT NOT NULL,
	key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS vault_keys_ref ON vault_keys (ref);
CREATE TABLE IF NOT EXISTS vault_erased (
	ref TEXT PRIMARY KEY,
	at  BIGINT NOT NULL
)`

// OpenSQLite opens or creates the vault in the SQLite file at path; every
// commit is synced, as a key must outlive the event that names it.
func OpenSQLite(path string) (*SQL, error) {
	db, err := sqldb.OpenSQLite(path, "FULL")
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return open(db)
}

// OpenPostgres opens the vault in the PostgreSQL database at url.
func OpenPostgres(ctx context.Context, url string) (*SQL, error) {
	db, err := sqldb.OpenPostgres(ctx, url, 4)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return open(db)
}

func open(db *sqldb.DB) (*SQL, error) {
	if err := db.Create(schema, 7340157); err != nil {
		db.Close()
		return nil, fmt.Errorf("vault: create tables: %w", err)
	}
	return &SQL{db: db, batch: &batch{done: make(chan struct{})}}, nil
}

// Keys are stored as base64 text, which both databases take alike.
func (s *SQL) Key(ctx context.Context, ref string) (string, []byte, error) {
	var id, text string
	st, err := s.db.Stmt(ctx, `SELECT id, key FROM vault_keys WHERE ref = ? ORDER BY id LIMIT 1`)
	if err == nil {
		err = st.QueryRowContext(ctx, ref).Scan(&id, &text)
	}
	if err == nil {
		key, err := base64.StdEncoding.DecodeString(text)
		return id, key, err
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", nil, fmt.Errorf("vault: key: %w", err)
	}
	// Two bookings of one person at once may both make one: both stay
	// valid, and an erasure destroys both.
	id, key := newKey()
	if err := s.insert(ctx, newRow{id, ref, base64.StdEncoding.EncodeToString(key)}); err != nil {
		return "", nil, fmt.Errorf("vault: new key: %w", err)
	}
	return id, key, nil
}

// insert writes row with whatever other rows arrive meanwhile, in one
// transaction, and returns once it is committed.
func (s *SQL) insert(ctx context.Context, row newRow) error {
	s.mu.Lock()
	s.pending = append(s.pending, row)
	b := s.batch
	if !s.writing {
		s.writing = true
		go s.write()
	}
	s.mu.Unlock()
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// write commits the pending rows, group after group, until none is left.
func (s *SQL) write() {
	for {
		s.mu.Lock()
		rows, b := s.pending, s.batch
		s.pending, s.batch = nil, &batch{done: make(chan struct{})}
		if len(rows) == 0 {
			s.writing = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		b.err = s.commit(rows)
		close(b.done)
	}
}

func (s *SQL) commit(rows []newRow) error {
	ctx := context.Background() // a caller gone does not undo the others' keys
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, s.db.Q(`INSERT INTO vault_keys (id, ref, key) VALUES (?, ?, ?)`), r.id, r.ref, r.key); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (s *SQL) Get(ctx context.Context, id string) ([]byte, bool, error) {
	var text string
	st, err := s.db.Stmt(ctx, `SELECT key FROM vault_keys WHERE id = ?`)
	if err == nil {
		err = st.QueryRowContext(ctx, id).Scan(&text)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("vault: get: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(text)
	return key, err == nil, err
}

func (s *SQL) Erase(ctx context.Context, ref string, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("vault: erase: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, s.db.Q(`DELETE FROM vault_keys WHERE ref = ?`), ref); err != nil {
		return fmt.Errorf("vault: erase: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.db.Q(`INSERT INTO vault_erased (ref, at) VALUES (?, ?) ON CONFLICT (ref) DO NOTHING`), ref, at.UnixNano()); err != nil {
		return fmt.Errorf("vault: erase: %w", err)
	}
	return tx.Commit()
}

func (s *SQL) Erased(ctx context.Context, ref string) (bool, error) {
	var n int
	st, err := s.db.Stmt(ctx, `SELECT count(*) FROM vault_erased WHERE ref = ?`)
	if err == nil {
		err = st.QueryRowContext(ctx, ref).Scan(&n)
	}
	if err != nil {
		return false, fmt.Errorf("vault: erased: %w", err)
	}
	return n > 0, nil
}

func (s *SQL) Close() error { return s.db.Close() }
