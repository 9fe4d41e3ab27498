package sqlitestore_test

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/google/uuid"
	"path/filepath"
	"strings"
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

// BenchmarkAppendParallel appends single events from many goroutines, each
// to its own stream: the shape group commit is for.
func BenchmarkAppendParallel(b *testing.B) {
	s, err := sqlitestore.Open(filepath.Join(b.TempDir(), "events.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var n atomic.Int64
	b.SetParallelism(128)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		stream := fmt.Sprintf("s-%d", n.Add(1))
		var v uint64
		for pb.Next() {
			res, err := s.Append(context.Background(), stream, eventstore.Exactly(v), eventstore.Event{
				ID: uuid.Must(uuid.NewV7()), Type: "Bench", Data: []byte(`{"station_id":"demo","service_id":"hukou-birth","date":"2025-10-11"}`), Schema: 1,
			})
			if err != nil {
				b.Fatal(err)
			}
			v = res.Version
		}
	})
}

// One process at a time: the writer caches stream heads that a second
// writer on the same file would make wrong.
func TestSecondOpenerIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	first, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if second, err := sqlitestore.Open(path); err == nil {
		second.Close()
		t.Fatal("a second opener of the same file was let in")
	} else if !strings.Contains(err.Error(), "in use") {
		t.Fatalf("refusal does not say why: %v", err)
	}
	first.Close()
	again, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatalf("reopening after Close: %v", err)
	}
	again.Close()
}
