package sqliteviews_test

import (
	"path/filepath"
	"testing"

	"github.com/servicehall/servicehall/projections"
	"github.com/servicehall/servicehall/projections/sqliteviews"
	"github.com/servicehall/servicehall/projections/viewtest"
)

func TestConformance(t *testing.T) {
	paths := map[projections.Store]string{}
	open := func(t *testing.T, path string) projections.Store {
		s, err := sqliteviews.Open(path)
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
