package command_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore"
)

func hall(t *testing.T, store eventstore.Store) *command.Hall {
	t.Helper()
	hl, err := command.NewHall(handler(t, store), loc, domain.DefaultPolicy, command.Keys{Reference: []byte("0123456789abcdef-test-key"), Seal: []byte("0123456789abcdef-test-key")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return hl
}

var resident = domain.Applicant{Name: "张三", IDNumber: "33050219880702447X", Phone: "13812345678"}

func booking(id string, slot domain.SlotSpec, who domain.Applicant) command.Booking {
	return command.Booking{AppointmentID: id, StationID: slot.Station, ServiceID: slot.Service, Date: slot.Date, Start: slot.Start, Resident: who}
}

func release(t *testing.T, store eventstore.Store, s domain.SlotSpec) {
	t.Helper()
	if _, err := command.Execute(ctx, handler(t, store), s.Stream(), staff, func(sl *domain.Slot) ([]domain.Event, error) {
		return sl.Release(s, loc)
	}); err != nil {
		t.Fatal(err)
	}
}

func types(t *testing.T, store eventstore.Store, stream string) []string {
	t.Helper()
	recs, err := store.ReadStream(ctx, stream, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Type)
	}
	return out
}

func TestBookWritesThreeStreamsAndMasksTheResident(t *testing.T) {
	store := openStore(t)
	release(t, store, spec)
	hl := hall(t, store)
	res, err := hl.Book(ctx, booking("a-1", spec, resident), command.Meta{At: now})
	if err != nil {
		t.Fatal(err)
	}
	booked, _ := command.First[domain.AppointmentBooked](res)
	if booked.Resident.ID != "330***********447X" || booked.Resident.Phone != "138****5678" || booked.Resident.Name != "张*" || booked.End != spec.End {
		t.Fatalf("appointment = %+v", booked)
	}
	checked, _ := resident.Check(now)
	ref := hl.Ref(checked)
	if got := types(t, store, domain.AccountStream(ref)); len(got) != 1 || got[0] != "BookingHeld" {
		t.Fatalf("resident stream = %v", got)
	}
	if got := types(t, store, spec.Stream()); len(got) != 2 || got[1] != "SlotBooked" {
		t.Fatalf("slot stream = %v", got)
	}
	// No event anywhere carries the whole ID number or phone.
	all, _ := store.ReadAll(ctx, 0, 1000)
	for _, r := range all {
		if strings.Contains(string(r.Data), "33050219880702447X") || strings.Contains(string(r.Data), "13812345678") || strings.Contains(r.Stream, "447X") {
			t.Fatalf("%s in %s carries personal data: %s", r.Type, r.Stream, r.Data)
		}
	}
	// Retrying the same booking writes nothing more.
	head, _ := store.Head(ctx)
	if _, err := hl.Book(ctx, booking("a-1", spec, resident), command.Meta{At: now}); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if after, _ := store.Head(ctx); after != head {
		t.Fatalf("a retried booking moved the log from %d to %d", head, after)
	}
}

func TestInvalidResidentReachesNothing(t *testing.T) {
	store := openStore(t)
	release(t, store, spec)
	hl := hall(t, store)
	head, _ := store.Head(ctx)
	for _, id := range []string{"33050219880702447", "330502198807024471", "330502198802304470", "330502880702447", "x"} {
		who := resident
		who.IDNumber = id
		_, err := hl.Book(ctx, booking("a-1", spec, who), command.Meta{At: now})
		var fe *domain.FieldError
		if !errors.Is(err, domain.ErrInvalid) || !errors.As(err, &fe) || fe.Field != "id_number" {
			t.Errorf("ID %q: %v, want an invalid id_number", id, err)
		}
	}
	if after, _ := store.Head(ctx); after != head {
		t.Fatalf("invalid bookings moved the log from %d to %d", head, after)
	}
}

func TestFullSlotWritesNothing(t *testing.T) {
	store := openStore(t)
	two := spec
	two.Capacity = 2
	release(t, store, two)
	hl := hall(t, store)
	if _, err := hl.Book(ctx, booking("a-1", two, resident), command.Meta{At: now}); err != nil {
		t.Fatal(err)
	}
	// Another process (another cache) takes the last place.
	third := domain.Applicant{Name: "王五", IDNumber: "235407195106112745", Phone: "13700000000"}
	if _, err := hall(t, store).Book(ctx, booking("a-3", two, third), command.Meta{At: now}); err != nil {
		t.Fatal(err)
	}
	// This process still sees a place: the slot refuses on what the stream
	// holds, and nothing is written for the refused resident.
	other := domain.Applicant{Name: "李四", IDNumber: "11010519491231002X", Phone: "13912345678"}
	if _, err := hl.Book(ctx, booking("a-2", two, other), command.Meta{At: now}); !errors.Is(err, domain.ErrFull) {
		t.Fatalf("second booking: %v, want full", err)
	}
	checked, _ := other.Check(now)
	if got := types(t, store, domain.AccountStream(hl.Ref(checked))); len(got) != 0 {
		t.Fatalf("the refused resident's stream = %v, want nothing", got)
	}
	// Now it knows the slot is full: the next refusal writes nothing.
	head, _ := store.Head(ctx)
	late := domain.Applicant{Name: "赵六", IDNumber: "210203197503102721", Phone: "13600000000"}
	if _, err := hl.Book(ctx, booking("a-4", two, late), command.Meta{At: now}); !errors.Is(err, domain.ErrFull) {
		t.Fatalf("booking a full slot: %v, want full", err)
	}
	if after, _ := store.Head(ctx); after != head {
		t.Fatalf("a refusal on a full slot wrote %d events", after-head)
	}
	if got := types(t, store, "appointment-a-2"); len(got) != 0 {
		t.Fatalf("a refused booking left an appointment: %v", got)
	}
}

func TestBookingLimitsLeaveTheSlotAlone(t *testing.T) {
	store := openStore(t)
	hl := hall(t, store)
	for i := range 4 {
		s := spec
		s.Start = domain.Clock(8*60 + 30*i)
		s.End = s.Start + 30
		s.Service = fmt.Sprintf("svc-%d", i)
		release(t, store, s)
		_, err := hl.Book(ctx, booking(fmt.Sprintf("a-%d", i), s, resident), command.Meta{At: now})
		if i < 3 && err != nil {
			t.Fatal(err)
		}
		if i == 3 {
			if !errors.Is(err, domain.ErrLimit) {
				t.Fatalf("fourth live booking: %v, want the limit", err)
			}
			if got := types(t, store, s.Stream()); len(got) != 1 {
				t.Fatalf("the slot was touched: %v", got)
			}
		}
	}
}

func TestReleaseFollowsTheCalendarOnce(t *testing.T) {
	store := openStore(t)
	h := handler(t, store)
	setup := command.Setup{
		Services:          []domain.Service{{ID: "birth", Name: "Birth", NameZh: "出生登记", Category: domain.Household, TimeLimitDays: 20}},
		StationRegistered: domain.StationRegistered{ID: "gulou", Name: "鼓楼派出所"},
		Hours: command.Hours{
			Weekly:         []domain.Hours{{Weekday: 1, Start: 9 * 60, End: 10 * 60, ServiceIDs: []string{"birth"}, SlotMinutes: 60, Capacity: 2}},
			WeekendWindows: []domain.Hours{{Weekday: 6, Start: 9 * 60, End: 10 * 60, ServiceIDs: []string{"birth"}, SlotMinutes: 30, Capacity: 2}},
		},
	}
	once := staff
	once.CommandID = "setup-gulou"
	if _, err := hall(t, store).SetUp(ctx, setup, 0, once); err != nil {
		t.Fatal(err)
	}
	// The same setup run again, as a retried request would, writes nothing.
	head, _ := store.Head(ctx)
	if _, err := hall(t, store).SetUp(ctx, setup, 0, once); err != nil {
		t.Fatal(err)
	}
	if after, _ := store.Head(ctx); after != head {
		t.Fatalf("a second setup wrote %d events", after-head)
	}
	ns, _ := calendar.Official()
	cal := calendar.New(ns...)
	from, to := calendar.Date{Year: 2025, Month: 9, Day: 27}, calendar.Date{Year: 2025, Month: 10, Day: 12}
	// Sat 27 Sep, an ordinary Saturday: the window's two half hours. Sun 28
	// Sep, a make-up day: Monday's hour. Mon 29 Sep: one hour. 1-8 Oct are
	// holidays: nothing, not even the window on Saturday 4 Oct. Sat 11 Oct, a
	// make-up day: Monday's hour, not the window. Sun 12 Oct: nothing.
	n, _, err := command.Release(ctx, h, "gulou", from, to, cal, loc, staff)
	if err != nil || n != 5 {
		t.Fatalf("released %d slots, %v; want 5", n, err)
	}
	if got := types(t, store, domain.SlotStream("gulou", calendar.Date{Year: 2025, Month: 10, Day: 4}, 9*60, "birth")); len(got) != 0 {
		t.Fatalf("the window opened on the holiday Saturday 4 Oct: %v", got)
	}
	if got := types(t, store, domain.SlotStream("gulou", calendar.Date{Year: 2025, Month: 10, Day: 11}, 9*60+30, "birth")); len(got) != 0 {
		t.Fatalf("the window's second half hour opened on the make-up Saturday 11 Oct: %v", got)
	}
	if got := types(t, store, domain.SlotStream("gulou", calendar.Date{Year: 2025, Month: 9, Day: 27}, 9*60+30, "birth")); len(got) != 1 {
		t.Fatalf("the ordinary Saturday window 27 Sep was not opened: %v", got)
	}
	head, _ = store.Head(ctx)
	if n, _, err := command.Release(ctx, handler(t, store), "gulou", from, to, cal, loc, staff); err != nil || n != 0 {
		t.Fatalf("second run released %d, %v", n, err)
	}
	if after, _ := store.Head(ctx); after != head {
		t.Fatal("a second release wrote to the log")
	}
}

func TestCheckInIssuesOneTicket(t *testing.T) {
	store := openStore(t)
	release(t, store, spec)
	hl := hall(t, store)
	if _, err := hl.Book(ctx, booking("a-1", spec, resident), command.Meta{At: now}); err != nil {
		t.Fatal(err)
	}
	birth := domain.Service{ID: "birth", Category: domain.Household}
	early := command.Meta{At: time.Date(2025, 10, 10, 9, 0, 0, 0, loc)}
	if _, _, err := hl.CheckIn(ctx, "a-1", birth, early); !errors.Is(err, domain.ErrState) {
		t.Fatalf("check-in the day before: %v", err)
	}
	arrive := command.Meta{At: time.Date(2025, 10, 11, 8, 50, 0, 0, loc)} // ten minutes before the slot
	tk, _, err := hl.CheckIn(ctx, "a-1", birth, arrive)
	if err != nil || tk.Number != "A001" || tk.Position != 0 {
		t.Fatalf("check-in = %+v, %v", tk, err)
	}
	q, _, _ := command.Load[domain.Queue](ctx, store, "queue-gulou-2025-10-11")
	if tkt, ok := q.Ticket(tk.ID); !ok || !tkt.InSlot || tkt.AppointmentID != "a-1" {
		t.Fatalf("queue ticket = %+v", tkt)
	}
	if got := types(t, store, "appointment-a-1"); fmt.Sprint(got) != "[AppointmentBooked AppointmentCheckedIn]" {
		t.Fatalf("appointment stream = %v", got)
	}
	checked, _ := resident.Check(now)
	if got := types(t, store, domain.AccountStream(hl.Ref(checked))); fmt.Sprint(got) != "[BookingHeld BookingEnded]" {
		t.Fatalf("resident stream = %v", got)
	}
	head, _ := store.Head(ctx)
	again, _, err := hl.CheckIn(ctx, "a-1", birth, arrive)
	if !errors.Is(err, domain.ErrState) && (err != nil || again != tk) {
		t.Fatalf("second check-in = %+v, %v", again, err)
	}
	if after, _ := store.Head(ctx); after != head {
		t.Fatal("a second check-in wrote to the log")
	}
}

func TestLateCancellationCountsAsANoShow(t *testing.T) {
	store := openStore(t)
	release(t, store, spec) // 2025-10-11 09:00-09:30
	hl := hall(t, store)
	checked, _ := resident.Check(now)
	holds := domain.AccountStream(hl.Ref(checked))
	for _, c := range []struct {
		id, at string
		want   string
	}{
		{"a-early", "2025-10-11 08:59", "[BookingHeld BookingEnded]"},
		{"a-late", "2025-10-11 09:10", "[BookingHeld BookingEnded BookingHeld NoShowCounted]"},
	} {
		if _, err := hl.Book(ctx, booking(c.id, spec, resident), command.Meta{At: now}); err != nil {
			t.Fatal(err)
		}
		when, _ := time.ParseInLocation("2006-01-02 15:04", c.at, loc)
		if _, err := hl.Cancel(ctx, c.id, "plans changed", command.Meta{At: when}); err != nil {
			t.Fatal(err)
		}
		// A retry decides as the first try did.
		if _, err := hl.Cancel(ctx, c.id, "plans changed", command.Meta{At: when}); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(types(t, store, holds)); got != c.want {
			t.Fatalf("cancelled at %s: the account holds %s, want %s", c.at, got, c.want)
		}
	}
}

func TestErasureAfterTheStartIsNoNoShow(t *testing.T) {
	store := openStore(t)
	release(t, store, spec) // 2025-10-11 09:00-09:30
	hl := hall(t, store)
	checked, _ := resident.Check(now)
	if _, err := hl.Book(ctx, booking("a-erased", spec, resident), command.Meta{At: now}); err != nil {
		t.Fatal(err)
	}
	after := time.Date(2025, 10, 11, 9, 10, 0, 0, loc)
	if n, err := hl.Erase(ctx, []string{hl.Ref(checked)}, []string{"a-erased"}, command.Meta{At: after}); err != nil || n != 1 {
		t.Fatalf("erase: %d, %v", n, err)
	}
	if got := fmt.Sprint(types(t, store, domain.AccountStream(hl.Ref(checked)))); got != "[BookingHeld BookingEnded]" {
		t.Fatalf("the account after an erasure: %s, want the hold ended, not a no-show", got)
	}
}

func TestSealedDetailsOpenOnlyForTheirResident(t *testing.T) {
	hl := hall(t, openStore(t))
	checked, err := resident.Check(now)
	if err != nil {
		t.Fatal(err)
	}
	p, err := hl.Person(ctx, checked)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "330***********447X" || p.Phone != "138****5678" || strings.Contains(string(p.Sealed), "447X") {
		t.Fatalf("person %+v keeps details in clear", p)
	}
	full, err := hl.Unseal(ctx, p)
	if err != nil || full != resident {
		t.Fatalf("unsealed %+v, %v; want %+v", full, err, resident)
	}
	moved := p
	moved.Ref = "someone-else"
	if _, err := hl.Unseal(ctx, moved); err == nil {
		t.Fatal("details opened under another resident's reference")
	}
	other, _ := command.NewHall(handler(t, openStore(t)), loc, domain.DefaultPolicy, command.Keys{Reference: []byte("another-hall-key-0123456789"), Seal: []byte("another-hall-key-0123456789")}, nil)
	if _, err := other.Unseal(ctx, p); err == nil {
		t.Fatal("details opened with another key")
	}
}

// A booking counts against the login that made it: a stranger booking
// under someone's ID number uses up the stranger's places and collects the
// stranger's no-shows, while the person books for themself as before.
func TestBookingsCountAgainstTheLoginThatMadeThem(t *testing.T) {
	store := openStore(t)
	hl := hall(t, store)
	victim := person(1)
	at := func(s string) command.Meta {
		t.Helper()
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return command.Meta{At: tm}
	}
	var days []domain.SlotSpec
	for _, d := range []int{13, 14, 15, 20} {
		days = append(days, slots(t, store, "gulou", calendar.Date{Year: 2025, Month: 10, Day: d}, 1, 5)[0])
	}
	book := func(id, owner string, who domain.Applicant, slot domain.SlotSpec, m command.Meta) error {
		b := booking(id, slot, who)
		b.Owner = owner
		_, err := hl.Book(ctx, b, m)
		return err
	}
	for i, slot := range days[:3] {
		if err := book(fmt.Sprintf("s%d", i), "resident:stranger", victim, slot, at("2025-10-09 10:00")); err != nil {
			t.Fatalf("the stranger's booking %d: %v", i, err)
		}
	}
	if err := book("s4", "resident:stranger", person(2), days[0], at("2025-10-09 10:00")); !errors.Is(err, domain.ErrLimit) {
		t.Fatalf("a fourth place for the stranger's login: %v, want the limit", err)
	}
	if err := book("v1", "resident:victim", victim, days[0], at("2025-10-09 10:00")); err != nil {
		t.Fatalf("the person, on a day the stranger booked them: %v", err)
	}
	for i := range 3 {
		if _, err := hl.NoShow(ctx, fmt.Sprintf("s%d", i), at("2025-10-16 10:00")); err != nil {
			t.Fatal(err)
		}
	}
	if err := book("s5", "resident:stranger", person(3), days[3], at("2025-10-16 11:00")); !errors.Is(err, domain.ErrLimit) {
		t.Fatalf("the stranger after three no-shows: %v, want suspended", err)
	}
	if err := book("v2", "resident:victim", victim, days[3], at("2025-10-16 11:00")); err != nil {
		t.Fatalf("the person after the stranger's no-shows under their name: %v", err)
	}
}

// An appointment booked before holds moved to accounts keeps its hold in
// the resident's stream, and a cancel ends it there.
func TestOlderHoldsEndWhereTheyAre(t *testing.T) {
	store := openStore(t)
	hl := hall(t, store)
	h := handler(t, store)
	spec := slots(t, store, "gulou", calendar.Date{Year: 2025, Month: 10, Day: 13}, 1, 5)[0]
	now := time.Date(2025, 10, 9, 10, 0, 0, 0, loc)
	checked, _ := resident.Check(now)
	p, err := hl.Person(ctx, checked)
	if err != nil {
		t.Fatal(err)
	}
	m := command.Meta{At: now}
	for stream, decide := range map[string]func() ([]domain.Event, error){
		spec.Stream(): func() ([]domain.Event, error) {
			return []domain.Event{domain.SlotBooked{AppointmentID: "old", ResidentRef: p.Ref}}, nil
		},
		domain.ResidentStream(p.Ref): func() ([]domain.Event, error) {
			return []domain.Event{domain.BookingHeld{AppointmentID: "old", ServiceID: "birth", Date: spec.Date}}, nil
		},
		domain.AppointmentStream("old"): func() ([]domain.Event, error) {
			return []domain.Event{domain.AppointmentBooked{ID: "old", StationID: "gulou", ServiceID: "birth", Date: spec.Date, Start: spec.Start, End: spec.End, EndsAt: spec.End.On(spec.Date, loc), Resident: p, Owner: "resident:someone"}}, nil
		},
	} {
		if _, err := command.Execute(ctx, h, stream, m, func(*domain.Resident) ([]domain.Event, error) { return decide() }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := hl.Cancel(ctx, "old", "plans changed", m); err != nil {
		t.Fatal(err)
	}
	if got := types(t, store, domain.ResidentStream(p.Ref)); fmt.Sprint(got) != "[BookingHeld BookingEnded]" {
		t.Fatalf("the older hold's stream = %v", got)
	}
	noOrphans(t, store)
}
