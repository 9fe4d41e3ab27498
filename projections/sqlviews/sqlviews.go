// Package sqlviews keeps read models in SQL: an embedded SQLite file by
// default, or PostgreSQL for several servicehall processes to share. The
// schema is migrated with goose; the two differ only in their dialect.
package sqlviews

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite"

	"github.com/servicehall/servicehall/projections"
	"github.com/servicehall/servicehall/sqldb"
)

//go:embed migrations
var migrations embed.FS

// Store is a SQL read-model store.
type Store struct {
	db      *sql.DB
	bind    func(i int) string // the i-th placeholder, from 1
	collate string             // makes keys compare byte by byte
	puts    map[int]*sql.Stmt  // upserts of 1, 2, 4 … 256 documents
	stmts   sqldb.Stmts        // every other query, prepared once
}

// OpenSQLite opens or creates the read models in the file at path. They are
// written with synchronous=NORMAL: a crash may lose the last commits, never
// their consistency (a view and its checkpoint commit together), and the
// projection reads the lost part of the log again.
func OpenSQLite(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open read models: %w", err)
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)", "cache_size(-16384)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode()+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open read models %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	if err := sqldb.QuickCheck(db, path); err != nil {
		db.Close()
		return nil, err
	}
	return open(context.Background(), db, goose.DialectSQLite3, "sqlite", func(int) string { return "?" }, "")
}

// OpenPostgres connects to url and migrates the schema.
func OpenPostgres(ctx context.Context, url string) (*Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("read models: %w", err)
	}
	return open(ctx, db, goose.DialectPostgres, "postgres", func(i int) string { return fmt.Sprintf("$%d", i) }, ` COLLATE "C"`)
}

func open(ctx context.Context, db *sql.DB, dialect goose.Dialect, dir string, bind func(int) string, collate string) (*Store, error) {
	fail := func(err error) (*Store, error) {
		db.Close()
		return nil, fmt.Errorf("read models: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		return fail(err)
	}
	sub, _ := fs.Sub(migrations, "migrations/"+dir)
	var opts []goose.ProviderOption
	if dialect == goose.DialectPostgres { // processes starting together migrate once
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fail(err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db, sub, opts...)
	if err != nil {
		return fail(err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fail(fmt.Errorf("migrate: %w", err))
	}
	s := &Store{db: db, bind: bind, collate: collate, puts: map[int]*sql.Stmt{}, stmts: sqldb.Stmts{DB: db}}
	// Those a write uses, before any write holds a connection.
	for _, q := range []string{dropNS, deleteDoc, putCheckpoint} {
		if _, err := s.prepare(ctx, q); err != nil {
			return fail(err)
		}
	}
	for n := 1; n <= 256; n *= 2 {
		var q strings.Builder
		q.WriteString(`INSERT INTO docs (ns, key, doc) VALUES `)
		for i := range n {
			if i > 0 {
				q.WriteByte(',')
			}
			fmt.Fprintf(&q, "(%s, %s, %s)", bind(3*i+1), bind(3*i+2), bind(3*i+3))
		}
		q.WriteString(` ON CONFLICT (ns, key) DO UPDATE SET doc = excluded.doc`)
		st, err := db.PrepareContext(ctx, q.String())
		if err != nil {
			return fail(err)
		}
		s.puts[n] = st
	}
	return s, nil
}

func (s *Store) Close() error {
	for _, st := range s.puts {
		st.Close()
	}
	s.stmts.Close()
	return s.db.Close()
}

// q rewrites ? placeholders into the dialect's and marks key comparisons.
func (s *Store) q(query string) string {
	query = strings.ReplaceAll(query, "{c}", s.collate)
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString(s.bind(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// prepare readies query, with the dialect's placeholders and key order.
func (s *Store) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	return s.stmts.Prepare(ctx, s.q(query))
}

const (
	dropNS        = `DELETE FROM docs WHERE ns{c} >= ? AND ns{c} < ?`
	deleteDoc     = `DELETE FROM docs WHERE ns = ? AND key = ?`
	putCheckpoint = `INSERT INTO checkpoints (name, generation, position) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET generation = excluded.generation, position = excluded.position`
)

func (s *Store) Get(ctx context.Context, ns, key string) ([]byte, bool, error) {
	st, err := s.prepare(ctx, `SELECT doc FROM docs WHERE ns = ? AND key = ?`)
	if err != nil {
		return nil, false, fmt.Errorf("get %s/%s: %w", ns, key, err)
	}
	var doc []byte
	err = st.QueryRowContext(ctx, ns, key).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get %s/%s: %w", ns, key, err)
	}
	return doc, true, nil
}

func (s *Store) Scan(ctx context.Context, ns, from, to string) ([]projections.KV, error) {
	q, args := `SELECT key, doc FROM docs WHERE ns = ? AND key{c} >= ? ORDER BY key{c}`, []any{ns, from}
	if to != "" {
		q, args = `SELECT key, doc FROM docs WHERE ns = ? AND key{c} >= ? AND key{c} < ? ORDER BY key{c}`, append(args, to)
	}
	st, err := s.prepare(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", ns, err)
	}
	rows, err := st.QueryContext(ctx, args...)
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
		if _, err := s.inTx(ctx, tx, dropNS).ExecContext(ctx, prefix, projections.PrefixEnd(prefix)); err != nil {
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
		if _, err := s.inTx(ctx, tx, deleteDoc).ExecContext(ctx, kv.NS, kv.Key); err != nil {
			return fmt.Errorf("delete %s/%s: %w", kv.NS, kv.Key, err)
		}
	}
	for _, c := range b.Checkpoints {
		if _, err := s.inTx(ctx, tx, putCheckpoint).ExecContext(ctx, c.Name, c.Generation, int64(c.Position)); err != nil {
			return fmt.Errorf("checkpoint %s: %w", c.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("write read models: %w", err)
	}
	return nil
}

// inTx is a statement prepared when the store opened, in tx.
func (s *Store) inTx(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	st, _ := s.prepare(ctx, query) // prepared in open: found, not prepared again
	return tx.StmtContext(ctx, st)
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
