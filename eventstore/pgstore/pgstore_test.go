package pgstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/eventstore/conformance"
	"github.com/servicehall/servicehall/eventstore/pgstore"
	"github.com/servicehall/servicehall/internal/testenv"
)

func open(t *testing.T) eventstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Adapter{
		Open: open,
		Reopen: func(t *testing.T, s eventstore.Store) eventstore.Store {
			s.Close()
			return open(t)
		},
	})
}

// Concurrent transactions commit in any order; a subscriber reading all
// the while sees every position exactly once and in order: none is
// skipped because a later one committed first.
func TestSubscriberNeverSkips(t *testing.T) {
	s := open(t)
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 25
	seen := make(chan []uint64, 1)
	go func() {
		var got []uint64
		for r, err := range s.Subscribe(ctx, start) {
			if err != nil {
				break
			}
			got = append(got, r.Position)
			if len(got) == writers*each {
				break
			}
		}
		seen <- got
	}()
	var wg sync.WaitGroup
	prefix := uuid.NewString()[:8]
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := eventstore.Event{ID: uuid.New(), Type: "Tick", Data: json.RawMessage(`{}`), OccurredAt: time.Now()}
				if _, err := s.Append(ctx, fmt.Sprintf("gap-%s-%d-%d", prefix, w, i), eventstore.NoStream, e); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	got := <-seen
	if len(got) < writers*each {
		t.Fatalf("the subscriber saw %d of %d events", len(got), writers*each)
	}
	for i, p := range got {
		if p != start+uint64(i)+1 {
			t.Fatalf("position %d at index %d, want %d: a gap or a reorder", p, i, start+uint64(i)+1)
		}
	}
}
