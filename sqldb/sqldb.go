// Package sqldb opens the SQL databases that hold what processes share
// beside the log (answers to retried requests, login credentials): a
// SQLite file, or a PostgreSQL database, with the queries written for each.
package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver
)

// DB is a database and its dialect.
type DB struct {
	*sql.DB
	Postgres bool
	stmts    Stmts
}

// Stmt is query, written with ? placeholders, prepared once for the pool.
// Not inside a transaction: on SQLite the pool's one connection is the
// transaction's.
func (db *DB) Stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	return db.stmts.Prepare(ctx, db.Q(query))
}

// OpenSQLite opens or creates the SQLite file at path in WAL mode with the
// synchronous setting given (FULL: every commit survives a power cut;
// NORMAL: a killed process loses nothing, a power cut the last commits).
func OpenSQLite(path, synchronous string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous("+synchronous+")&_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // one writer; SQLite would serialise them anyway
	if err := QuickCheck(db, path); err != nil {
		db.Close()
		return nil, err
	}
	return &DB{DB: db, stmts: Stmts{DB: db}}, nil
}

// OpenPostgres opens the PostgreSQL database at url.
func OpenPostgres(ctx context.Context, url string, conns int) (*DB, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(conns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return &DB{DB: db, Postgres: true, stmts: Stmts{DB: db}}, nil
}

// Create runs a schema of CREATE ... IF NOT EXISTS statements. On
// PostgreSQL, which does not make them atomic, processes starting together
// take turns under the advisory lock lock.
func (db *DB) Create(schema string, lock int64) error {
	if !db.Postgres {
		_, err := db.Exec(schema)
		return err
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`SELECT pg_advisory_xact_lock($1)`, lock); err != nil {
		return err
	}
	if _, err := tx.Exec(schema); err != nil {
		return err
	}
	return tx.Commit()
}

// Q writes placeholders as the database wants them: ? for SQLite, $n for
// PostgreSQL.
func (db *DB) Q(query string) string {
	if !db.Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// QuickCheck runs SQLite's quick_check on db, the file at path, at open: a
// damaged file stops the process with a message saying so, rather than
// answering from damaged pages.
func QuickCheck(db *sql.DB, path string) error {
	rows, err := db.Query(`PRAGMA quick_check`)
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("check %s: %w", path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s is damaged (%s): restore it from a backup (数据文件已损坏，请从备份恢复)", path, strings.Join(problems[:min(3, len(problems))], "; "))
	}
	return nil
}

// Stmts prepares each query once for a pool and keeps it: SQLite spends
// more parsing a short query than running it (a sixth of the server's CPU
// in a booking rush). A transaction uses one with tx.StmtContext, which
// reuses what its connection has prepared.
type Stmts struct {
	DB *sql.DB
	m  sync.Map // query → *sql.Stmt
}

// Prepare returns the prepared statement of query.
func (s *Stmts) Prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.m.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if old, loaded := s.m.LoadOrStore(query, st); loaded {
		st.Close()
		return old.(*sql.Stmt), nil
	}
	return st, nil
}

// Close closes every statement prepared.
func (s *Stmts) Close() {
	s.m.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
}

// Close closes the statements prepared, then the pool.
func (db *DB) Close() error {
	db.stmts.Close()
	return db.DB.Close()
}
