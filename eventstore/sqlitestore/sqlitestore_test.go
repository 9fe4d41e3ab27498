package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/eventstore/conformance"
	"github.com/servicehall/servicehall/eventstore/sqlitestore"
)

func TestConformance(t *testing.T) {
	paths := map[eventstore.Store]string{}
	openAt := func(t *testing.T, path string) eventstore.Store {
		s, err := sqlitestore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		paths[s] = path
		return s
	}
	conformance.Run(t, conformance.Adapter{
		Open: func(t *testing.T) eventstore.Store {
			return openAt(t, filepath.Join(t.TempDir(), "events.db"))
		},
		Reopen: func(t *testing.T, s eventstore.Store) eventstore.Store {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return openAt(t, paths[s])
		},
	})
}
