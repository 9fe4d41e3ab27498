package logins_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

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
			// Codes: the last three of a phone live, each serves once, none
			// after five minutes, none for another phone.
			phone := "138" + rand.Text()[:8] // a table shared with other runs
			now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
			for i, c := range []string{"100001", "100002", "100003", "100004"} {
				if err := s.AddCode(ctx, phone, c, now.Add(5*time.Minute), now.Add(time.Duration(i)*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			use := func(phone, c string, at time.Time) bool {
				ok, err := s.UseCode(ctx, phone, c, at)
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
			later := now.Add(10 * time.Second)
			if use(phone, "100001", later) || use("139"+phone[3:], "100002", later) {
				t.Fatal("the fourth code kept the first alive, or another phone used one")
			}
			if !use(phone, "100002", later) || use(phone, "100002", later) {
				t.Fatal("a live code did not serve exactly once")
			}
			if !use(phone, "100004", later) || use(phone, "100003", now.Add(6*time.Minute)) {
				t.Fatal("a live code refused, or an expired one served")
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

// A bucket kept in the database spends its burst, refuses with the wait
// until the next token, and refills with time, for every process alike.
func TestSharedBuckets(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "logins.db")
	for name, open := range map[string]func(t *testing.T) *logins.SQL{
		"sqlite": func(t *testing.T) *logins.SQL {
			s, err := logins.OpenSQLite(path)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"postgres": func(t *testing.T) *logins.SQL {
			s, err := logins.OpenPostgres(ctx, testenv.Postgres(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	} {
		t.Run(name, func(t *testing.T) {
			one, two := open(t), open(t) // two processes' connections
			defer one.Close()
			defer two.Close()
			key := "test/" + rand.Text()
			now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
			passed := 0
			for i := range 8 {
				s := one
				if i%2 == 1 {
					s = two
				}
				ok, wait, err := s.Take(ctx, key, 3*time.Second, 5, now)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					passed++
				} else if wait <= 0 || wait > 3*time.Second {
					t.Fatalf("refused with a wait of %v", wait)
				}
			}
			if passed != 5 {
				t.Fatalf("%d of 8 passed at once, want the burst of 5", passed)
			}
			if ok, _, _ := two.Take(ctx, key, 3*time.Second, 5, now.Add(3100*time.Millisecond)); !ok {
				t.Fatal("no token 3 s later")
			}
			if ok, _, _ := one.Take(ctx, key, 3*time.Second, 5, now.Add(3200*time.Millisecond)); ok {
				t.Fatal("two tokens 3 s later")
			}
		})
	}
}
