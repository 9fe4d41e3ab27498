// Package sqliteviews keeps read models in an embedded SQLite file.
package sqliteviews

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite"

	"github.com/servicehall/servicehall/projections"
)

const schema = `
CREATE TABLE IF NOT EXISTS docs (
	ns  TEXT NOT NULL,
	key TEXT NOT NULL,
	doc TEXT NOT NULL,
	PRIMARY KEY (ns, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
	name       TEXT    PRIMARY KEY,
	generation INTEGER NOT NULL,
	position   INTEGER NOT NULL
);
`

// Store is the SQLite read-model store.
type Store struct {
	db   *sql.DB
	puts map[int]*sql.Stmt // upserts of 1, 2, 4 … 256 documents
}

const upsert = `INSERT INTO docs (ns, key, doc) VALUES `
const onConflict = ` ON CONFLICT (ns, key) DO UPDATE SET doc = excluded.doc`

// Open opens or creates the read models in the file at path. They are
// written with synchronous=NORMAL: a crash may lose the last commits, never
// their consistency (a view and its checkpoint commit together), and the
// projection reads the lost part of the log again.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open read models: %w", err)
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode()+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open read models %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open read models %s: %w", path, err)
	}
	s := &Store{db: db, puts: map[int]*sql.Stmt{}}
	for n := 1; n <= 256; n *= 2 {
		st, err := db.Prepare(upsert + strings.Repeat("(?,?,?),", n-1) + "(?,?,?)" + onConflict)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("open read models %s: %w", path, err)
		}
		s.puts[n] = st
	}
	return s, nil
}

func (s *Store) Close() error {
	for _, st := range s.puts {
		st.Close()
	}
	return s.db.Close()
}

func (s *Store) Get(ctx context.Context, ns, key string) ([]byte, bool, error) {
	var doc string
	err := s.db.QueryRowContext(ctx, `SELECT doc FROM docs WHERE ns = ? AND key = ?`, ns, key).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get %s/%s: %w", ns, key, err)
	}
	return []byte(doc), true, nil
}

func (s *Store) Scan(ctx context.Context, ns, from, to string) ([]projections.KV, error) {
	q, args := `SELECT key, doc FROM docs WHERE ns = ? AND key >= ? ORDER BY key`, []any{ns, from}
	if to != "" {
		q, args = `SELECT key, doc FROM docs WHERE ns = ? AND key >= ? AND key < ? ORDER BY key`, append(args, to)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", ns, err)
	}
	defer rows.Close()
	var out []projections.KV
	for rows.Next() {
		kv := projections.KV{NS: ns}
		var doc string
		if err := rows.Scan(&kv.Key, &doc); err != nil {
			return nil, fmt.Errorf("scan %s: %w", ns, err)
		}
		kv.Doc = []byte(doc)
		out = append(out, kv)
	}
	return out, rows.Err()
}

func (s *Store) Write(ctx context.Context, b projections.Batch) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write read models: %w", err)
	}
	defer tx.Rollback()
	for _, prefix := range b.Drops {
		if _, err := tx.ExecContext(ctx, `DELETE FROM docs WHERE ns >= ? AND ns < ?`, prefix, projections.PrefixEnd(prefix)); err != nil {
			return fmt.Errorf("drop %s: %w", prefix, err)
		}
	}
	// Many documents a statement: the rows are split into powers of two.
	for puts := b.Puts; len(puts) > 0; {
		n := 256
		for n > len(puts) {
			n /= 2
		}
		args := make([]any, 0, 3*n)
		for _, kv := range puts[:n] {
			args = append(args, kv.NS, kv.Key, string(kv.Doc))
		}
		if _, err := tx.StmtContext(ctx, s.puts[n]).ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("put %s/%s…: %w", puts[0].NS, puts[0].Key, err)
		}
		puts = puts[n:]
	}
	for _, kv := range b.Deletes {
		if _, err := tx.ExecContext(ctx, `DELETE FROM docs WHERE ns = ? AND key = ?`, kv.NS, kv.Key); err != nil {
			return fmt.Errorf("delete %s/%s: %w", kv.NS, kv.Key, err)
		}
	}
	for _, c := range b.Checkpoints {
		if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (name, generation, position) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET generation = excluded.generation, position = excluded.position`, c.Name, c.Generation, c.Position); err != nil {
			return fmt.Errorf("checkpoint %s: %w", c.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("write read models: %w", err)
	}
	return nil
}

func (s *Store) Checkpoints(ctx context.Context) (map[string]projections.Checkpoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, generation, position FROM checkpoints`)
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	defer rows.Close()
	out := map[string]projections.Checkpoint{}
	for rows.Next() {
		var c projections.Checkpoint
		if err := rows.Scan(&c.Name, &c.Generation, &c.Position); err != nil {
			return nil, fmt.Errorf("checkpoints: %w", err)
		}
		out[c.Name] = c
	}
	return out, rows.Err()
}

var _ projections.Store = (*Store)(nil)
