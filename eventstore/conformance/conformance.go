// Package conformance is the test suite every event-store adapter passes.
// Each test writes to streams of its own, so the suite can run against a
// shared server whose global log holds other events too.
package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/servicehall/servicehall/eventstore"
)

// Adapter opens stores for the suite.
type Adapter struct {
	// Open returns a store for one test; the test closes it.
	Open func(t *testing.T) eventstore.Store
	// Reopen closes s and opens the same store again, as after a restart.
	Reopen func(t *testing.T, s eventstore.Store) eventstore.Store
}

// Run runs every conformance test against the adapter.
func Run(t *testing.T, a Adapter) {
	tests := []struct {
		name string
		fn   func(*testing.T, Adapter)
	}{
		{"AppendAndReadStream", appendAndRead},
		{"ExpectedVersion", expectedVersion},
		{"ConflictWritesNothing", conflictWritesNothing},
		{"IdempotentAppend", idempotentAppend},
		{"IDStoredInAnotherStream", idElsewhere},
		{"ConcurrentWritersOneStream", concurrentOneStream},
		{"ConcurrentWritersManyStreams", concurrentManyStreams},
		{"GlobalLog", globalLog},
		{"SubscribeCatchUpThenLive", subscribe},
		{"Reopen", reopen},
		{"RefusesBadAppends", refusesBad},
		{"AtomicAppend", atomicAppend},
		{"AtomicConflictWritesNothing", atomicConflict},
		{"AtomicConcurrent", atomicConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, a) })
	}
}

var ctx = context.Background()

func prefix() string { return "ct" + strings.ReplaceAll(uuid.NewString()[:13], "-", "") + "-" }

func ev(typ string, n int) eventstore.Event {
	data, _ := json.Marshal(map[string]int{"n": n})
	return eventstore.Event{
		ID:            uuid.New(),
		Type:          typ,
		Data:          data,
		OccurredAt:    time.Date(2025, 10, 9, 8, 30, 0, 123_000_000, time.UTC),
		Actor:         eventstore.Actor{ID: "u-1", Role: "staff"},
		CorrelationID: "corr-1",
		CausationID:   "cause-1",
		Schema:        1,
	}
}

func open(t *testing.T, a Adapter) eventstore.Store {
	s := a.Open(t)
	t.Cleanup(func() { s.Close() })
	return s
}

func appendAndRead(t *testing.T, a Adapter) {
	s := open(t, a)
	stream := prefix() + "a"
	in := []eventstore.Event{ev("One", 1), ev("Two", 2), ev("Three", 3)}
	res, err := s.Append(ctx, stream, eventstore.NoStream, in...)
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != 3 || res.Position == 0 {
		t.Fatalf("result = %+v, want version 3 and a position", res)
	}
	got, err := s.ReadStream(ctx, stream, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("read %d events, want 3", len(got))
	}
	for i, r := range got {
		want := in[i]
		if r.ID != want.ID || r.Type != want.Type || r.Stream != stream || r.Version != uint64(i+1) ||
			r.Actor != want.Actor || r.CorrelationID != want.CorrelationID || r.CausationID != want.CausationID ||
			r.Schema != 1 || !r.OccurredAt.Equal(want.OccurredAt) {
			t.Errorf("event %d = %+v, want %+v at version %d", i, r, want, i+1)
		}
		if !jsonEqual(r.Data, want.Data) {
			t.Errorf("event %d data = %s, want %s", i, r.Data, want.Data)
		}
		if i > 0 && r.Position <= got[i-1].Position {
			t.Errorf("positions not increasing: %d then %d", got[i-1].Position, r.Position)
		}
	}
	if got[2].Position != res.Position {
		t.Errorf("last position %d, append said %d", got[2].Position, res.Position)
	}
	tail, err := s.ReadStream(ctx, stream, 2)
	if err != nil || len(tail) != 1 || tail[0].Type != "Three" {
		t.Fatalf("ReadStream after 2 = %v, %v", tail, err)
	}
	none, err := s.ReadStream(ctx, prefix()+"missing", 0)
	if err != nil || len(none) != 0 {
		t.Fatalf("missing stream = %v, %v; want no events, no error", none, err)
	}
}

func expectedVersion(t *testing.T, a Adapter) {
	s := open(t, a)
	stream := prefix() + "v"
	if _, err := s.Append(ctx, stream, eventstore.Exactly(1), ev("X", 0)); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("exact version on a missing stream: %v, want conflict", err)
	}
	if _, err := s.Append(ctx, stream, eventstore.NoStream, ev("X", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, stream, eventstore.NoStream, ev("X", 2)); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("no stream on an existing stream: %v, want conflict", err)
	}
	if res, err := s.Append(ctx, stream, eventstore.Exactly(1), ev("X", 2)); err != nil || res.Version != 2 {
		t.Fatalf("exact version 1: %+v, %v", res, err)
	}
	if res, err := s.Append(ctx, stream, eventstore.Any, ev("X", 3)); err != nil || res.Version != 3 {
		t.Fatalf("any: %+v, %v", res, err)
	}
	_, err := s.Append(ctx, stream, eventstore.Exactly(2), ev("X", 4))
	var ce *eventstore.ConflictError
	if !errors.As(err, &ce) || ce.Stream != stream || ce.Expected != eventstore.Exactly(2) {
		t.Fatalf("stale version: %v, want *ConflictError for %s expecting 2", err, stream)
	}
}

func conflictWritesNothing(t *testing.T, a Adapter) {
	s := open(t, a)
	stream := prefix() + "c"
	if _, err := s.Append(ctx, stream, eventstore.NoStream, ev("X", 1)); err != nil {
		t.Fatal(err)
	}
	head, _ := s.Head(ctx)
	lost := []eventstore.Event{ev("Y", 1), ev("Y", 2)}
	if _, err := s.Append(ctx, stream, eventstore.NoStream, lost...); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("got %v, want conflict", err)
	}
	got, _ := s.ReadStream(ctx, stream, 0)
	if len(got) != 1 || got[0].Type != "X" {
		t.Fatalf("stream after a conflict = %v, want only the first event", got)
	}
	after, _ := s.Head(ctx)
	tail, _ := s.ReadAll(ctx, head, 1000)
	for _, r := range tail {
		if r.ID == lost[0].ID || r.ID == lost[1].ID {
			t.Fatalf("refused event %s is in the global log (head %d -> %d)", r.ID, head, after)
		}
	}
	// The refused ids stay free: the same events can be appended properly.
	if _, err := s.Append(ctx, stream, eventstore.Exactly(1), lost...); err != nil {
		t.Fatalf("append the refused events at the right version: %v", err)
	}
}

func idempotentAppend(t *testing.T, a Adapter) {
	s := open(t, a)
	stream := prefix() + "i"
	batch := []eventstore.Event{ev("A", 1), ev("B", 2)}
	first, err := s.Append(ctx, stream, eventstore.NoStream, batch...)
	if err != nil {
		t.Fatal(err)
	}
	for _, exp := range []eventstore.Expected{eventstore.NoStream, eventstore.Any} {
		again, err := s.Append(ctx, stream, exp, batch...)
		if err != nil {
			t.Fatalf("retry with %v: %v, want success", exp, err)
		}
		if again != first {
			t.Fatalf("retry with %v = %+v, want the first result %+v", exp, again, first)
		}
	}
	got, _ := s.ReadStream(ctx, stream, 0)
	if len(got) != 2 {
		t.Fatalf("stream holds %d events after retries, want 2", len(got))
	}
	// A retry after more was written is still recognised.
	if _, err := s.Append(ctx, stream, eventstore.Exactly(2), ev("C", 3)); err != nil {
		t.Fatal(err)
	}
	if again, err := s.Append(ctx, stream, eventstore.NoStream, batch...); err != nil || again != first {
		t.Fatalf("late retry = %+v, %v; want %+v", again, err, first)
	}
}

// An event id belongs to one stream: reusing it elsewhere is refused and
// does not disturb appends committed alongside it.
func idElsewhere(t *testing.T, a Adapter) {
	s := open(t, a)
	p := prefix()
	e := ev("Once", 1)
	if _, err := s.Append(ctx, p+"first", eventstore.NoStream, e); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 20 {
				_, errs[i] = s.Append(ctx, p+"second", eventstore.NoStream, ev("Fresh", 0), e)
				return
			}
			_, errs[i] = s.Append(ctx, fmt.Sprintf("%sother%d", p, i), eventstore.NoStream, ev("Other", i))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if i == 20 {
			if err == nil {
				t.Error("an id stored in another stream was appended again")
			}
		} else if err != nil {
			t.Errorf("append %d beside the refused one: %v", i, err)
		}
	}
	if got, _ := s.ReadStream(ctx, p+"second", 0); len(got) != 0 {
		t.Fatalf("the refused append left %d events", len(got))
	}
	if got := readAllWithPrefix(t, s, 0, p); len(got) != 40 {
		t.Fatalf("global log holds %d of our events, want 40", len(got))
	}
}

func concurrentOneStream(t *testing.T, a Adapter) {
	s := open(t, a)
	stream := prefix() + "race"
	const writers = 20
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Append(ctx, stream, eventstore.NoStream, ev("Claim", i))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, eventstore.ErrConflict):
				conflicts.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != writers-1 {
		t.Fatalf("%d writers racing for a new stream: %d won, %d conflicts; want 1 and %d", writers, wins.Load(), conflicts.Load(), writers-1)
	}
	// Writers that reload and retry all get in, each exactly once.
	var wg2 sync.WaitGroup
	for i := range writers {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			e := ev("Retry", i)
			for {
				recs, err := s.ReadStream(ctx, stream, 0)
				if err != nil {
					t.Error(err)
					return
				}
				_, err = s.Append(ctx, stream, eventstore.Exactly(uint64(len(recs))), e)
				if err == nil {
					return
				}
				if !errors.Is(err, eventstore.ErrConflict) {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg2.Wait()
	got, _ := s.ReadStream(ctx, stream, 0)
	if len(got) != writers+1 {
		t.Fatalf("stream holds %d events, want %d", len(got), writers+1)
	}
	for i, r := range got {
		if r.Version != uint64(i+1) {
			t.Fatalf("event %d has version %d", i, r.Version)
		}
	}
}

func concurrentManyStreams(t *testing.T, a Adapter) {
	s := open(t, a)
	p := prefix()
	const writers, each = 32, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := s.Append(ctx, fmt.Sprintf("%s%d", p, w), eventstore.Exactly(uint64(i)), ev("E", i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for w := range writers {
		got, _ := s.ReadStream(ctx, fmt.Sprintf("%s%d", p, w), 0)
		if len(got) != each {
			t.Fatalf("stream %d holds %d events, want %d", w, len(got), each)
		}
	}
	mine := readAllWithPrefix(t, s, 0, p)
	if len(mine) != writers*each {
		t.Fatalf("global log holds %d of our events, want %d", len(mine), writers*each)
	}
}

func readAllWithPrefix(t *testing.T, s eventstore.Store, from uint64, p string) []eventstore.Record {
	t.Helper()
	var mine []eventstore.Record
	last := from
	for {
		page, err := s.ReadAll(ctx, from, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return mine
		}
		for _, r := range page {
			if r.Position <= last {
				t.Fatalf("global log goes back: %d after %d", r.Position, last)
			}
			last = r.Position
			if strings.HasPrefix(r.Stream, p) {
				mine = append(mine, r)
			}
		}
		from = page[len(page)-1].Position
	}
}

func globalLog(t *testing.T, a Adapter) {
	s := open(t, a)
	p := prefix()
	start, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []eventstore.Event
	for i := range 30 {
		e := ev("G", i)
		want = append(want, e)
		if _, err := s.Append(ctx, fmt.Sprintf("%s%d", p, i%3), eventstore.Any, e); err != nil {
			t.Fatal(err)
		}
	}
	head, _ := s.Head(ctx)
	if head <= start {
		t.Fatalf("head %d did not move past %d", head, start)
	}
	got := readAllWithPrefix(t, s, start, p)
	if len(got) != len(want) {
		t.Fatalf("read %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID {
			t.Fatalf("global order differs at %d", i)
		}
	}
	// Reading after a position starts just after it.
	rest := readAllWithPrefix(t, s, got[9].Position, p)
	if len(rest) != 20 || rest[0].ID != want[10].ID {
		t.Fatalf("read after event 10: %d events, first %v", len(rest), rest)
	}
	if page, _ := s.ReadAll(ctx, start, 7); len(page) > 7 {
		t.Fatalf("limit 7 returned %d", len(page))
	}
}

func subscribe(t *testing.T, a Adapter) {
	s := open(t, a)
	p := prefix()
	start, _ := s.Head(ctx)
	const before, during = 50, 200
	for i := range before {
		if _, err := s.Append(ctx, p+"s", eventstore.Any, ev("Before", i)); err != nil {
			t.Fatal(err)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	done := make(chan []eventstore.Record)
	go func() {
		var seen []eventstore.Record
		for r, err := range s.Subscribe(cctx, start) {
			if err != nil {
				t.Errorf("subscription ended: %v", err)
				break
			}
			if strings.HasPrefix(r.Stream, p) {
				seen = append(seen, r)
			}
			if len(seen) == before+during {
				break
			}
		}
		done <- seen
	}()
	var wg sync.WaitGroup // live appends from several writers while it catches up
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range during / 4 {
				if _, err := s.Append(ctx, fmt.Sprintf("%sw%d", p, w), eventstore.Any, ev("During", i)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	seen := <-done
	if len(seen) != before+during {
		t.Fatalf("subscription saw %d events, want %d", len(seen), before+during)
	}
	ids := make(map[uuid.UUID]bool)
	for i, r := range seen {
		if ids[r.ID] {
			t.Fatalf("event %s delivered twice", r.ID)
		}
		ids[r.ID] = true
		if i > 0 && r.Position <= seen[i-1].Position {
			t.Fatalf("subscription out of order at %d", i)
		}
	}
	// The same from a later position gives exactly the tail: no gap, no repeat.
	from := seen[before-1].Position
	cctx2, cancel2 := context.WithCancel(ctx)
	defer cancel2()
	var tail []eventstore.Record
	for r, err := range s.Subscribe(cctx2, from) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(r.Stream, p) {
			tail = append(tail, r)
		}
		if len(tail) == during {
			break
		}
	}
	if tail[0].ID != seen[before].ID {
		t.Fatalf("resubscribing after %d starts at %v, want %v", from, tail[0].ID, seen[before].ID)
	}
	// Cancelling ends a subscription that is waiting for events.
	cctx3, cancel3 := context.WithCancel(ctx)
	head, _ := s.Head(ctx)
	ended := make(chan error, 1)
	go func() {
		for _, err := range s.Subscribe(cctx3, head) {
			if err != nil {
				ended <- err
				return
			}
		}
		ended <- nil
	}()
	time.Sleep(50 * time.Millisecond)
	cancel3()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled subscription ended with %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled subscription did not end")
	}
}

func reopen(t *testing.T, a Adapter) {
	s := a.Open(t)
	stream := prefix() + "r"
	res, err := s.Append(ctx, stream, eventstore.NoStream, ev("A", 1), ev("B", 2))
	if err != nil {
		t.Fatal(err)
	}
	s = a.Reopen(t, s)
	defer s.Close()
	got, err := s.ReadStream(ctx, stream, 0)
	if err != nil || len(got) != 2 {
		t.Fatalf("after reopen: %d events, %v", len(got), err)
	}
	if head, _ := s.Head(ctx); head < res.Position {
		t.Fatalf("head %d after reopen is before the last append %d", head, res.Position)
	}
	if _, err := s.Append(ctx, stream, eventstore.Exactly(1), ev("C", 3)); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("stale version after reopen: %v, want conflict", err)
	}
	next, err := s.Append(ctx, stream, eventstore.Exactly(2), ev("C", 3))
	if err != nil || next.Version != 3 || next.Position <= res.Position {
		t.Fatalf("append after reopen = %+v, %v", next, err)
	}
}

func refusesBad(t *testing.T, a Adapter) {
	s := open(t, a)
	good := ev("X", 1)
	noID := good
	noID.ID = uuid.Nil
	noType := ev("", 1)
	badJSON := ev("X", 1)
	badJSON.Data = []byte("{")
	cases := map[string]func() error{
		"empty stream": func() error { _, err := s.Append(ctx, "", eventstore.Any, good); return err },
		"no events":    func() error { _, err := s.Append(ctx, prefix(), eventstore.Any); return err },
		"no id":        func() error { _, err := s.Append(ctx, prefix(), eventstore.Any, noID); return err },
		"no type":      func() error { _, err := s.Append(ctx, prefix(), eventstore.Any, noType); return err },
		"bad json":     func() error { _, err := s.Append(ctx, prefix(), eventstore.Any, badJSON); return err },
	}
	for name, f := range cases {
		if err := f(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// atomic returns the store's multi-stream append, or skips a store without.
func multi(t *testing.T, a Adapter) (eventstore.Store, eventstore.Atomic) {
	s := open(t, a)
	m, ok := s.(eventstore.Atomic)
	if !ok {
		t.Skipf("%T has no atomic multi-stream append", s)
	}
	return s, m
}

func atomicAppend(t *testing.T, a Adapter) {
	s, m := multi(t, a)
	p := prefix()
	if _, err := s.Append(ctx, p+"a", eventstore.NoStream, ev("A", 1)); err != nil {
		t.Fatal(err)
	}
	parts := []eventstore.Part{
		{Stream: p + "a", Expected: eventstore.Exactly(1), Events: []eventstore.Event{ev("A", 2), ev("A", 3)}},
		{Stream: p + "b", Expected: eventstore.NoStream, Events: []eventstore.Event{ev("B", 1)}},
	}
	res, err := m.AppendAll(ctx, parts...)
	if err != nil {
		t.Fatal(err)
	}
	// One transaction: its events sit together in the global log.
	if len(res) != 2 || res[0].Version != 3 || res[1].Version != 1 || res[1].Position != res[0].Position+1 {
		t.Fatalf("results = %+v", res)
	}
	if all := readAllWithPrefix(t, s, 0, p); len(all) != 4 {
		t.Fatalf("global log holds %d of our events, want 4", len(all))
	}
	again, err := m.AppendAll(ctx, parts...)
	if err != nil || len(again) != 2 || again[0] != res[0] || again[1] != res[1] {
		t.Fatalf("retry = %+v, %v; want %+v", again, err, res)
	}
	if n := len(readAllWithPrefix(t, s, 0, p)); n != 4 {
		t.Fatalf("a retry wrote: %d events, want 4", n)
	}
	if _, err := m.AppendAll(ctx, parts[0], parts[0]); err == nil {
		t.Fatal("one stream in two parts was accepted")
	}
}

func atomicConflict(t *testing.T, a Adapter) {
	s, m := multi(t, a)
	p := prefix()
	if _, err := s.Append(ctx, p+"a", eventstore.NoStream, ev("A", 1)); err != nil {
		t.Fatal(err)
	}
	taken := ev("Once", 1)
	if _, err := s.Append(ctx, p+"c", eventstore.NoStream, taken); err != nil {
		t.Fatal(err)
	}
	for name, parts := range map[string][]eventstore.Part{
		"stale version": {
			{Stream: p + "b", Expected: eventstore.NoStream, Events: []eventstore.Event{ev("B", 1)}},
			{Stream: p + "a", Expected: eventstore.NoStream, Events: []eventstore.Event{ev("A", 2)}},
		},
		"a retry of one part beside a new one": {
			{Stream: p + "b", Expected: eventstore.NoStream, Events: []eventstore.Event{ev("B", 1)}},
			{Stream: p + "c", Expected: eventstore.NoStream, Events: []eventstore.Event{taken}},
		},
		"id stored elsewhere": {
			{Stream: p + "b", Expected: eventstore.NoStream, Events: []eventstore.Event{ev("B", 1)}},
			{Stream: p + "a", Expected: eventstore.Exactly(1), Events: []eventstore.Event{ev("A", 2), taken}},
		},
	} {
		if _, err := m.AppendAll(ctx, parts...); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if got, _ := s.ReadStream(ctx, p+"b", 0); len(got) != 0 {
			t.Errorf("%s: the refused append wrote %d events to the other stream", name, len(got))
		}
		if got, _ := s.ReadStream(ctx, p+"a", 0); len(got) != 1 {
			t.Errorf("%s: stream a holds %d events, want 1", name, len(got))
		}
	}
}

// Writers racing for one stream, each with a stream of its own beside it:
// exactly one wins, and no loser leaves anything in its own stream.
func atomicConcurrent(t *testing.T, a Adapter) {
	s, m := multi(t, a)
	p := prefix()
	const n = 16
	var wg sync.WaitGroup
	var won atomic.Int32
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := m.AppendAll(ctx,
				eventstore.Part{Stream: fmt.Sprintf("%sown%d", p, i), Expected: eventstore.NoStream, Events: []eventstore.Event{ev("Own", i)}},
				eventstore.Part{Stream: p + "shared", Expected: eventstore.NoStream, Events: []eventstore.Event{ev("Shared", i)}})
			switch {
			case err == nil:
				won.Add(1)
			case !errors.Is(err, eventstore.ErrConflict):
				t.Errorf("writer %d: %v, want a conflict", i, err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d writers won, want 1", won.Load())
	}
	if got := readAllWithPrefix(t, s, 0, p); len(got) != 2 {
		t.Fatalf("the log holds %d of our events, want the winner's 2", len(got))
	}
}
