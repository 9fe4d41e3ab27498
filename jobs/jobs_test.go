package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servicehall/servicehall/app"
	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/eventstore/sqlitestore"
	"github.com/servicehall/servicehall/jobs"
	"github.com/servicehall/servicehall/projections"
)

var (
	ctx      = context.Background()
	loc, _   = time.LoadLocation("Asia/Shanghai")
	admin    = eventstore.Actor{ID: "admin", Role: domain.RoleAdmin}
	resident = domain.Applicant{Name: "张三", IDNumber: "33050219880702447X", Phone: "13812345678"}
)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		panic(err)
	}
	return t
}

func day(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// hall is a station's log, views and jobs, driven by an injected clock.
type hall struct {
	t      *testing.T
	log    eventstore.Store
	views  *projections.Engine
	h      *command.Handler
	hall   *command.Hall
	runner *jobs.Runner
	sent   *reminders
}

type reminders struct {
	mu  sync.Mutex
	ids []string
}

func (r *reminders) Notify(_ context.Context, to domain.Person, _ string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, to.Ref)
	return nil
}

func newHall(t *testing.T) *hall {
	t.Helper()
	log, err := sqlitestore.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	views, err := projections.NewEngine(ctx, log, projections.NewMemory(), projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	x := &hall{t: t, log: log, views: views}
	x.h, x.hall, x.runner, x.sent = x.jobs(&jobs.LocalLock{})
	return x
}

// jobs makes a runner with its own command handler (its own cache), as a
// second replica would have.
func (x *hall) jobs(lock jobs.Locker) (*command.Handler, *command.Hall, *jobs.Runner, *reminders) {
	x.t.Helper()
	application, err := app.New(x.log, x.views, loc, domain.DefaultPolicy, command.Keys{Reference: []byte("0123456789abcdef-test-key"), Seal: []byte("0123456789abcdef-test-key")}, nil)
	if err != nil {
		x.t.Fatal(err)
	}
	h, hl := application.Commands.Handler(), application.Commands
	sent := &reminders{}
	r, err := jobs.New(jobs.Config{App: application, Loc: loc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Notifier: sent, Lock: lock})
	if err != nil {
		x.t.Fatal(err)
	}
	return h, hl, r, sent
}

func do[S any, P interface {
	*S
	domain.Aggregate
}](x *hall, stream string, when time.Time, decide func(P) ([]domain.Event, error)) {
	x.t.Helper()
	if _, err := command.Execute(ctx, x.h, stream, command.Meta{Actor: admin, At: when}, decide); err != nil {
		x.t.Fatalf("%s: %v", stream, err)
	}
}

func (x *hall) sync() {
	x.t.Helper()
	if err := x.views.CatchUp(ctx); err != nil {
		x.t.Fatal(err)
	}
}

func (x *hall) run(name string, now time.Time) string {
	x.t.Helper()
	x.sync()
	out, err := x.runner.Run(ctx, name, now)
	if err != nil {
		x.t.Fatalf("%s at %s: %v", name, now, err)
	}
	x.sync()
	return out
}

func (x *hall) cal() *calendar.Calendar {
	x.t.Helper()
	cal, err := projections.Calendar(ctx, x.views)
	if err != nil {
		x.t.Fatal(err)
	}
	return cal
}

// count counts the events of a type in the whole log, with their actors.
func (x *hall) count(typ string) (n int, actors []string) {
	x.t.Helper()
	recs, err := x.log.ReadAll(ctx, 0, 1<<20)
	if err != nil {
		x.t.Fatal(err)
	}
	for _, r := range recs {
		if r.Type == typ {
			n++
			if !slices.Contains(actors, r.Actor.ID) {
				actors = append(actors, r.Actor.ID)
			}
		}
	}
	return n, actors
}

var birth = domain.Service{ID: "birth", Name: "Birth registration", NameZh: "出生登记", Category: domain.Household, TimeLimitDays: 5}

// station sets up gulou: weekdays 09:00–11:00 in hour slots, and a Saturday
// window 09:30–11:30, both for birth registration.
func (x *hall) station(when time.Time) {
	x.t.Helper()
	cat := map[string]domain.Service{"birth": birth}
	do(x, "catalogue", when, func(c *domain.Catalogue) ([]domain.Event, error) { return c.DefineService(birth) })
	do(x, "station-gulou", when, func(s *domain.Station) ([]domain.Event, error) {
		return s.Register(domain.StationRegistered{ID: "gulou", Name: "鼓楼派出所"})
	})
	var week []domain.Hours
	for wd := 1; wd <= 5; wd++ {
		week = append(week, domain.Hours{Weekday: wd, Start: 9 * 60, End: 11 * 60, ServiceIDs: []string{"birth"}, SlotMinutes: 60, Capacity: 2})
	}
	window := []domain.Hours{{Weekday: 6, Start: 9*60 + 30, End: 11*60 + 30, ServiceIDs: []string{"birth"}, SlotMinutes: 60, Capacity: 2}}
	do(x, "station-gulou", when, func(s *domain.Station) ([]domain.Event, error) { return s.SetHours(week, window, cat) })
}

func TestReleaseAMonthAcrossNationalDay(t *testing.T) {
	x := newHall(t)
	x.station(at("2025-09-01 12:00"))
	for d := day("2025-09-15"); !d.After(day("2025-10-15")); d = d.AddDays(1) {
		x.run("release-slots", d.In(loc).Add(8*time.Hour))
	}
	slots, err := projections.FreeSlots(ctx, x.views, "gulou", "birth", day("2025-09-01"), day("2025-11-30"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, s := range slots {
		got[s.Date.String()] = append(got[s.Date.String()], s.Start.String())
	}
	weekday, window := "09:00 10:00", "09:30 10:30"
	want := map[string]string{
		"2025-09-20": window,  // an ordinary Saturday
		"2025-09-27": window,  // an ordinary Saturday
		"2025-09-28": weekday, // a make-up working Sunday (调休) takes Monday's hours
		"2025-10-11": weekday, // a make-up working Saturday: weekday hours, no window
		"2025-10-18": window,
		"2025-10-25": window,
	}
	for d := day("2025-09-15"); !d.After(day("2025-10-28")); d = d.AddDays(1) {
		if wd := d.Weekday(); wd <= 5 && (d.Before(day("2025-10-01")) || d.After(day("2025-10-08"))) {
			want[d.String()] = weekday
		}
	}
	// Nothing from 1 to 8 October (holiday, the Saturday of 4 October
	// included), nothing on other Sundays, nothing past the horizon
	// (15 October + 13 days), nothing before the first run.
	for d := day("2025-09-01"); !d.After(day("2025-11-30")); d = d.AddDays(1) {
		if g := strings.Join(got[d.String()], " "); g != want[d.String()] {
			t.Errorf("%s (weekday %d): slots %q, want %q", d, d.Weekday(), g, want[d.String()])
		}
	}
	n, actors := x.count("SlotReleased")
	if n != len(slots) || !slices.Equal(actors, []string{"system:job-release-slots"}) {
		t.Fatalf("%d SlotReleased by %v for %d slots: each slot is released once, by the job", n, actors, len(slots))
	}
}

// application accepts a 5-working-day birth registration on Monday 22
// September 2025 and returns its id.
func (x *hall) application(id string, accepted time.Time) {
	x.t.Helper()
	do(x, domain.ApplicationStream(id), accepted, func(a *domain.Application) ([]domain.Event, error) {
		return a.Submit(domain.ApplicationSubmitted{ID: id, StationID: "gulou", Channel: "counter", Applicant: domain.Person{Ref: "r1"}}, birth)
	})
	do(x, domain.ApplicationStream(id), accepted, func(a *domain.Application) ([]domain.Event, error) {
		return a.Accept("li.wei", calendar.DateOf(accepted), x.cal())
	})
}

func TestEscalationAcrossASupplementPause(t *testing.T) {
	x := newHall(t)
	x.station(at("2025-09-01 12:00"))
	x.application("app-1", at("2025-09-22 10:00")) // deadline: 23, 24, 25, 26, 28 (make-up Sunday) September
	var steps []string
	for d := day("2025-09-22"); !d.After(day("2025-10-24")); d = d.AddDays(1) {
		switch d {
		case day("2025-09-24"): // 3 working days left: 25, 26, 28
			do(x, "application-app-1", at("2025-09-24 08:00"), func(a *domain.Application) ([]domain.Event, error) {
				return a.RequestSupplement("li.wei", []string{"出生医学证明"}, d, x.cal())
			})
		case day("2025-09-30"): // the clock restarts: 9, 10, 11 (make-up Saturday) October
			do(x, "application-app-1", at("2025-09-30 08:00"), func(a *domain.Application) ([]domain.Event, error) {
				return a.ReceiveSupplement(d, x.cal())
			})
		}
		for _, hour := range []time.Duration{9, 15} { // twice a day: each step still happens once
			x.run("escalate-overdue", d.In(loc).Add(hour*time.Hour))
		}
	}
	recs, err := x.log.ReadStream(ctx, "application-app-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Actor.ID != "system:job-escalate-overdue" {
			continue
		}
		e, err := domain.Decode(r.Type, r.Data)
		if err != nil {
			t.Fatal(err)
		}
		switch e := e.(type) {
		case domain.ApplicationWarned:
			steps = append(steps, "warned "+e.Date.String())
		case domain.ApplicationOverdue:
			steps = append(steps, "overdue "+e.Date.String()+" (deadline "+e.Deadline.String()+")")
		case domain.ApplicationEscalated:
			steps = append(steps, "escalated "+string(rune('0'+e.Level))+" "+e.Date.String())
		}
	}
	want := []string{
		"warned 2025-10-10",                        // one working day left
		"overdue 2025-10-12 (deadline 2025-10-11)", // the day after the deadline, a Sunday
		"escalated 1 2025-10-12",
		"escalated 2 2025-10-16", // more than 3 working days past: 13, 14, 15, 16
	}
	if !slices.Equal(steps, want) {
		t.Fatalf("steps:\n got %q\nwant %q", steps, want)
	}
	var sla []projections.SLARow
	sla, err = projections.SLA(ctx, x.views, day("2025-10-24"), x.cal(), domain.DefaultEscalation, "overdue")
	if err != nil || len(sla) != 1 || sla[0].Escalation != 2 {
		t.Fatalf("SLA view: %v %v", sla, err)
	}
}

func TestTwoRunnersWriteEachEventOnce(t *testing.T) {
	x := newHall(t)
	x.station(at("2025-09-01 12:00"))
	x.application("app-1", at("2025-09-22 10:00"))
	x.sync()
	// Two replicas, each with its own cache and no lock in common, run the
	// same ticks at once.
	_, _, other, _ := x.jobs(&jobs.LocalLock{})
	now := at("2025-10-20 08:00")
	var wg sync.WaitGroup
	for _, r := range []*jobs.Runner{x.runner, other} {
		for _, name := range []string{"release-slots", "escalate-overdue"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := r.Run(ctx, name, now); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	x.sync()
	slots, err := projections.FreeSlots(ctx, x.views, "gulou", "birth", day("2025-10-20"), day("2025-11-02"))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := x.count("SlotReleased"); n != len(slots) || n != 2*10+2*2 {
		t.Fatalf("%d SlotReleased for %d slots, want 24 (10 weekdays and 2 Saturday windows of 2 slots)", n, len(slots))
	}
	if n, _ := x.count("ApplicationOverdue"); n != 1 {
		t.Fatalf("%d ApplicationOverdue, want 1", n)
	}
	if n, _ := x.count("ApplicationEscalated"); n != 2 {
		t.Fatalf("%d ApplicationEscalated, want 2 (both levels, once each)", n)
	}
}

func TestTheLockLetsOneRunnerRunATick(t *testing.T) {
	x := newHall(t)
	lock := &jobs.LocalLock{}
	unlock, ok, err := lock.TryLock(ctx, "release-slots")
	if err != nil || !ok {
		t.Fatal("first TryLock failed")
	}
	_, _, r, _ := x.jobs(lock)
	if out, err := r.Run(ctx, "release-slots", at("2025-10-20 08:00")); err != nil || !strings.HasPrefix(out, "skipped") {
		t.Fatalf("run while another holds the lock: %q %v", out, err)
	}
	unlock()
	if out, err := r.Run(ctx, "release-slots", at("2025-10-20 08:00")); err != nil || strings.HasPrefix(out, "skipped") {
		t.Fatalf("run after unlock: %q %v", out, err)
	}
	if _, err := r.Run(ctx, "no-such-job", at("2025-10-20 08:00")); err == nil {
		t.Fatal("an unknown job ran")
	}
}

func TestCatchUpAfterADayOfDowntime(t *testing.T) {
	x := newHall(t)
	x.station(at("2025-10-01 12:00"))
	x.sync()
	x.runner.CatchUp(ctx, at("2025-10-13 08:00")) // Monday
	x.sync()
	_, err := x.hall.Book(ctx, command.Booking{AppointmentID: "ap-1", StationID: "gulou", ServiceID: "birth", Date: day("2025-10-14"), Start: 9 * 60, Resident: resident},
		command.Meta{Actor: admin, At: at("2025-10-13 09:00")})
	if err != nil {
		t.Fatal(err)
	}
	x.sync()
	if out := x.run("send-reminders", at("2025-10-13 18:00")); !strings.Contains(out, "sent 1") {
		t.Fatalf("reminders: %s", out)
	}
	if out := x.run("send-reminders", at("2025-10-13 18:05")); !strings.Contains(out, "sent 0") || len(x.sent.ids) != 1 {
		t.Fatalf("reminders again: %s, sent %v", out, x.sent.ids)
	}
	// Tuesday: a walk-in takes a ticket, then the process is down until
	// Wednesday morning.
	do(x, "queue-gulou-2025-10-14", at("2025-10-14 09:10"), func(q *domain.Queue) ([]domain.Event, error) {
		return q.Issue("t-1", "birth", "A", domain.Normal, "", false, at("2025-10-14 09:10"))
	})
	x.sync()
	x.runner.CatchUp(ctx, at("2025-10-15 08:00"))
	x.sync()

	a, _, err := command.Load[domain.Appointment](ctx, x.log, "appointment-ap-1")
	if err != nil || a.Status != domain.NoShow {
		t.Fatalf("Tuesday's appointment: %q %v, want no_show", a.Status, err)
	}
	if n, _ := x.count("NoShowCounted"); n != 1 {
		t.Fatalf("%d NoShowCounted, want 1", n)
	}
	q, _, err := command.Load[domain.Queue](ctx, x.log, "queue-gulou-2025-10-14")
	if t1, _ := q.Ticket("t-1"); err != nil || !q.Closed || t1.State != domain.Dropped {
		t.Fatalf("Tuesday's queue: closed %v, ticket %v, %v", q.Closed, t1, err)
	}
	slots, err := projections.FreeSlots(ctx, x.views, "gulou", "birth", day("2025-10-28"), day("2025-10-31"))
	if err != nil || len(slots) != 2 || slots[0].Date != day("2025-10-28") {
		t.Fatalf("slots at the end of the horizon (15 October + 13 days): %v %v", slots, err)
	}
	// Running the catch-up again writes nothing.
	head, _ := x.log.Head(ctx)
	x.runner.CatchUp(ctx, at("2025-10-15 08:00"))
	if again, _ := x.log.Head(ctx); again != head {
		t.Fatalf("a second catch-up wrote %d events", again-head)
	}
	st := x.runner.Status()
	if len(st) != 9 || st[0].Name != "release-slots" || st[0].Schedule != "0 8 * * *" || !st[0].LastRun.Equal(at("2025-10-15 08:00")) ||
		!strings.HasPrefix(st[0].LastResult, "opened 0 slots") {
		t.Fatalf("status: %+v", st)
	}
}

func TestClosureNoticesGoOutOnce(t *testing.T) {
	x := newHall(t)
	x.station(at("2025-10-01 12:00"))
	x.sync()
	x.run("release-slots", at("2025-10-13 08:00"))
	x.sync()
	_, err := x.hall.Book(ctx, command.Booking{AppointmentID: "ap-1", StationID: "gulou", ServiceID: "birth", Date: day("2025-10-14"), Start: 9 * 60, Resident: resident},
		command.Meta{Actor: admin, At: at("2025-10-13 09:00")})
	if err != nil {
		t.Fatal(err)
	}
	cancelled, _, err := x.hall.CloseSlot(ctx, "gulou", day("2025-10-14"), 9*60, "birth", "停电检修", command.Meta{Actor: admin, At: at("2025-10-13 10:00")})
	if err != nil || len(cancelled) != 1 || cancelled[0] != "ap-1" {
		t.Fatalf("closure cancelled %v, %v", cancelled, err)
	}
	x.sync()
	if out := x.run("send-notices", at("2025-10-13 10:01")); !strings.Contains(out, "sent 1") {
		t.Fatalf("notices: %s", out)
	}
	x.sync()
	if out := x.run("send-notices", at("2025-10-13 10:02")); !strings.Contains(out, "sent 0") || len(x.sent.ids) != 1 {
		t.Fatalf("notices again: %s, sent %v", out, x.sent.ids)
	}
	// No reminder for the cancelled appointment.
	if out := x.run("send-reminders", at("2025-10-13 18:00")); !strings.Contains(out, "sent 0") {
		t.Fatalf("reminders after the closure: %s", out)
	}
}

func TestTurnNoticeOnceWhenFewAreAhead(t *testing.T) {
	x := newHall(t)
	x.station(at("2025-10-01 12:00"))
	x.sync()
	x.run("release-slots", at("2025-10-13 08:00"))
	x.sync()
	// Four walk-ins, then the appointment checks in within its slot: it
	// goes first, with nobody ahead.
	for i := range 4 {
		do(x, "queue-gulou-2025-10-14", at("2025-10-14 08:40"), func(q *domain.Queue) ([]domain.Event, error) {
			return q.Issue(fmt.Sprintf("w-%d", i), "birth", "A", domain.Normal, "", false, at("2025-10-14 08:40"))
		})
	}
	_, err := x.hall.Book(ctx, command.Booking{AppointmentID: "ap-1", StationID: "gulou", ServiceID: "birth", Date: day("2025-10-14"), Start: 10 * 60, Resident: resident},
		command.Meta{Actor: admin, At: at("2025-10-13 09:00")})
	if err != nil {
		t.Fatal(err)
	}
	x.sync()
	if out := x.run("send-turn-notices", at("2025-10-14 09:00")); !strings.Contains(out, "sent 0") {
		t.Fatalf("before check-in: %s", out)
	}
	// Checked in early, outside its slot: behind the four walk-ins.
	if _, _, err := x.hall.CheckIn(ctx, "ap-1", birth, command.Meta{Actor: admin, At: at("2025-10-14 09:05")}); err != nil {
		t.Fatal(err)
	}
	x.sync()
	if out := x.run("send-turn-notices", at("2025-10-14 09:06")); !strings.Contains(out, "sent 0") {
		t.Fatalf("four ahead: %s", out)
	}
	do(x, "queue-gulou-2025-10-14", at("2025-10-14 09:10"), func(q *domain.Queue) ([]domain.Event, error) {
		if evs, err := q.OpenCounter("w1", []string{"birth"}, []string{"birth"}); err != nil || len(evs) > 0 {
			return evs, err
		}
		return q.CallNext("w1", at("2025-10-14 09:10"))
	})
	x.sync()
	if out := x.run("send-turn-notices", at("2025-10-14 09:11")); !strings.Contains(out, "sent 0") {
		t.Fatalf("the counter only opened: %s", out)
	}
	do(x, "queue-gulou-2025-10-14", at("2025-10-14 09:12"), func(q *domain.Queue) ([]domain.Event, error) {
		return q.CallNext("w1", at("2025-10-14 09:12"))
	})
	x.sync()
	if out := x.run("send-turn-notices", at("2025-10-14 09:13")); !strings.Contains(out, "sent 1") {
		t.Fatalf("three ahead: %s", out)
	}
	x.sync()
	if out := x.run("send-turn-notices", at("2025-10-14 09:14")); !strings.Contains(out, "sent 0") {
		t.Fatalf("told twice: %s", out)
	}
}

func TestOffersAreToldOnceAndLapseToTheNext(t *testing.T) {
	x := newHall(t)
	x.station(at("2025-10-01 12:00"))
	x.sync()
	x.run("release-slots", at("2025-10-13 08:00"))
	x.sync()
	book := func(id string, who domain.Applicant) {
		t.Helper()
		_, err := x.hall.Book(ctx, command.Booking{AppointmentID: id, StationID: "gulou", ServiceID: "birth", Date: day("2025-10-14"), Start: 9 * 60, Resident: who},
			command.Meta{Actor: admin, At: at("2025-10-13 09:00")})
		if err != nil {
			t.Fatal(err)
		}
	}
	book("ap-1", resident)
	book("ap-2", domain.Applicant{Name: "陈静", IDNumber: "235407195106112745", Phone: "13912345678"})
	for _, who := range []domain.Applicant{{Name: "李四", IDNumber: "11010519491231002X", Phone: "13712345678"}, {Name: "王五", IDNumber: "210203197503102721", Phone: "13612345678"}} {
		if _, err := x.hall.JoinWaitlist(ctx, command.Booking{StationID: "gulou", ServiceID: "birth", Date: day("2025-10-14"), Start: 9 * 60, Resident: who},
			command.Meta{Actor: admin, At: at("2025-10-13 09:30")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := x.hall.Cancel(ctx, "ap-1", "plans changed", command.Meta{Actor: admin, At: at("2025-10-13 10:00")}); err != nil {
		t.Fatal(err)
	}
	x.sync()
	if out := x.run("offer-places", at("2025-10-13 10:01")); !strings.Contains(out, "told 1 ") {
		t.Fatalf("offer: %s", out)
	}
	x.sync()
	if out := x.run("offer-places", at("2025-10-13 10:02")); !strings.Contains(out, "told 0 ") {
		t.Fatalf("told twice: %s", out)
	}
	if out := x.run("offer-places", at("2025-10-13 10:15")); !strings.Contains(out, "1 offers lapsed") {
		t.Fatalf("lapse: %s", out)
	}
	x.sync()
	if out := x.run("offer-places", at("2025-10-13 10:16")); !strings.Contains(out, "told 1 ") || len(x.sent.ids) != 2 || x.sent.ids[0] == x.sent.ids[1] {
		t.Fatalf("the next one waiting: %s, told %v", out, x.sent.ids)
	}
}

// A notice imported after the slots were released and an application
// accepted makes Tuesday 14 October 2025 a holiday: its slots are
// withdrawn, its booking cancelled and its resident told, and the
// application's deadline is counted again.
func TestALateNoticeWithdrawsSlotsAndMovesDeadlines(t *testing.T) {
	x := newHall(t)
	x.station(at("2025-10-01 12:00"))
	x.sync()
	x.run("release-slots", at("2025-10-13 08:00"))
	x.application("app-1", at("2025-10-13 10:00")) // 5 working days: 14, 15, 16, 17, 20 October
	_, err := x.hall.Book(ctx, command.Booking{AppointmentID: "ap-1", StationID: "gulou", ServiceID: "birth", Date: day("2025-10-14"), Start: 9 * 60, Resident: resident},
		command.Meta{Actor: admin, At: at("2025-10-13 09:00")})
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := calendar.Official()
	var notice calendar.Notice
	for _, n := range ns {
		if n.Year == 2025 {
			notice = n
		}
	}
	notice.Days = append(slices.Clone(notice.Days), calendar.Day{Name: "临时放假", Date: day("2025-10-14"), OffDay: true})
	if _, err := x.hall.ImportCalendar(ctx, notice, command.Meta{Actor: admin, At: at("2025-10-13 11:00")}); err != nil {
		t.Fatal(err)
	}
	x.sync()
	if out := x.run("release-slots", at("2025-10-13 11:01")); !strings.Contains(out, "withdrew 2 slots on public holidays, 1 bookings cancelled") {
		t.Fatalf("release after the notice: %s", out)
	}
	x.sync()
	if a, ok, err := projections.AppointmentOf(ctx, x.views, "ap-1"); err != nil || !ok || a.Status != domain.Cancelled || !a.ByHall {
		t.Fatalf("the booking on the new holiday: %+v %v", a, err)
	}
	if out := x.run("send-notices", at("2025-10-13 11:02")); !strings.Contains(out, "sent 1") {
		t.Fatalf("notices: %s", out)
	}
	x.run("escalate-overdue", at("2025-10-13 11:10"))
	x.sync()
	if a, _, err := projections.ApplicationOf(ctx, x.views, "app-1"); err != nil || a.Deadline != day("2025-10-21") {
		t.Fatalf("deadline after the notice: %s, %v; want 2025-10-21 (the 14th no longer counts)", a.Deadline, err)
	}
	if n, _ := x.count("DeadlineRecomputed"); n != 1 {
		t.Fatalf("%d DeadlineRecomputed, want 1", n)
	}
}

func TestReadyNoticeOnce(t *testing.T) {
	x := newHall(t)
	x.station(at("2025-09-01 12:00"))
	x.application("app-1", at("2025-09-22 10:00"))
	for _, step := range []func(a *domain.Application) ([]domain.Event, error){
		func(a *domain.Application) ([]domain.Event, error) { return a.Approve("zhao.lead", "同意") },
		func(a *domain.Application) ([]domain.Event, error) { return a.Complete("li.wei", day("2025-09-25")) },
		func(a *domain.Application) ([]domain.Event, error) {
			return a.MarkReady("li.wei", "3号窗口", day("2025-09-25"))
		},
	} {
		do(x, "application-app-1", at("2025-09-25 10:00"), step)
	}
	x.sync()
	if out := x.run("send-notices", at("2025-09-25 10:01")); !strings.Contains(out, "sent 1") {
		t.Fatalf("ready notice: %s", out)
	}
	x.sync()
	if out := x.run("send-notices", at("2025-09-25 10:02")); !strings.Contains(out, "sent 0") {
		t.Fatalf("told twice: %s", out)
	}
}
