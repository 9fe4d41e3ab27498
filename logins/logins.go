// Package logins keeps password hashes outside the event log: the log
// records who was created, changed or disabled, by whom and when, and
// names each password by an opaque credential id; the hash itself lives
// here, in memory, in a SQLite file beside the log, or in the PostgreSQL
// database the processes share.
package logins

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/servicehall/servicehall/sqldb"
)

// Store keeps password hashes by credential id.
type Store interface {
	Set(ctx context.Context, credential string, hash []byte) error
	Get(ctx context.Context, credential string) ([]byte, bool, error)
	Close() error
}

// Memory is a Store for one process.
type Memory struct {
	mu sync.Mutex
	m  map[string][]byte
}

func NewMemory() *Memory { return &Memory{m: map[string][]byte{}} }

func (s *Memory) Set(_ context.Context, credential string, hash []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[credential] = append([]byte(nil), hash...)
	return nil
}

func (s *Memory) Get(_ context.Context, credential string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.m[credential]
	return append([]byte(nil), h...), ok, nil
}

func (s *Memory) Close() error { return nil }

// SQL is a Store in a SQLite file or a PostgreSQL database.
type SQL struct{ db *sqldb.DB }

const schema = `CREATE TABLE IF NOT EXISTS login_credentials (
	credential TEXT PRIMARY KEY,
	hash       TEXT NOT NULL
)`

// OpenSQLite opens or creates the store in the SQLite file at path. Every
// commit is synced: a password set must survive a power cut, as the event
// naming it does.
func OpenSQLite(path string) (*SQL, error) {
	db, err := sqldb.OpenSQLite(path, "FULL")
	if err != nil {
		return nil, fmt.Errorf("logins: %w", err)
	}
	return open(db)
}

// OpenPostgres opens the store in the PostgreSQL database at url.
func OpenPostgres(ctx context.Context, url string) (*SQL, error) {
	db, err := sqldb.OpenPostgres(ctx, url, 4)
	if err != nil {
		return nil, fmt.Errorf("logins: %w", err)
	}
	return open(db)
}

func open(db *sqldb.DB) (*SQL, error) {
	if err := db.Create(schema, 7340156); err != nil {
		db.Close()
		return nil, fmt.Errorf("logins: create table: %w", err)
	}
	return &SQL{db: db}, nil
}

func (s *SQL) Set(ctx context.Context, credential string, hash []byte) error {
	_, err := s.db.ExecContext(ctx, s.db.Q(`INSERT INTO login_credentials (credential, hash) VALUES (?, ?)
		ON CONFLICT (credential) DO UPDATE SET hash = excluded.hash`), credential, string(hash))
	if err != nil {
		return fmt.Errorf("logins: set: %w", err)
	}
	return nil
}

func (s *SQL) Get(ctx context.Context, credential string) ([]byte, bool, error) {
	var hash string
	err := s.db.QueryRowContext(ctx, s.db.Q(`SELECT hash FROM login_credentials WHERE credential = ?`), credential).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("logins: get: %w", err)
	}
	return []byte(hash), true, nil
}

func (s *SQL) Close() error { return s.db.Close() }
