package command_test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/domain/idnumber"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/eventstore/memstore"
	"github.com/servicehall/servicehall/eventstore/pgstore"
	"github.com/servicehall/servicehall/internal/testenv"
)

// plain hides a store's atomic append: the path KurrentDB takes, where a
// multi-stream command writes stream by stream and undoes on refusal.
type plain struct{ eventstore.Store }

// everyStore runs f against each store a multi-stream command can meet.
// Each run gets a station and a resident key of its own, so runs can share
// a PostgreSQL database.
func everyStore(t *testing.T, f func(t *testing.T, store eventstore.Store, station string, key []byte)) {
	open := map[string]func(t *testing.T) eventstore.Store{
		"memory":           func(t *testing.T) eventstore.Store { return memstore.New() },
		"memory-no-atomic": func(t *testing.T) eventstore.Store { return plain{memstore.New()} },
		"sqlite":           openStore,
		"postgres": func(t *testing.T) eventstore.Store {
			s, err := pgstore.Open(ctx, testenv.Postgres(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
	for _, name := range []string{"memory", "memory-no-atomic", "sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := make([]byte, 8)
			rand.Read(b)
			key := append([]byte("places-test-key-"), b...)
			f(t, open[name](t), "st"+hex.EncodeToString(b), key)
		})
	}
}

func hallWith(t *testing.T, store eventstore.Store, key []byte) *command.Hall {
	t.Helper()
	hl, err := command.NewHall(handler(t, store), loc, domain.DefaultPolicy, command.Keys{Reference: key, Seal: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return hl
}

// slots releases n consecutive half-hour slots on day, from 14:00.
func slots(t *testing.T, store eventstore.Store, station string, day calendar.Date, n, online int) []domain.SlotSpec {
	t.Helper()
	out := make([]domain.SlotSpec, n)
	for i := range out {
		start := domain.Clock(14*60 + 30*i)
		out[i] = domain.SlotSpec{Station: station, Service: "birth", Date: day, Start: start, End: start + 30, Capacity: online}
		release(t, store, out[i])
	}
	return out
}

func person(i int) domain.Applicant {
	first := fmt.Sprintf("320102%d%02d%02d%03d", 1960+i%40, 1+i%12, 1+i%28, i%1000)
	return domain.Applicant{Name: "居民", IDNumber: first + string(idnumber.CheckDigit(first)), Phone: fmt.Sprintf("137%08d", i)}
}

// placesOf lists, for each slot, the appointments holding a place in it.
func placesOf(t *testing.T, store eventstore.Store, specs []domain.SlotSpec) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, s := range specs {
		sl, _, err := command.Load[domain.Slot](ctx, store, s.Stream())
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range sl.Holders() {
			out[id] = append(out[id], s.Stream())
		}
	}
	return out
}

func noOrphans(t *testing.T, store eventstore.Store) {
	t.Helper()
	orphans, err := command.Orphans(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	if len(orphans) > 0 {
		for _, o := range orphans {
			for _, st := range []string{o.Stream, domain.AppointmentStream(o.AppointmentID)} {
				recs, _ := store.ReadStream(ctx, st, 0)
				for _, r := range recs {
					t.Logf("DEBUG p%d %s v%d %s %.120s", r.Position, st, r.Version, r.Type, r.Data)
				}
			}
		}
		t.Fatalf("%d places or holds owned by no live appointment: %+v", len(orphans), orphans)
	}
}

// Eight reschedules of one appointment at once, through two handlers as
// two processes would: at most one wins, and the appointment holds exactly
// one place, the one it is in. After a cancel, every place is free.
func TestConcurrentReschedulesLeaveOneWinner(t *testing.T) {
	everyStore(t, func(t *testing.T, store eventstore.Store, station string, key []byte) {
		day := calendar.DateOf(now).AddDays(2)
		specs := slots(t, store, station, day, 9, 2)
		halls := []*command.Hall{hallWith(t, store, key), hallWith(t, store, key)}
		a1 := station + "-a-1"
		if _, err := halls[0].Book(ctx, booking(a1, specs[0], resident), command.Meta{At: now}); err != nil {
			t.Fatal(err)
		}
		seen := &command.When{Date: day, Start: specs[0].Start}
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = halls[i%2].Reschedule(ctx, a1, command.When{Date: day, Start: specs[i+1].Start}, seen, command.Meta{At: now})
			}()
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, domain.ErrState):
				t.Errorf("reschedule %d: %v, want success or a refusal", i, err)
			}
		}
		if won > 1 {
			t.Fatalf("%d concurrent reschedules won, want at most one", won)
		}
		a, _, err := command.Load[domain.Appointment](ctx, store, domain.AppointmentStream(a1))
		if err != nil {
			t.Fatal(err)
		}
		places := placesOf(t, store, specs)[a1]
		if want := domain.SlotStream(station, a.Date, a.Start, "birth"); len(places) != 1 || places[0] != want {
			t.Fatalf("the appointment in %s holds places %v", want, places)
		}
		noOrphans(t, store)
		if _, err := halls[1].Cancel(ctx, a1, "test", command.Meta{At: now}); err != nil {
			t.Fatal(err)
		}
		if left := placesOf(t, store, specs); len(left) != 0 {
			t.Fatalf("places still held after the cancel: %v", left)
		}
		noOrphans(t, store)
	})
}

// A reschedule into a full slot is refused and writes nothing.
func TestRescheduleIntoAFullSlotChangesNothing(t *testing.T) {
	everyStore(t, func(t *testing.T, store eventstore.Store, station string, key []byte) {
		day := calendar.DateOf(now).AddDays(2)
		specs := slots(t, store, station, day, 2, 1)
		hl := hallWith(t, store, key)
		a1, a2 := station+"-a-1", station+"-a-2"
		if _, err := hl.Book(ctx, booking(a1, specs[0], person(1)), command.Meta{At: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := hl.Book(ctx, booking(a2, specs[1], person(2)), command.Meta{At: now}); err != nil {
			t.Fatal(err)
		}
		head, _ := store.Head(ctx)
		if _, err := hl.Reschedule(ctx, a1, command.When{Date: day, Start: specs[1].Start}, nil, command.Meta{At: now}); !errors.Is(err, domain.ErrFull) {
			t.Fatalf("reschedule into a full slot: %v, want full", err)
		}
		if after, _ := store.Head(ctx); after != head {
			t.Fatalf("the refused reschedule wrote %d events", after-head)
		}
		if p := placesOf(t, store, specs); len(p[a1]) != 1 || p[a1][0] != specs[0].Stream() {
			t.Fatalf("places after the refusal: %v", p)
		}
	})
}

// Residents book, cancel, reschedule and check in at once, through two
// handlers: afterwards no place and no hold is left without its owner, and
// every live appointment holds the place it is in.
func TestConcurrentBookingWorkNeverOrphansAPlace(t *testing.T) {
	everyStore(t, func(t *testing.T, store eventstore.Store, station string, key []byte) {
		day := calendar.DateOf(now)
		specs := slots(t, store, station, day, 4, 3)
		halls := []*command.Hall{hallWith(t, store, key), hallWith(t, store, key)}
		birth := domain.Service{ID: "birth", Category: domain.Household}
		const workers, steps = 6, 25
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := mrand.New(mrand.NewPCG(uint64(w), 7))
				for i := range steps {
					hl := halls[rng.IntN(2)]
					id := fmt.Sprintf("%s-a-%d", station, rng.IntN(workers*steps/3))
					s := specs[rng.IntN(len(specs))]
					var err error
					switch rng.IntN(4) {
					case 0:
						_, err = hl.Book(ctx, booking(id, s, person(w*steps+i)), command.Meta{At: now})
					case 1:
						_, err = hl.Cancel(ctx, id, "changed plans", command.Meta{At: now})
					case 2:
						_, err = hl.Reschedule(ctx, id, command.When{Date: day, Start: s.Start}, nil, command.Meta{At: now})
					case 3:
						_, _, err = hl.CheckIn(ctx, id, birth, command.Meta{At: time.Date(2025, 10, 9, 14, 30, 0, 0, loc)})
					}
					if err != nil && !errors.Is(err, domain.ErrState) && !errors.Is(err, domain.ErrNotFound) &&
						!errors.Is(err, domain.ErrFull) && !errors.Is(err, domain.ErrLimit) {
						t.Errorf("step %d of worker %d: %v", i, w, err)
					}
				}
			}()
		}
		wg.Wait()
		noOrphans(t, store)
		places := placesOf(t, store, specs)
		for i := range workers * steps / 3 {
			id := fmt.Sprintf("%s-a-%d", station, i)
			a, _, err := command.Load[domain.Appointment](ctx, store, domain.AppointmentStream(id))
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if a.Exists() && a.Status != domain.Cancelled {
				want = 1
			}
			if len(places[id]) != want {
				t.Errorf("%s (%s) holds %d places, want %d", id, a.Status, len(places[id]), want)
			}
		}
	})
}

// A crash between a booking's streams, on a store without atomic appends,
// leaves a place and a hold owned by nobody: the recovery gives both back
// once they are older than the settling time, and only once.
func TestRecoverGivesBackWhatACrashLeft(t *testing.T) {
	store := plain{memstore.New()}
	h := handler(t, store)
	release(t, store, spec)
	hl, err := command.NewHall(h, loc, domain.DefaultPolicy, command.Keys{Reference: []byte("recover-test-key-0123"), Seal: []byte("recover-test-key-0123")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hl.Book(ctx, booking("kept", spec, person(1)), command.Meta{At: now}); err != nil {
		t.Fatal(err)
	}
	// The first two steps of a booking, then the crash.
	if _, err := command.Execute(ctx, h, spec.Stream(), command.Meta{At: now}, func(s *domain.Slot) ([]domain.Event, error) {
		return s.Book("ghost", "ref-1", now)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := command.Execute(ctx, h, domain.AccountStream("ref-1"), command.Meta{At: now}, func(r *domain.Resident) ([]domain.Event, error) {
		return r.Hold("ghost", "ref-1", "birth", spec.Date, now, domain.DefaultPolicy)
	}); err != nil {
		t.Fatal(err)
	}
	orphans, err := command.Orphans(ctx, store)
	if err != nil || len(orphans) != 2 {
		t.Fatalf("orphans = %+v, %v; want the ghost's place and hold", orphans, err)
	}
	if n, err := hl.Recover(ctx, 2*time.Minute, command.Meta{At: now.Add(time.Minute)}); err != nil || n != 0 {
		t.Fatalf("a minute later the recovery gave back %d, %v; want 0 (it may still be under way)", n, err)
	}
	later := command.Meta{At: now.Add(5 * time.Minute), CommandID: "recover-1"}
	if n, err := hl.Recover(ctx, 2*time.Minute, later); err != nil || n != 2 {
		t.Fatalf("the recovery gave back %d, %v; want 2", n, err)
	}
	noOrphans(t, store)
	if p := placesOf(t, store, []domain.SlotSpec{spec}); len(p) != 1 || len(p["kept"]) != 1 {
		t.Fatalf("places after the recovery: %v, want only the live appointment's", p)
	}
	if n, err := hl.Recover(ctx, 2*time.Minute, later); err != nil || n != 0 {
		t.Fatalf("a second recovery gave back %d, %v", n, err)
	}
}
