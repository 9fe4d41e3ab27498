package projections_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/projections"
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

var (
	staffU = eventstore.Actor{ID: "u-staff", Role: "staff"}
	leadU  = eventstore.Actor{ID: "u-lead", Role: "manager"}
	jobU   = eventstore.Actor{ID: "system:job-escalate-overdue", Role: "system"}
)

func TestViewsThroughTheCommandPath(t *testing.T) {
	log := openLog(t)
	h, err := command.New(log)
	if err != nil {
		t.Fatal(err)
	}
	hall, err := command.NewHall(h, loc, domain.DefaultPolicy, command.Keys{Reference: []byte("0123456789abcdef-views"), Seal: []byte("0123456789abcdef-views")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := calendar.Official()
	cal := calendar.New(ns...)
	birth := domain.Service{ID: "birth", Name: "Birth registration", NameZh: "出生登记", Category: domain.Household, TimeLimitDays: 20, TimeLimitUnit: calendar.WorkingDays}
	must := func(_ command.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	m := func(a eventstore.Actor, when string) command.Meta { return command.Meta{Actor: a, At: at(when)} }

	// A Saturday-window slot with two places; two residents book, one cancels.
	spec := domain.SlotSpec{Station: "gulou", Service: "birth", Date: day("2025-09-13"), Start: 9 * 60, End: 9*60 + 30, Capacity: 2}
	must(command.Execute(ctx, h, spec.Stream(), m(jobU, "2025-09-10 08:00"), func(s *domain.Slot) ([]domain.Event, error) { return s.Release(spec, loc) }))
	zhang := domain.Applicant{Name: "张三", IDNumber: "33050219880702447X", Phone: "13812345678"}
	li := domain.Applicant{Name: "李四", IDNumber: "11010519491231002X", Phone: "13912345678"}
	for id, who := range map[string]domain.Applicant{"a-zhang": zhang, "a-li": li} {
		must(hall.Book(ctx, command.Booking{AppointmentID: id, StationID: "gulou", ServiceID: "birth", Date: spec.Date, Start: spec.Start, Resident: who}, m(eventstore.Actor{ID: id, Role: "resident"}, "2025-09-11 10:00")))
	}
	must(command.Execute(ctx, h, "appointment-a-li", m(staffU, "2025-09-12 09:00"), func(a *domain.Appointment) ([]domain.Event, error) { return a.Cancel("plans changed", false) }))
	must(command.Execute(ctx, h, spec.Stream(), m(staffU, "2025-09-12 09:00"), func(s *domain.Slot) ([]domain.Event, error) {
		return s.Free("a-li", at("2025-09-12 09:00"), 10*time.Minute)
	}))

	// The day's queue: a transfer, a no-show, a completed service.
	q := "queue-gulou-2025-09-15"
	steps := []struct {
		when   string
		decide func(*domain.Queue) ([]domain.Event, error)
	}{
		{"09:00", func(q *domain.Queue) ([]domain.Event, error) {
			return q.OpenCounter("w1", []string{"birth"}, []string{"birth"})
		}},
		{"09:01", func(q *domain.Queue) ([]domain.Event, error) {
			return q.Issue("t1", "birth", "A", "", "", false, at("2025-09-15 09:01"))
		}},
		{"09:02", func(q *domain.Queue) ([]domain.Event, error) {
			return q.Issue("t2", "birth", "A", "", "", false, at("2025-09-15 09:02"))
		}},
		{"09:03", func(q *domain.Queue) ([]domain.Event, error) {
			return q.Issue("t3", "birth", "A", "", "", false, at("2025-09-15 09:03"))
		}},
		{"09:10", func(q *domain.Queue) ([]domain.Event, error) { return q.CallNext("w1", at("2025-09-15 09:10")) }},
		{"09:12", func(q *domain.Queue) ([]domain.Event, error) {
			return q.Transfer("w1", "permit", at("2025-09-15 09:12"))
		}},
		{"09:13", func(q *domain.Queue) ([]domain.Event, error) { return q.CallNext("w1", at("2025-09-15 09:13")) }},
		{"09:14", func(q *domain.Queue) ([]domain.Event, error) { return q.Recall("w1", 2, at("2025-09-15 09:14")) }},
		{"09:16", func(q *domain.Queue) ([]domain.Event, error) { return q.NoShow("w1", at("2025-09-15 09:16")) }},
		{"09:20", func(q *domain.Queue) ([]domain.Event, error) { return q.CallNext("w1", at("2025-09-15 09:20")) }},
		{"09:30", func(q *domain.Queue) ([]domain.Event, error) { return q.Complete("w1", at("2025-09-15 09:30")) }},
	}
	for _, s := range steps {
		must(command.Execute(ctx, h, q, m(staffU, "2025-09-15 "+s.when), s.decide))
	}

	// An application accepted on 15 Sep, paused 19-30 Sep for a supplement,
	// overdue on 30 Oct, decided and completed late on 3 Nov, rated badly.
	pa := "application-p1"
	appSteps := []struct {
		who    eventstore.Actor
		when   string
		decide func(*domain.Application) ([]domain.Event, error)
	}{
		{staffU, "2025-09-15 09:25", func(a *domain.Application) ([]domain.Event, error) {
			return a.Submit(domain.ApplicationSubmitted{ID: "p1", StationID: "gulou", Channel: "counter", TicketID: "t3", Applicant: domain.Person{Ref: "r-zhang"}}, birth)
		}},
		{staffU, "2025-09-15 09:28", func(a *domain.Application) ([]domain.Event, error) {
			return a.Accept("u-staff", day("2025-09-15"), cal)
		}},
		{staffU, "2025-09-19 10:00", func(a *domain.Application) ([]domain.Event, error) {
			return a.RequestSupplement("u-staff", []string{"出生医学证明"}, day("2025-09-19"), cal)
		}},
		{staffU, "2025-09-30 10:00", func(a *domain.Application) ([]domain.Event, error) {
			return a.ReceiveSupplement(day("2025-09-30"), cal)
		}},
		{jobU, "2025-10-28 08:00", func(a *domain.Application) ([]domain.Event, error) {
			return a.Check(day("2025-10-28"), cal, domain.DefaultEscalation)
		}},
		{jobU, "2025-10-30 08:00", func(a *domain.Application) ([]domain.Event, error) {
			return a.Check(day("2025-10-30"), cal, domain.DefaultEscalation)
		}},
		{leadU, "2025-11-03 10:00", func(a *domain.Application) ([]domain.Event, error) { return a.Approve("u-lead", "材料齐全") }},
		{staffU, "2025-11-03 11:00", func(a *domain.Application) ([]domain.Event, error) { return a.Complete("u-staff", day("2025-11-03")) }},
		{eventstore.Actor{ID: "r-zhang", Role: "resident"}, "2025-11-04 09:00", func(a *domain.Application) ([]domain.Event, error) {
			return a.Rate("r-zhang", domain.Scores{Score: 2}, "太慢", day("2025-11-04"), cal)
		}},
	}
	for _, s := range appSteps {
		must(command.Execute(ctx, h, pa, m(s.who, s.when), s.decide))
	}

	e, err := projections.NewEngine(ctx, log, projections.NewMemory(), projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}

	slots, err := projections.FreeSlots(ctx, e, "gulou", "birth", day("2025-09-13"), day("2025-09-13"))
	if err != nil || len(slots) != 1 {
		t.Fatalf("slots = %v, %v", slots, err)
	}
	if s := slots[0]; s.Booked != 1 || s.Available(at("2025-09-12 09:05")) != 0 || s.Available(at("2025-09-12 09:11")) != 1 {
		t.Errorf("slot after one cancellation = %+v: want 1 booked, the freed place back after ten minutes", s)
	}

	checked, _ := zhang.Check(at("2025-09-11 10:00"))
	mine, err := projections.AppointmentsOf(ctx, e, hall.Ref(checked))
	if err != nil || len(mine) != 1 || mine[0].ID != "a-zhang" || mine[0].Resident.ID != "330***********447X" || mine[0].Status != domain.Booked {
		t.Errorf("zhang's appointments = %+v, %v", mine, err)
	}

	d, err := projections.DayOf(ctx, e, "gulou", day("2025-09-15"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Stats.Tickets != 3 || d.Stats.Served != 1 || d.Stats.NoShows != 1 || d.Stats.Service.Value() != 10 {
		t.Errorf("queue stats = %+v", d.Stats)
	}
	if t1 := d.Tickets["t1"]; t1.State != domain.Waiting || t1.Service != "permit" || t1.Transfers != 1 {
		t.Errorf("transferred ticket = %+v", t1)
	}
	if len(d.Calls) != 4 || d.Calls[2].Number != "A002" || !d.Calls[2].Recall {
		t.Errorf("board calls = %+v", d.Calls)
	}
	if n := d.Ahead("permit"); n != 1 {
		t.Errorf("permit tickets waiting = %d, want 1", n)
	}
	// w1, open for birth and free, observed one birth service of 10 minutes.
	if st := d.WaitState("birth", 3, nil); st.Counters != 1 || st.Busy != 0 || st.Mean != 10 {
		t.Errorf("the day as a birth ticket's estimate sees it: %+v", st)
	}
	if w := d.EstimatedWait("birth", 3, nil); w != 25 {
		t.Errorf("estimated wait for birth, three ahead of a free counter = %d minutes, want 25 (two and a half services of 10)", w)
	}
	if w := d.EstimatedWait("permit", d.Ahead("permit"), nil); w != 3 {
		t.Errorf("estimated wait for permit = %d minutes, want 3 (one ahead, no counter open for permit, none served yet: half of 5)", w)
	}
	// A view kept before the counters' lines were: the configuration tells them.
	d.Lines = nil
	if st := d.WaitState("permit", 1, map[string][]string{"w1": {"birth", "permit"}}); st.Counters != 1 {
		t.Errorf("permit counters by the configuration: %+v", st)
	}
	if d.ServiceMinutes["birth"].Value() != 10 {
		t.Errorf("observed birth service time %v, want 10", d.ServiceMinutes["birth"].Value())
	}

	a, ok, err := projections.ApplicationOf(ctx, e, "p1")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if a.Status != domain.Completed || a.Deadline != day("2025-10-29") || a.Escalation != 1 || !a.Overdue || a.OnTime || a.Score != 2 {
		t.Errorf("application = %+v", a)
	}
	if len(a.History) != 11 || a.History[1].Actor != "u-staff" || a.History[7].Type != "ApplicationApproved" || a.History[7].Actor != "u-lead" {
		t.Errorf("history = %+v", a.History)
	}

	rates, err := projections.CompletionRates(ctx, e, projections.CompletionQuery{Station: "gulou", From: day("2025-10-01"), To: day("2025-10-31"), By: "service", Loc: loc})
	if err != nil || len(rates) != 1 {
		t.Fatalf("rates = %+v, %v", rates, err)
	}
	if r := rates[0]; r.Key != "birth" || r.Due != 1 || r.Completed != 1 || r.OnTime != 0 || r.Overdue != 1 || r.CompletionRate != 1 || r.OnTimeRate != 0 || r.Satisfaction != 2 {
		t.Errorf("October by service = %+v", r)
	}
	if rates, _ := projections.CompletionRates(ctx, e, projections.CompletionQuery{Station: "gulou", From: day("2025-09-01"), To: day("2025-09-30"), By: "day", Loc: loc}); len(rates) != 0 {
		t.Errorf("September holds %+v: the deadline moved to 29 Oct with the supplement", rates)
	}

	trail, err := projections.AuditByStream(ctx, log, pa)
	if err != nil || len(trail) != 11 || trail[5].Actor != jobU.ID {
		t.Errorf("audit of %s = %+v, %v", pa, trail, err)
	}
	if done, _ := projections.AuditByActor(ctx, e, log, "u-lead"); len(done) != 1 || done[0].Type != "ApplicationApproved" || done[0].Station != "gulou" {
		t.Errorf("u-lead did %+v", done)
	}
	if at, _ := projections.AuditByStation(ctx, e, log, "gulou"); len(at) < len(trail) || at[len(at)-1].Position <= at[0].Position {
		t.Errorf("the audit of gulou holds %d events, its application alone %d", len(at), len(trail))
	}

	// The SLA list as it stood at the end of 30 Oct: overdue, escalated;
	// today it is empty, since the application is completed.
	past, err := projections.AsOf(ctx, log, day("2025-10-31").In(loc), projections.Applications{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := projections.SLA(ctx, past, day("2025-10-30"), cal, domain.DefaultEscalation, "overdue")
	if err != nil || len(rows) != 1 || rows[0].Escalation != 1 || rows[0].DaysLeft != -1 || rows[0].Unit != calendar.WorkingDays {
		t.Errorf("SLA as of 30 Oct = %+v, %v", rows, err)
	}
	if rows, _ := projections.SLA(ctx, e, day("2025-11-20"), cal, domain.DefaultEscalation, ""); len(rows) != 0 {
		t.Errorf("live SLA = %+v, want none open", rows)
	}
	paused, _ := projections.AsOf(ctx, log, day("2025-09-25").In(loc), projections.Applications{})
	if rows, _ := projections.SLA(ctx, paused, day("2025-09-24"), cal, domain.DefaultEscalation, "paused"); len(rows) != 1 || rows[0].DaysLeft != 16 {
		t.Errorf("SLA as of 24 Sep = %+v, want paused with 16 days left", rows)
	}
}

// A day read back from the store keeps its call order: arrival order is
// part of the document.
func TestQueueOrderSurvivesTheStore(t *testing.T) {
	d := projections.DayView{Tickets: map[string]*projections.TicketView{}}
	for i, n := range []string{"A001", "A002", "A003", "A004", "A005", "A006"} {
		d.Tickets[n] = &projections.TicketView{ID: n, Number: n, Service: "birth", Priority: domain.Normal, State: domain.Waiting, Seq: i + 1}
	}
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back projections.DayView
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	for i, w := range back.Waiting() {
		if w.Seq != i+1 {
			t.Fatalf("after the store, position %d holds %s", i, w.Number)
		}
	}
}
