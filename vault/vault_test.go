package vault_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/servicehall/servicehall/internal/testenv"
	"github.com/servicehall/servicehall/vault"
)

// Every store gives a person one key, finds it by id, destroys it on
// erasure for good, and gives a person who comes back a new one.
func TestStores(t *testing.T) {
	ctx := context.Background()
	for name, open := range map[string]func(t *testing.T) vault.Store{
		"memory": func(*testing.T) vault.Store { return vault.NewMemory() },
		"sqlite": func(t *testing.T) vault.Store {
			s, err := vault.OpenSQLite(filepath.Join(t.TempDir(), "vault.db"))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"postgres": func(t *testing.T) vault.Store {
			s, err := vault.OpenPostgres(ctx, testenv.Postgres(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			ref, other := "ref-"+rand.Text(), "ref-"+rand.Text() // tables shared with other runs
			id, key, err := s.Key(ctx, ref)
			if err != nil || len(key) != 32 {
				t.Fatalf("a first key: %q %d bytes, %v", id, len(key), err)
			}
			if again, k2, _ := s.Key(ctx, ref); again != id || !bytes.Equal(k2, key) {
				t.Fatal("a second booking got another key")
			}
			otherID, _, _ := s.Key(ctx, other)
			if got, ok, _ := s.Get(ctx, id); !ok || !bytes.Equal(got, key) {
				t.Fatal("the key is not found by its id")
			}
			if err := s.Erase(ctx, ref, time.Now()); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := s.Get(ctx, id); ok {
				t.Fatal("an erased key is still there")
			}
			if erased, _ := s.Erased(ctx, ref); !erased {
				t.Fatal("the erasure is not recorded")
			}
			if _, ok, _ := s.Get(ctx, otherID); !ok {
				t.Fatal("another person's key went with the erasure")
			}
			if erased, _ := s.Erased(ctx, other); erased {
				t.Fatal("another person reads as erased")
			}
			if back, _, _ := s.Key(ctx, ref); back == id {
				t.Fatal("a person who came back got the destroyed key's id")
			}
		})
	}
}
