package projections_test

import (
	"maps"
	"testing"

	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/eventstore/memstore"
	"github.com/servicehall/servicehall/internal/sample"
	"github.com/servicehall/servicehall/projections"
)

// Views follow one log: views built past the head of a log restored from
// an older backup, or built from another log, are named by Check, and a
// Reset leaves them equal to views built fresh from the log at hand.
func TestViewsFollowTheirLog(t *testing.T) {
	t.Parallel()
	full := openLog(t)
	n := generate(t, full, 3_000)
	views := openViews(t)
	live, err := projections.NewEngine(ctx, full, views, projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := live.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := live.MarkLog(ctx); err != nil {
		t.Fatal(err)
	}
	if stale, err := live.Check(ctx); err != nil || len(stale) != 0 {
		t.Fatalf("views caught up on their own log: stale %v, %v", stale, err)
	}

	// The backup: the log's first half, as a restore brings it back.
	backup := memstore.New()
	recs, err := full.ReadAll(ctx, 0, n/2)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if _, err := backup.Append(ctx, r.Stream, -1, r.Event); err != nil {
			t.Fatal(err)
		}
	}
	restored, err := projections.NewEngine(ctx, backup, views, projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	stale, err := restored.Check(ctx)
	if err != nil || len(stale) != len(restored.Names()) {
		t.Fatalf("views past the restored log's head: stale %v, %v; want all", stale, err)
	}
	if ahead, _ := restored.Ahead(ctx, "queue"); !ahead {
		t.Fatal("the queue view does not read as ahead of the restored log")
	}
	if err := restored.Reset(ctx, stale, nil); err != nil {
		t.Fatal(err)
	}
	if stale, _ := restored.Check(ctx); len(stale) != 0 {
		t.Fatalf("after the reset: stale %v", stale)
	}
	fresh, err := projections.NewEngine(ctx, backup, projections.NewMemory(), projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range restored.Names() {
		tables := fresh.Tables(name) // every table a full build writes
		if got, want := dump(t, restored, name, tables...), dump(t, fresh, name, tables...); len(want) == 0 || !maps.Equal(got, want) {
			t.Errorf("%s after the reset differs from a fresh build (%d and %d documents)", name, len(got), len(want))
		}
	}

	// Another log altogether: every view is named.
	other := openLog(t)
	generateSeed(t, other, 500, 99)
	elsewhere, err := projections.NewEngine(ctx, other, views, projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := restored.MarkLog(ctx); err != nil {
		t.Fatal(err)
	}
	if stale, err := elsewhere.Check(ctx); err != nil || len(stale) != len(elsewhere.Names()) {
		t.Fatalf("views of another log: stale %v, %v; want all", stale, err)
	}
}

// generateSeed writes about n sample events of another seed.
func generateSeed(t testing.TB, log eventstore.Store, n int, seed uint64) {
	t.Helper()
	l, err := sample.Generate(n, calendar.Date{Year: 2025, Month: 9, Day: 22}, seed, loc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, log); err != nil {
		t.Fatal(err)
	}
}
