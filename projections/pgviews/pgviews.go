// Package pgviews keeps read models in PostgreSQL, for several servicehall
// processes to share. Its schema is migrated with goose.
package pgviews

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/servicehall/servicehall/projections"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the PostgreSQL read-model store.
type Store struct{ db *sql.DB }

// Open connects to url and migrates the schema to the current version.
func Open(ctx context.Context, url string) (*Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("read models: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("read models: %w", err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub)
	if err == nil {
		_, err = p.Up(ctx)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("read models: migrate: %w", err)
	}
	return &Store{db: db}, nil
}

func (s *Store) Close() error { return s.db.Close() }

func (s *Store) Get(ctx context.Context, ns, key string) ([]byte, bool, error) {
	var doc []byte
	err := s.db.QueryRowContext(ctx, `SELECT doc FROM docs WHERE ns = $1 AND key = $2`, ns, key).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get %s/%s: %w", ns, key, err)
	}
	return doc, true, nil
}

func (s *Store) Scan(ctx context.Context, ns, from, to string) ([]projections.KV, error) {
	// COLLATE "C": keys compare byte by byte, as in the other stores.
	q, args := `SELECT key, doc FROM docs WHERE ns = $1 AND key COLLATE "C" >= $2 ORDER BY key COLLATE "C"`, []any{ns, from}
	if to != "" {
		q, args = `SELECT key, doc FROM docs WHERE ns = $1 AND key COLLATE "C" >= $2 AND key COLLATE "C" < $3 ORDER BY key COLLATE "C"`, append(args, to)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", ns, err)
	}
	defer rows.Close()
	var out []projections.KV
	for rows.Next() {
		kv := projections.KV{NS: ns}
		if err := rows.Scan(&kv.Key, &kv.Doc); err != nil {
			return nil, fmt.Errorf("scan %s: %w", ns, err)
		}
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
		if _, err := tx.ExecContext(ctx, `DELETE FROM docs WHERE ns COLLATE "C" >= $1 AND ns COLLATE "C" < $2`, prefix, projections.PrefixEnd(prefix)); err != nil {
			return fmt.Errorf("drop %s: %w", prefix, err)
		}
	}
	for _, kv := range b.Puts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO docs (ns, key, doc) VALUES ($1, $2, $3)
			ON CONFLICT (ns, key) DO UPDATE SET doc = excluded.doc`, kv.NS, kv.Key, string(kv.Doc)); err != nil {
			return fmt.Errorf("put %s/%s: %w", kv.NS, kv.Key, err)
		}
	}
	for _, kv := range b.Deletes {
		if _, err := tx.ExecContext(ctx, `DELETE FROM docs WHERE ns = $1 AND key = $2`, kv.NS, kv.Key); err != nil {
			return fmt.Errorf("delete %s/%s: %w", kv.NS, kv.Key, err)
		}
	}
	for _, c := range b.Checkpoints {
		if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (name, generation, position) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET generation = excluded.generation, position = excluded.position`, c.Name, c.Generation, int64(c.Position)); err != nil {
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
		var pos int64
		if err := rows.Scan(&c.Name, &c.Generation, &pos); err != nil {
			return nil, fmt.Errorf("checkpoints: %w", err)
		}
		c.Position = uint64(pos)
		out[c.Name] = c
	}
	return out, rows.Err()
}

var _ projections.Store = (*Store)(nil)
