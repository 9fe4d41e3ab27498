package projections_test

import (
	"slices"
	"strconv"
	"testing"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/projections"
)

// A visit and an application rated through the command path: each rating
// is filed under the staff member who served (who completed the ticket;
// who accepted the application), a re-rating replaces the earlier one in
// the figures, and the remediations are listed by their standing.
func TestRatingsThroughTheCommandPath(t *testing.T) {
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
	kiosk := eventstore.Actor{ID: "kiosk.gulou", Role: domain.RoleKiosk}
	other := eventstore.Actor{ID: "u-staff-2", Role: "staff"}
	everyone := func(string, string) bool { return true }

	// Two walk-ins on Monday 13 October, served at w1 by two clerks.
	q := "queue-gulou-2025-10-13"
	for _, s := range []struct {
		who    eventstore.Actor
		when   string
		decide func(*domain.Queue) ([]domain.Event, error)
	}{
		{staffU, "09:00", func(q *domain.Queue) ([]domain.Event, error) {
			return q.OpenCounter("w1", []string{"birth"}, []string{"birth"})
		}},
		{kiosk, "09:01", func(q *domain.Queue) ([]domain.Event, error) {
			return q.Issue("t1", "birth", "A", "", "", false, at("2025-10-13 09:01"))
		}},
		{kiosk, "09:02", func(q *domain.Queue) ([]domain.Event, error) {
			return q.Issue("t2", "birth", "A", "", "", false, at("2025-10-13 09:02"))
		}},
		{staffU, "09:10", func(q *domain.Queue) ([]domain.Event, error) { return q.CallNext("w1", at("2025-10-13 09:10")) }},
		{staffU, "09:20", func(q *domain.Queue) ([]domain.Event, error) { return q.Complete("w1", at("2025-10-13 09:20")) }},
		{other, "09:21", func(q *domain.Queue) ([]domain.Event, error) { return q.CallNext("w1", at("2025-10-13 09:21")) }},
	} {
		must(command.Execute(ctx, h, q, m(s.who, "2025-10-13 "+s.when), s.decide))
	}
	if _, _, err := hall.RateTicket(ctx, "t2", "gulou", day("2025-10-13"), command.Rate{Score: 5}, everyone, cal, m(kiosk, "2025-10-13 09:22")); err == nil {
		t.Fatal("a ticket still at the counter was rated")
	}
	must(command.Execute(ctx, h, q, m(other, "2025-10-13 09:30"), func(q *domain.Queue) ([]domain.Event, error) {
		return q.Complete("w1", at("2025-10-13 09:30"))
	}))
	rateTicket := func(id string, r command.Rate, when string) {
		t.Helper()
		_, res, err := hall.RateTicket(ctx, id, "gulou", day("2025-10-13"), r, everyone, cal, m(kiosk, when))
		must(res, err)
	}
	rateTicket("t1", command.Rate{Score: 1, Attitude: 1, Comment: "态度差"}, "2025-10-13 09:25")
	rateTicket("t2", command.Rate{Score: 5, Efficiency: 5}, "2025-10-13 09:35")

	// An application accepted by u-staff, approved by u-lead, rated 2,
	// remedied, and rated 5.
	pa := "application-p1"
	for _, s := range []struct {
		who    eventstore.Actor
		when   string
		decide func(*domain.Application) ([]domain.Event, error)
	}{
		{staffU, "2025-10-13 09:40", func(a *domain.Application) ([]domain.Event, error) {
			return a.Submit(domain.ApplicationSubmitted{ID: "p1", StationID: "gulou", Channel: "counter", TicketID: "t2", Applicant: domain.Person{Ref: "r-zhang"}, Owner: "resident:zhang"}, birth)
		}},
		{staffU, "2025-10-13 09:41", func(a *domain.Application) ([]domain.Event, error) {
			return a.Accept("u-staff", day("2025-10-13"), cal)
		}},
		{leadU, "2025-10-14 10:00", func(a *domain.Application) ([]domain.Event, error) { return a.Approve("u-lead", "同意") }},
		{other, "2025-10-15 10:00", func(a *domain.Application) ([]domain.Event, error) { return a.Complete("u-staff-2", day("2025-10-15")) }},
		{eventstore.Actor{ID: "resident:zhang", Role: "resident"}, "2025-10-15 18:00", func(a *domain.Application) ([]domain.Event, error) {
			return a.Rate("resident:zhang", domain.Scores{Score: 2}, "跑了两趟", day("2025-10-15"), cal)
		}},
		{leadU, "2025-10-16 10:00", func(a *domain.Application) ([]domain.Event, error) { return a.Remediate("verify", "u-lead", "属实") }},
		{leadU, "2025-10-17 10:00", func(a *domain.Application) ([]domain.Event, error) {
			return a.Remediate("rectify", "u-lead", "已一次性告知材料")
		}},
		{leadU, "2025-10-20 10:00", func(a *domain.Application) ([]domain.Event, error) {
			return a.Remediate("reply", "u-lead", "电话回访，满意")
		}},
		{eventstore.Actor{ID: "resident:zhang", Role: "resident"}, "2025-10-20 18:00", func(a *domain.Application) ([]domain.Event, error) {
			return a.Rate("resident:zhang", domain.Scores{Score: 5, Attitude: 5}, "", day("2025-10-20"), cal)
		}},
	} {
		must(command.Execute(ctx, h, pa, m(s.who, s.when), s.decide))
	}
	// The escalation job's checks on the ticket's remediation, due
	// 3 November: warned on 31 October, overdue and escalated on the 4th.
	for _, d := range []string{"2025-10-30", "2025-10-31", "2025-11-03", "2025-11-04"} {
		must(hall.CheckRemediation(ctx, "ticket", "t1", cal, domain.DefaultEscalation, m(jobU, d+" 08:00")))
	}

	e, err := projections.NewEngine(ctx, log, projections.NewMemory(), projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}

	t1, ok, err := projections.RatingOf(ctx, e, projections.RatedTicket, "t1")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if t1.Staff != "u-staff" || t1.Counter != "w1" || t1.Station != "gulou" || t1.Service != "birth" || t1.Served != day("2025-10-13") ||
		t1.Score != 1 || t1.Attitude != 1 || t1.RatedBy != domain.RoleKiosk || t1.Remediation == nil {
		t.Fatalf("t1's rating = %+v", t1)
	}
	if r := t1.Remediation; r.Due != day("2025-11-03") || !r.Warned || !r.Overdue || r.Escalation != 1 || r.Closed {
		t.Errorf("t1's remediation = %+v", r)
	}
	if t2, _, _ := projections.RatingOf(ctx, e, projections.RatedTicket, "t2"); t2.Staff != "u-staff-2" || t2.Score != 5 || t2.Efficiency != 5 || t2.Remediation != nil {
		t.Errorf("t2's rating = %+v", t2)
	}
	if p, ok, _ := projections.PlaceOf(ctx, e, "t2"); !ok || p.Station != "gulou" || p.Date != day("2025-10-13") {
		t.Errorf("t2 was issued at %+v", p)
	}
	p1, _, err := projections.RatingOf(ctx, e, projections.RatedApplication, "p1")
	if err != nil || p1.Staff != "u-staff" || p1.DecidedBy != "u-lead" || p1.Owner != "resident:zhang" || p1.Score != 5 || p1.Round != 2 || p1.Remediation == nil {
		t.Fatalf("p1's rating = %+v, %v", p1, err)
	}
	if r := p1.Remediation; !r.Closed || r.Step != "reply" || len(r.Steps) != 3 || r.FollowUp == nil || r.FollowUp.Note != "电话回访，满意" || r.FollowUp.By != "u-lead" {
		t.Errorf("p1's remediation = %+v", r)
	}

	// Rated 2, then 5: one rating of 5 in the completion figures.
	rates, err := projections.CompletionRates(ctx, e, projections.CompletionQuery{Station: "gulou", From: day("2025-11-01"), To: day("2025-11-30"), By: "month", Loc: loc})
	if err != nil || len(rates) != 1 || rates[0].Ratings != 1 || rates[0].ScoreSum != 5 || rates[0].Satisfaction != 5 {
		t.Fatalf("November's completion figures = %+v, %v", rates, err)
	}

	// The spread of ratings: each thing's latest, on the day it was given.
	spread := func(from, to string) projections.RatingFigures {
		t.Helper()
		f, err := projections.RatingSpread(ctx, e, []string{"gulou"}, day(from), day(to), loc)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if f := spread("2025-10-13", "2025-10-31"); f.Ratings != 3 || f.ByScore != [5]int{1, 0, 0, 0, 2} || f.Bad != 1 || f.Average != 3.7 ||
		len(f.ByStaff) != 2 || f.ByStaff[0] != (projections.StaffRatings{Staff: "u-staff", Ratings: 2, Average: 3, Bad: 1}) {
		t.Errorf("October's ratings: %+v", f)
	}
	if f := spread("2025-10-14", "2025-10-19"); f.Ratings != 0 { // the 2 of the 15th was replaced by the 5 of the 20th
		t.Errorf("ratings of 14–19 October: %+v", f)
	}
	if f, _ := projections.RatingSpread(ctx, e, []string{"xicheng"}, day("2025-10-01"), day("2025-10-31"), loc); f.Ratings != 0 {
		t.Errorf("xicheng's ratings: %+v", f)
	}

	// The managers' list: the ticket's remediation open, in its standing
	// by the day; the application's closed.
	list := func(today, state string) []projections.RemediationRow {
		t.Helper()
		rows, err := projections.Remediations(ctx, e, "gulou", day(today), cal, domain.DefaultEscalation, state)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	for _, c := range []struct {
		today, state string
		want         []string
	}{
		{"2025-10-20", "", []string{"ticket/t1 on_track 10"}},
		{"2025-10-20", "open", []string{"ticket/t1 on_track 10"}},
		{"2025-10-20", "warning", nil},
		{"2025-10-31", "warning", []string{"ticket/t1 warning 1"}},
		{"2025-11-05", "overdue", []string{"ticket/t1 overdue -2"}},
		{"2025-11-05", "on_track", nil},
		{"2025-11-05", "closed", []string{"application/p1 closed"}},
	} {
		var got []string
		for _, r := range list(c.today, c.state) {
			s := r.Kind + "/" + r.ID + " " + r.State
			if r.DaysLeft != nil {
				s += " " + strconv.Itoa(*r.DaysLeft)
			}
			got = append(got, s)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("remediations on %s, state %q: %q, want %q", c.today, c.state, got, c.want)
		}
	}
	if rows, _ := projections.Remediations(ctx, e, "xicheng", day("2025-10-20"), cal, domain.DefaultEscalation, ""); len(rows) != 0 {
		t.Errorf("xicheng lists gulou's remediations: %+v", rows)
	}
	if rows, _ := projections.Remediations(ctx, e, "", day("2025-10-20"), cal, domain.DefaultEscalation, ""); len(rows) != 1 || rows[0].Staff != "u-staff" || rows[0].Score != 1 {
		t.Errorf("every station's remediations: %+v", rows)
	}

	// The rating streams are the station's in the audit trail.
	trail, err := projections.AuditByStation(ctx, e, log, "gulou")
	if err != nil {
		t.Fatal(err)
	}
	rated := 0
	for _, x := range trail {
		if x.Stream == domain.RatingStream("t1") {
			rated++
		}
	}
	if rated != 5 { // rated, opened, warned, overdue, escalated
		t.Errorf("the audit of gulou holds %d events of t1's rating", rated)
	}
}
