package answers

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/servicehall/servicehall/sqldb"
)

// SQL is a Store in a SQLite file or a PostgreSQL database.
type SQL struct{ db *sqldb.DB }

const schema = `CREATE TABLE IF NOT EXISTS http_answers (
	key         TEXT    PRIMARY KEY,
	fingerprint TEXT    NOT NULL,
	claimed_at  BIGINT  NOT NULL,
	status      INTEGER NOT NULL DEFAULT 0,
	header      TEXT    NOT NULL DEFAULT '',
	body        TEXT    NOT NULL DEFAULT ''
)`

// OpenSQLite opens or creates the store in the SQLite file at path.
func OpenSQLite(path string) (*SQL, error) {
	// Without an fsync per commit: a killed process loses nothing (the
	// system has the pages), and what a power cut may lose, the last few
	// answers, the log recovers: a retry lands on the same ids, which the
	// store writes once, and is answered from them.
	db, err := sqldb.OpenSQLite(path, "NORMAL")
	if err != nil {
		return nil, fmt.Errorf("answers: %w", err)
	}
	s, err := open(db)
	if err != nil {
		return nil, err
	}
	// The file is this process's alone (it lives beside the locked log): a
	// claim still unanswered is the previous run's, cut off by its end, and
	// its retry must act now rather than wait for it.
	if _, err := db.Exec(`DELETE FROM http_answers WHERE status = 0`); err != nil {
		db.Close()
		return nil, fmt.Errorf("answers: drop the last run's claims: %w", err)
	}
	return s, nil
}

// OpenPostgres opens the store in the PostgreSQL database at url.
func OpenPostgres(ctx context.Context, url string) (*SQL, error) {
	db, err := sqldb.OpenPostgres(ctx, url, 8)
	if err != nil {
		return nil, fmt.Errorf("answers: %w", err)
	}
	return open(db)
}

func open(db *sqldb.DB) (*SQL, error) {
	if err := db.Create(schema, 7340155); err != nil {
		db.Close()
		return nil, fmt.Errorf("answers: create table: %w", err)
	}
	return &SQL{db: db}, nil
}

// q writes placeholders as the database wants them.
func (s *SQL) q(query string) string { return s.db.Q(query) }

func (s *SQL) Claim(ctx context.Context, key, fp string, now time.Time) (Answer, bool, error) {
	if rand.IntN(1000) == 0 { // now and then, forget the expired
		if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM http_answers WHERE claimed_at < ?`), now.Add(-TTL).UnixNano()); err != nil {
			return Answer{}, false, fmt.Errorf("answers: sweep: %w", err)
		}
	}
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO http_answers (key, fingerprint, claimed_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, claimed_at = excluded.claimed_at, status = 0, header = '', body = ''
		WHERE http_answers.claimed_at < ?
		   OR (http_answers.status = 0 AND http_answers.fingerprint = excluded.fingerprint AND http_answers.claimed_at < ?)`),
		key, fp, now.UnixNano(), now.Add(-TTL).UnixNano(), now.Add(-Abandoned).UnixNano())
	if err != nil {
		return Answer{}, false, fmt.Errorf("answers: claim: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return Answer{}, false, fmt.Errorf("answers: claim: %w", err)
	} else if n == 1 {
		return Answer{}, true, nil
	}
	a, ok, err := s.Get(ctx, key)
	if err == nil && !ok { // forgotten between the two statements: try again
		return s.Claim(ctx, key, fp, now)
	}
	return a, false, err
}

func (s *SQL) Get(ctx context.Context, key string) (Answer, bool, error) {
	var a Answer
	var at int64
	var header, body string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT fingerprint, claimed_at, status, header, body FROM http_answers WHERE key = ?`), key).
		Scan(&a.Fingerprint, &at, &a.Status, &header, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return Answer{}, false, nil
	}
	if err != nil {
		return Answer{}, false, fmt.Errorf("answers: get: %w", err)
	}
	a.ClaimedAt, a.Body = time.Unix(0, at), []byte(body)
	if header != "" {
		if err := json.Unmarshal([]byte(header), &a.Header); err != nil {
			return Answer{}, false, fmt.Errorf("answers: header of %s: %w", key, err)
		}
	}
	return a, true, nil
}

func (s *SQL) Finish(ctx context.Context, key string, status int, header http.Header, body []byte) error {
	h, err := json.Marshal(header)
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE http_answers SET status = ?, header = ?, body = ? WHERE key = ?`), status, string(h), string(body), key); err != nil {
		return fmt.Errorf("answers: finish: %w", err)
	}
	return nil
}

func (s *SQL) Forget(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM http_answers WHERE key = ?`), key); err != nil {
		return fmt.Errorf("answers: forget: %w", err)
	}
	return nil
}

func (s *SQL) Close() error { return s.db.Close() }
