package command_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/eventstore/memstore"
	"github.com/servicehall/servicehall/eventstore/sqlitestore"
)

var ctx = context.Background()

func openStore(t *testing.T) eventstore.Store {
	t.Helper()
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func handler(t *testing.T, s eventstore.Store) *command.Handler {
	t.Helper()
	h, err := command.New(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var (
	loc, _ = time.LoadLocation("Asia/Shanghai")
	now    = time.Date(2025, 10, 9, 10, 0, 0, 0, loc)
	spec   = domain.SlotSpec{Station: "gulou", Service: "birth", Date: calendar.Date{Year: 2025, Month: 10, Day: 11},
		Start: 9 * 60, End: 9*60 + 30, Capacity: 100}
	staff = command.Meta{Actor: eventstore.Actor{ID: "u-1", Role: "staff"}, At: now}
)

// A thousand residents race for a hundred places, through two handlers with
// caches of their own as two processes would have: exactly a hundred get in.
func TestNoOverbookingUnderConcurrency(t *testing.T) {
	store := openStore(t)
	handlers := []*command.Handler{handler(t, store), handler(t, store)}
	if _, err := command.Execute(ctx, handlers[0], spec.Stream(), staff, func(s *domain.Slot) ([]domain.Event, error) {
		return s.Release(spec, loc)
	}); err != nil {
		t.Fatal(err)
	}
	var booked, full atomic.Int32
	var wg sync.WaitGroup
	for i := range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := command.Meta{Actor: eventstore.Actor{ID: fmt.Sprintf("r-%d", i), Role: "resident"}, At: now}
			_, err := command.Execute(ctx, handlers[i%2], spec.Stream(), m, func(s *domain.Slot) ([]domain.Event, error) {
				return s.Book(fmt.Sprintf("a-%d", i), fmt.Sprintf("r-%d", i), now)
			})
			switch {
			case err == nil:
				booked.Add(1)
			case errors.Is(err, domain.ErrFull):
				full.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if booked.Load() != 100 || full.Load() != 900 {
		t.Fatalf("%d booked, %d refused as full; want 100 and 900", booked.Load(), full.Load())
	}
	recs, err := store.ReadStream(ctx, spec.Stream(), 0)
	if err != nil {
		t.Fatal(err)
	}
	inLog := 0
	for _, r := range recs {
		if r.Type == "SlotBooked" {
			inLog++
		}
	}
	if inLog != 100 {
		t.Fatalf("the log holds %d bookings, want 100", inLog)
	}
}

func TestEnvelopeAndDeterministicIDs(t *testing.T) {
	store := openStore(t)
	h := handler(t, store)
	m := staff
	m.CommandID, m.CorrelationID, m.CausationID = "job-release-2025-10-09", "corr-9", "cause-9"
	release := func(s *domain.Slot) ([]domain.Event, error) { return s.Release(spec, loc) }
	first, err := command.Execute(ctx, h, spec.Stream(), m, release)
	if err != nil || len(first.Events) != 1 || first.Position == 0 {
		t.Fatalf("first = %+v, %v", first, err)
	}
	// Another replica runs the same tick with a cold cache, and appends
	// regardless of what its state says: the store sees the same ids.
	other := handler(t, store)
	again, err := command.Execute(ctx, other, spec.Stream(), m, func(*domain.Slot) ([]domain.Event, error) {
		return []domain.Event{first.Events[0]}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := store.ReadStream(ctx, spec.Stream(), 0)
	if len(recs) != 1 || again.Position != first.Position {
		t.Fatalf("the repeated command left %d events (positions %d, %d), want 1", len(recs), first.Position, again.Position)
	}
	r := recs[0]
	if r.Actor != m.Actor || r.CorrelationID != "corr-9" || r.CausationID != "cause-9" || !r.OccurredAt.Equal(now) || r.Schema != 1 || r.Type != "SlotReleased" {
		t.Fatalf("envelope = %+v", r)
	}
}

func TestRefusalWritesNothingAndReadsFreshState(t *testing.T) {
	store := openStore(t)
	a, b := handler(t, store), handler(t, store)
	one := spec
	one.Capacity = 1
	book := func(id string) func(*domain.Slot) ([]domain.Event, error) {
		return func(s *domain.Slot) ([]domain.Event, error) { return s.Book(id, "r-"+id, now) }
	}
	if _, err := command.Execute(ctx, a, one.Stream(), staff, func(s *domain.Slot) ([]domain.Event, error) { return s.Release(one, loc) }); err != nil {
		t.Fatal(err)
	}
	if _, err := command.Execute(ctx, a, one.Stream(), staff, book("x")); err != nil {
		t.Fatal(err)
	}
	head, _ := store.Head(ctx)
	if _, err := command.Execute(ctx, b, one.Stream(), staff, book("y")); !errors.Is(err, domain.ErrFull) {
		t.Fatalf("second booking: %v, want full", err)
	}
	if after, _ := store.Head(ctx); after != head {
		t.Fatalf("a refused command moved the log from %d to %d", head, after)
	}
	// b frees the place (after the return delay); a's cache says full, but
	// a refusal is only given on fresh state.
	if _, err := command.Execute(ctx, b, one.Stream(), staff, func(s *domain.Slot) ([]domain.Event, error) { return s.Free("x", now, 0) }); err != nil {
		t.Fatal(err)
	}
	if _, err := command.Execute(ctx, a, one.Stream(), staff, book("z")); err != nil {
		t.Fatalf("booking a freed place through a stale cache: %v", err)
	}
}

func TestNewRefusesNilStore(t *testing.T) {
	if _, err := command.New(nil); err == nil {
		t.Fatal("New(nil) succeeded")
	}
}

// Commands queued on one stream are decided in order and written
// together; each is answered with its own events, version and position,
// as the log holds them, and a refusal among them writes nothing of its own.
func TestQueuedCommandsGetTheirOwnResults(t *testing.T) {
	store := openStore(t)
	h := handler(t, store)
	const n = 200
	type answer struct {
		ticket string
		res    command.Result
		err    error
	}
	answers := make(chan answer, n+1)
	var wg sync.WaitGroup
	for i := range n + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ticket := fmt.Sprintf("t-%03d", i)
			if i == n {
				ticket = "t-000" // a second issue of a ticket issued: nothing to write
			}
			res, err := command.Execute(ctx, h, "queue-gulou-2025-10-13", staff, func(q *domain.Queue) ([]domain.Event, error) {
				if i == n/2 {
					return nil, fmt.Errorf("%w: refused on purpose", domain.ErrState)
				}
				return q.Issue(ticket, "birth", "A", domain.Normal, "", false, now)
			})
			answers <- answer{ticket, res, err}
		}()
	}
	wg.Wait()
	close(answers)
	recs, err := store.ReadStream(ctx, "queue-gulou-2025-10-13", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n-1 {
		t.Fatalf("the stream holds %d events, want %d (one refused)", len(recs), n-1)
	}
	seen := map[uint64]bool{}
	for a := range answers {
		switch {
		case a.ticket == fmt.Sprintf("t-%03d", n/2):
			if !errors.Is(a.err, domain.ErrState) || len(a.res.Events) != 0 {
				t.Fatalf("the refused command: %+v %v", a.res, a.err)
			}
		case a.err != nil:
			t.Fatalf("%s: %v", a.ticket, a.err)
		case len(a.res.Events) == 0: // the repeated issue, or the first one if it came second
			if a.res.Version == 0 || a.res.Position == 0 {
				t.Fatalf("%s wrote nothing and was answered %+v", a.ticket, a.res)
			}
		default:
			r := recs[a.res.Version-1]
			e, _ := domain.Decode(r.Type, r.Data)
			if r.Position != a.res.Position || e.(domain.TicketIssued).TicketID != a.ticket || seen[a.res.Version] {
				t.Fatalf("%s answered version %d position %d; the log holds %s at %d", a.ticket, a.res.Version, a.res.Position, e.(domain.TicketIssued).TicketID, r.Position)
			}
			seen[a.res.Version] = true
		}
	}
}

// A refusal is decided on what the stream holds now, even when this
// handler refused the same thing a moment ago and another process (another
// cache) has since changed the stream.
func TestARefusalIsNotRepeatedFromACache(t *testing.T) {
	store := openStore(t)
	a, b := handler(t, store), handler(t, store)
	birth := domain.Service{ID: "birth", Name: "Birth", NameZh: "出生登记", Category: domain.Household, TimeLimitDays: 20}
	cat := map[string]domain.Service{"birth": birth}
	if _, err := command.Execute(ctx, b, "station-gulou", staff, func(s *domain.Station) ([]domain.Event, error) {
		return s.Register(domain.StationRegistered{ID: "gulou", Name: "鼓楼派出所"})
	}); err != nil {
		t.Fatal(err)
	}
	hasW2 := func(s *domain.Station) ([]domain.Event, error) {
		if _, ok := s.Counter("w2"); !ok {
			return nil, fmt.Errorf("%w: counter w2", domain.ErrNotFound)
		}
		return nil, nil
	}
	if _, err := command.Execute(ctx, a, "station-gulou", staff, hasW2); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("before the counter exists: %v", err)
	}
	if _, err := command.Execute(ctx, b, "station-gulou", staff, func(s *domain.Station) ([]domain.Event, error) {
		return s.AddCounter(domain.Counter{ID: "w2", Name: "2号窗口", ServiceIDs: []string{"birth"}}, cat)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := command.Execute(ctx, a, "station-gulou", staff, hasW2); err != nil {
		t.Fatalf("after another handler added it: %v", err)
	}
}

// A decision sees the cached state only through copies: what it does to
// them changes nothing for the next command.
func TestDecisionsCannotChangeTheCachedState(t *testing.T) {
	h := handler(t, memstore.New())
	stream := domain.QueueStream("gulou", calendar.DateOf(now))
	if _, err := command.Execute(ctx, h, stream, staff, func(q *domain.Queue) ([]domain.Event, error) {
		return q.Issue("t1", "birth", "A", domain.Normal, "", false, now)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := command.Execute(ctx, h, stream, staff, func(q *domain.Queue) ([]domain.Event, error) {
		tk, _ := q.Ticket("t1")
		tk.State = domain.Done
		for i := range q.Waiting() {
			q.Waiting()[i].State = domain.Done
		}
		all := q.Tickets()
		all[0].State = domain.Done
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	var state domain.TicketState
	command.Execute(ctx, h, stream, staff, func(q *domain.Queue) ([]domain.Event, error) {
		tk, _ := q.Ticket("t1")
		state = tk.State
		return nil, nil
	})
	if state != domain.Waiting {
		t.Fatalf("the cached ticket is %q after a decision played with its copy, want waiting", state)
	}
}
