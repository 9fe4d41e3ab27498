package logins_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/servicehall/servicehall/internal/testenv"
	"github.com/servicehall/servicehall/logins"
)

// Every store keeps a hash under its credential id, replaces it when set
// again, and knows nothing of an id never set; SQLite keeps it across a
// reopen.
func TestStores(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "logins.db")
	for name, open := range map[string]func(t *testing.T) logins.Store{
		"memory": func(*testing.T) logins.Store { return logins.NewMemory() },
		"sqlite": func(t *testing.T) logins.Store {
			s, err := logins.OpenSQLite(path)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"postgres": func(t *testing.T) logins.Store {
			s, err := logins.OpenPostgres(ctx, testenv.Postgres(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			id := "cred-" + rand.Text() // PostgreSQL's table outlives the test
			if _, ok, err := s.Get(ctx, id); ok || err != nil {
				t.Fatalf("an id never set: %v %v", ok, err)
			}
			for _, h := range []string{"$2a$10$first", "$2a$10$second"} {
				if err := s.Set(ctx, id, []byte(h)); err != nil {
					t.Fatal(err)
				}
				if got, ok, err := s.Get(ctx, id); !ok || err != nil || string(got) != h {
					t.Fatalf("after setting %s: %q %v %v", h, got, ok, err)
				}
			}
			s.Close()
			if name == "sqlite" {
				again := open(t)
				defer again.Close()
				if got, ok, _ := again.Get(ctx, id); !ok || string(got) != "$2a$10$second" {
					t.Fatalf("after a reopen: %q %v", got, ok)
				}
			}
		})
	}
}
