package sqlviews_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/servicehall/servicehall/internal/testenv"
	"github.com/servicehall/servicehall/projections"
	"github.com/servicehall/servicehall/projections/sqlviews"
	"github.com/servicehall/servicehall/projections/viewtest"
)

func TestSQLiteConformance(t *testing.T) {
	paths := map[projections.Store]string{}
	open := func(t *testing.T, path string) projections.Store {
		s, err := sqlviews.OpenSQLite(path)
		if err != nil {
			t.Fatal(err)
		}
		paths[s] = path
		return s
	}
	viewtest.Run(t,
		func(t *testing.T) projections.Store { return open(t, filepath.Join(t.TempDir(), "views.db")) },
		func(t *testing.T, s projections.Store) projections.Store { s.Close(); return open(t, paths[s]) })
}

// schema gives a test a fresh PostgreSQL schema of its own and a URL that uses it.
func schema(t *testing.T) string {
	base := testenv.Postgres(t)
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := "t_" + uuid.NewString()[:8]
	if _, err := db.Exec(fmt.Sprintf("CREATE SCHEMA %s", name)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, _ := sql.Open("pgx", base)
		db.Exec(fmt.Sprintf("DROP SCHEMA %s CASCADE", name))
		db.Close()
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestPostgresConformance(t *testing.T) {
	urls := map[projections.Store]string{}
	open := func(t *testing.T, u string) projections.Store {
		s, err := sqlviews.OpenPostgres(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		urls[s] = u
		return s
	}
	viewtest.Run(t,
		func(t *testing.T) projections.Store { return open(t, schema(t)) },
		func(t *testing.T, s projections.Store) projections.Store { s.Close(); return open(t, urls[s]) })
}
