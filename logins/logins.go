// Package logins keeps what logging in needs besides the event log, in
// memory, in a SQLite file beside the log, or in the PostgreSQL database
// the processes share (so that a code sent by one process is verified by
// another):
//   - password hashes: the log records who was created, changed or
//     disabled, by whom and when, and names each password by an opaque
//     credential id; the hash lives here;
//   - residents' one-time codes, kept as hashes for five minutes.
package logins

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/servicehall/servicehall/sqldb"
)

// Store keeps password hashes by credential id, and one-time codes.
type Store interface {
	Set(ctx context.Context, credential string, hash []byte) error
	Get(ctx context.Context, credential string) ([]byte, bool, error)
	// AddCode keeps code for phone until expires; a phone keeps its last
	// LiveCodes codes, so that a code someone else asked for does not void
	// the one its owner is typing.
	AddCode(ctx context.Context, phone, code string, expires, now time.Time) error
	// UseCode spends phone's live code equal to code, and says whether
	// there was one.
	UseCode(ctx context.Context, phone, code string, now time.Time) (bool, error)
	Close() error
}

// LiveCodes is how many codes a phone holds at once.
const LiveCodes = 3

// codeHash is what is kept of a code: neither it nor the phone is stored.
func codeHash(phone, code string) string {
	sum := sha256.Sum256([]byte("login-code\x00" + phone + "\x00" + code))
	return hex.EncodeToString(sum[:])
}

func phoneHash(phone string) string {
	sum := sha256.Sum256([]byte("login-phone\x00" + phone))
	return hex.EncodeToString(sum[:])
}

// Memory is a Store for one process.
type Memory struct {
	mu    sync.Mutex
	m     map[string][]byte
	codes map[string][]code // by phone hash, oldest first
}

type code struct {
	hash    string
	expires time.Time
}

func NewMemory() *Memory { return &Memory{m: map[string][]byte{}, codes: map[string][]code{}} }

func (s *Memory) AddCode(_ context.Context, phone, value string, expires, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := phoneHash(phone)
	live := []code{}
	for _, k := range s.codes[key] {
		if now.Before(k.expires) {
			live = append(live, k)
		}
	}
	if len(live) >= LiveCodes {
		live = live[len(live)-LiveCodes+1:]
	}
	s.codes[key] = append(live, code{codeHash(phone, value), expires})
	return nil
}

func (s *Memory) UseCode(_ context.Context, phone, value string, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, want := phoneHash(phone), codeHash(phone, value)
	for i, k := range s.codes[key] {
		if now.Before(k.expires) && subtle.ConstantTimeCompare([]byte(k.hash), []byte(want)) == 1 {
			s.codes[key] = slices.Delete(s.codes[key], i, i+1)
			return true, nil
		}
	}
	return false, nil
}

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
);
CREATE TABLE IF NOT EXISTS rate_buckets (
	key    TEXT PRIMARY KEY,
	tokens DOUBLE PRECISION NOT NULL,
	at     BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS login_codes (
	phone   TEXT   NOT NULL,
	code    TEXT   NOT NULL,
	added   BIGINT NOT NULL,
	expires BIGINT NOT NULL,
	PRIMARY KEY (phone, code)
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

func (s *SQL) AddCode(ctx context.Context, phone, value string, expires, now time.Time) error {
	key := phoneHash(phone)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("logins: add code: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, s.db.Q(`INSERT INTO login_codes (phone, code, added, expires) VALUES (?, ?, ?, ?)
		ON CONFLICT (phone, code) DO UPDATE SET added = excluded.added, expires = excluded.expires`), key, codeHash(phone, value), now.UnixNano(), expires.UnixNano()); err != nil {
		return fmt.Errorf("logins: add code: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.db.Q(`DELETE FROM login_codes WHERE phone = ? AND (expires <= ? OR code NOT IN
		(SELECT code FROM login_codes WHERE phone = ? ORDER BY added DESC LIMIT ?))`), key, now.UnixNano(), key, LiveCodes); err != nil {
		return fmt.Errorf("logins: add code: %w", err)
	}
	return tx.Commit()
}

func (s *SQL) UseCode(ctx context.Context, phone, value string, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.db.Q(`DELETE FROM login_codes WHERE phone = ? AND code = ? AND expires > ?`),
		phoneHash(phone), codeHash(phone, value), now.UnixNano())
	if err != nil {
		return false, fmt.Errorf("logins: use code: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Take spends a token of key's bucket (burst tokens, one more every every)
// where every process sharing the database counts, or says how long until
// one is free.
func (s *SQL) Take(ctx context.Context, key string, every time.Duration, burst int, now time.Time) (bool, time.Duration, error) {
	if mrand.IntN(1000) == 0 { // now and then, forget the buckets full for a day
		if _, err := s.db.ExecContext(ctx, s.db.Q(`DELETE FROM rate_buckets WHERE at < ?`), now.Add(-24*time.Hour).UnixNano()); err != nil {
			return false, 0, fmt.Errorf("logins: sweep: %w", err)
		}
	}
	rate := 1 / float64(every.Nanoseconds()) // tokens a nanosecond
	least := "min"                           // SQLite's name for it
	if s.db.Postgres {
		least = "LEAST"
	}
	var left float64
	// The casts keep PostgreSQL from taking the rate for an integer.
	err := s.db.QueryRowContext(ctx, s.db.Q(`INSERT INTO rate_buckets (key, tokens, at) VALUES (?, CAST(? AS DOUBLE PRECISION), ?)
		ON CONFLICT (key) DO UPDATE SET
			tokens = `+least+`(CAST(? AS DOUBLE PRECISION), rate_buckets.tokens + (excluded.at - rate_buckets.at) * CAST(? AS DOUBLE PRECISION)) - 1, at = excluded.at
		WHERE `+least+`(CAST(? AS DOUBLE PRECISION), rate_buckets.tokens + (excluded.at - rate_buckets.at) * CAST(? AS DOUBLE PRECISION)) >= 1
		RETURNING tokens`), key, float64(burst-1), now.UnixNano(), float64(burst), rate, float64(burst), rate).Scan(&left)
	if err == nil {
		return true, 0, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, 0, fmt.Errorf("logins: take: %w", err)
	}
	var tokens float64
	var at int64
	if err := s.db.QueryRowContext(ctx, s.db.Q(`SELECT tokens, at FROM rate_buckets WHERE key = ?`), key).Scan(&tokens, &at); err != nil {
		return false, 0, fmt.Errorf("logins: take: %w", err)
	}
	have := min(float64(burst), tokens+float64(now.UnixNano()-at)*rate)
	return false, time.Duration((1 - have) / rate), nil
}

// Shared says whether other processes may share the store (PostgreSQL).
func (s *SQL) Shared() bool { return s.db.Postgres }

func (s *SQL) Close() error { return s.db.Close() }
