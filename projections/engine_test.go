package projections_test

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/eventstore/sqlitestore"
	"github.com/servicehall/servicehall/internal/sample"
	"github.com/servicehall/servicehall/projections"
	"github.com/servicehall/servicehall/projections/sqlviews"
)

var (
	ctx    = context.Background()
	loc, _ = time.LoadLocation("Asia/Shanghai")
	quiet  = slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
)

func openLog(t testing.TB) eventstore.Store {
	t.Helper()
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openViews(t testing.TB) projections.Store {
	t.Helper()
	s, err := sqlviews.OpenSQLite(filepath.Join(t.TempDir(), "views.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func generate(t testing.TB, log eventstore.Store, n int) int {
	t.Helper()
	l, err := sample.Generate(n, calendar.Date{Year: 2025, Month: 9, Day: 22}, 7, loc)
	if err != nil {
		t.Fatal(err)
	}
	written, err := l.Append(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	return written
}

// dump reads every document of a projection's live generation, without the
// generation in the namespace, so two generations compare.
func dump(t testing.TB, e *projections.Engine, name string, tables ...string) map[string]string {
	t.Helper()
	out, err := e.Dump(ctx, name, tables)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Views built live, a few events at a time, equal views rebuilt from the
// log in large batches, on a generated log with events of every type.
// 15 000 events is the least that holds warnings and escalations.
func TestRebuiltEqualsLive(t *testing.T) { rebuiltEqualsLive(t, 15_000) }

// The same on 100 000 events, as a benchmark of building views live and
// then rebuilding them: go test ./projections -bench RebuiltEqualsLive.
func BenchmarkRebuiltEqualsLive(b *testing.B) {
	for b.Loop() {
		rebuiltEqualsLive(b, 100_000)
	}
	b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "events/s")
}

func rebuiltEqualsLive(t testing.TB, size int) {
	log := openLog(t)
	n := generate(t, log, size)
	all, err := log.ReadAll(ctx, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range all {
		seen[r.Type] = true
	}
	for _, typ := range domain.EventTypes() {
		if !seen[typ] {
			t.Errorf("the generated log holds no %s: the comparison would not cover it", typ)
		}
	}
	e, err := projections.NewEngine(ctx, log, openViews(t), projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for from := uint64(0); ; {
		recs, err := log.ReadAll(ctx, from, 1+rng.IntN(400))
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		for _, name := range e.Names() {
			if err := e.Handle(ctx, name, recs); err != nil {
				t.Fatal(err)
			}
		}
		from = recs[len(recs)-1].Position
	}
	head, _ := log.Head(ctx)
	live := map[string]map[string]string{}
	tables := map[string][]string{}
	for _, name := range e.Names() {
		tables[name] = e.Tables(name) // every table written, so none is left out of the comparison
		if e.Position(name) != head {
			t.Fatalf("%s at %d, head %d", name, e.Position(name), head)
		}
		live[name] = dump(t, e, name, tables[name]...)
		if len(live[name]) == 0 {
			t.Fatalf("%s is empty after %d events", name, n)
		}
	}
	// The batched feed: the same events appended to another log while the
	// feed runs, in the same order, so at the same positions.
	fed := feedCopy(t, all)
	for _, name := range e.Names() {
		if got := dump(t, fed, name, tables[name]...); !maps.Equal(got, live[name]) {
			for k, v := range live[name] {
				if got[k] != v {
					t.Fatalf("%s %s differs:\nlive %s\nfed  %s", name, k, v, got[k])
				}
			}
			t.Fatalf("%s: %d documents fed, %d live", name, len(got), len(live[name]))
		}
	}
	if err := e.Rebuild(ctx, e.Names(), nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range e.Names() {
		if !strings.HasPrefix(e.NS(name, "x"), name+"/2/") {
			t.Fatalf("%s not swapped to generation 2: %s", name, e.NS(name, "x"))
		}
		rebuilt := dump(t, e, name, tables[name]...)
		if len(rebuilt) != len(live[name]) {
			t.Fatalf("%s: %d documents rebuilt, %d live", name, len(rebuilt), len(live[name]))
		}
		for k, v := range live[name] {
			if rebuilt[k] != v {
				t.Fatalf("%s %s differs:\nlive    %s\nrebuilt %s", name, k, v, rebuilt[k])
			}
		}
		if old, _ := e.Store().Scan(ctx, name+"/1/"+tables[name][0], "", ""); len(old) != 0 {
			t.Fatalf("%s: generation 1 left %d documents", name, len(old))
		}
		if e.Position(name) != head {
			t.Fatalf("%s at %d after rebuild, head %d", name, e.Position(name), head)
		}
	}
	t.Logf("%d events, %d projections rebuilt equal", n, len(e.Names()))
}

// feedCopy appends recs to a new log while the feed runs on it, in runs of
// distinct streams (one multi-stream append each), and answers the engine
// once its views have read them all.
func feedCopy(t testing.TB, recs []eventstore.Record) *projections.Engine {
	t.Helper()
	log := openLog(t)
	e, err := projections.NewEngine(ctx, log, openViews(t), projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- projections.RunFeed(fctx, e, log, projections.GoChannel(quiet), quiet) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("feed: %v", err)
		}
	}()
	var parts []eventstore.Part
	in := map[string]int{}
	flush := func() {
		if _, err := log.(eventstore.Atomic).AppendAll(ctx, parts...); err != nil {
			t.Fatal(err)
		}
		parts, in = nil, map[string]int{}
	}
	for _, r := range recs {
		i, ok := in[r.Stream]
		if ok && i != len(parts)-1 {
			flush() // the stream again, after another: a new append keeps the order
		}
		if i, ok = in[r.Stream]; ok {
			parts[i].Events = append(parts[i].Events, r.Event)
			continue
		}
		in[r.Stream] = len(parts)
		parts = append(parts, eventstore.Part{Stream: r.Stream, Expected: eventstore.Any, Events: []eventstore.Event{r.Event}})
	}
	flush()
	head, _ := log.Head(ctx)
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	for _, name := range e.Names() {
		if err := e.WaitFor(wctx, name, head); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// twice publishes every message twice, as an at-least-once transport may.
type twice struct{ message.Publisher }

func (p twice) Publish(topic string, msgs ...*message.Message) error {
	for _, m := range msgs {
		if err := p.Publisher.Publish(topic, m, m.Copy()); err != nil {
			return err
		}
	}
	return nil
}

// Events appended while no pump ran (a crash between append and publish)
// reach every view once the feed starts again, each exactly once even when
// the bus delivers twice.
func TestFeedAfterCrashLosesNothingAndDuplicatesNothing(t *testing.T) {
	log := openLog(t)
	views := openViews(t)
	generate(t, log, 3000)
	e, err := projections.NewEngine(ctx, log, views, projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	run := func() (stop func()) {
		bus := projections.GoChannel(quiet)
		bus.Publisher = twice{bus.Publisher}
		fctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- projections.RunFeed(fctx, e, log, bus, quiet) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("feed: %v", err)
			}
		}
	}
	stop := run()
	// More events while the feed runs: the live path.
	more, _ := sample.Generate(3000, calendar.Date{Year: 2026, Month: 3, Day: 2}, 8, loc)
	if _, err := more.Append(ctx, log); err != nil {
		t.Fatal(err)
	}
	head, _ := log.Head(ctx)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, name := range e.Names() {
		if err := e.WaitFor(wctx, name, head); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	// The pump is down; the log grows; then a new engine (a restart) reads
	// its checkpoints and the feed picks up what was never published.
	later, _ := sample.Generate(2000, calendar.Date{Year: 2026, Month: 6, Day: 1}, 9, loc)
	if _, err := later.Append(ctx, log); err != nil {
		t.Fatal(err)
	}
	e, err = projections.NewEngine(ctx, log, views, projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	if e.Position("audit") != head {
		t.Fatalf("checkpoint after restart %d, want %d", e.Position("audit"), head)
	}
	stop = run()
	defer stop()
	head, _ = log.Head(ctx)
	for _, name := range e.Names() {
		if err := e.WaitFor(wctx, name, head); err != nil {
			t.Fatal(err)
		}
	}
	// Exactly once: the audit trail holds one entry per event (each has an
	// actor), the queue counts each ticket once.
	entries := auditMarks(t, views, e.NS("audit", "by-actor"))
	total := 0
	for from := uint64(0); ; {
		recs, _ := log.ReadAll(ctx, from, 5000)
		if len(recs) == 0 {
			break
		}
		total += len(recs)
		from = recs[len(recs)-1].Position
	}
	if entries != total {
		t.Fatalf("audit holds %d entries for %d events", entries, total)
	}
	days, _ := projections.Scan[projections.DayView](ctx, views, e.NS("queue", "days"), "", "")
	for _, d := range days {
		date, _ := calendar.ParseDate(d.Date)
		full, err := projections.DayOf(ctx, e, d.Station, date)
		if err != nil {
			t.Fatal(err)
		}
		if d.Stats.Tickets != len(full.Tickets) {
			t.Fatalf("%s/%s counts %d tickets, holds %d", d.Station, d.Date, d.Stats.Tickets, len(full.Tickets))
		}
	}
	if len(days) == 0 {
		t.Fatal("the queue view holds no days")
	}
}

// BenchmarkRebuild rebuilds every projection from a generated log; one op
// is one event.
func BenchmarkRebuild(b *testing.B) {
	log := openLog(b)
	n := generate(b, log, 50_000)
	e, err := projections.NewEngine(ctx, log, openViews(b), projections.All()...)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N / n {
		if err := e.Rebuild(ctx, e.Names(), nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*(b.N/n))/b.Elapsed().Seconds(), "events/s")
}

// auditMarks counts the events the audit's actor index points at, and
// fails on one indexed twice.
func auditMarks(t *testing.T, store projections.Store, ns string) int {
	t.Helper()
	days, err := projections.Scan[[]projections.Mark](ctx, store, ns, "", "")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for _, d := range days {
		for _, m := range d {
			if seen[m.Position] {
				t.Fatalf("the audit indexes event %d twice", m.Position)
			}
			seen[m.Position] = true
		}
	}
	return len(seen)
}
