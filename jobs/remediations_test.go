package jobs_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/projections"
)

// The escalate-overdue job treats the remediation of a bad rating as a
// deadline: warned with one working day left, overdue and escalated to the
// station manager past its due day, one level higher three working days
// later; each step once, though the job runs twice a day; nothing once the
// follow-up closed it. A visit's and an application's alike.
func TestRemediationsEscalateWithTheJob(t *testing.T) {
	x := newHall(t)
	x.station(at("2025-09-01 12:00"))
	// A walk-in served on Friday 26 September and rated 1 at the kiosk:
	// due fifteen working days on, 23 October (National Day between).
	q := domain.QueueStream("gulou", day("2025-09-26"))
	clerk := eventstore.Actor{ID: "li.wei", Role: domain.RoleStaff}
	for _, step := range []func(*domain.Queue) ([]domain.Event, error){
		func(q *domain.Queue) ([]domain.Event, error) {
			return q.OpenCounter("w1", []string{"birth"}, []string{"birth"})
		},
		func(q *domain.Queue) ([]domain.Event, error) {
			return q.Issue("t1", "birth", "A", "", "", false, at("2025-09-26 09:00"))
		},
		func(q *domain.Queue) ([]domain.Event, error) { return q.CallNext("w1", at("2025-09-26 09:05")) },
		func(q *domain.Queue) ([]domain.Event, error) { return q.Complete("w1", at("2025-09-26 09:15")) },
	} {
		if _, err := command.Execute(ctx, x.h, q, command.Meta{Actor: clerk, At: at("2025-09-26 09:15")}, step); err != nil {
			t.Fatal(err)
		}
	}
	kiosk := command.Meta{Actor: eventstore.Actor{ID: "kiosk.gulou", Role: domain.RoleKiosk}, At: at("2025-09-26 09:20")}
	if _, _, err := x.hall.RateTicket(ctx, "t1", "gulou", day("2025-09-26"), command.Rate{Score: 1, Comment: "态度差"}, func(string, string) bool { return true }, x.cal(), kiosk); err != nil {
		t.Fatal(err)
	}
	// An application completed and rated 2 the same day.
	x.application("app-1", at("2025-09-22 10:00"))
	for _, step := range []func(*domain.Application) ([]domain.Event, error){
		func(a *domain.Application) ([]domain.Event, error) { return a.Approve("zhao.lead", "同意") },
		func(a *domain.Application) ([]domain.Event, error) { return a.Complete("li.wei", day("2025-09-26")) },
		func(a *domain.Application) ([]domain.Event, error) {
			return a.Rate("resident", domain.Scores{Score: 2}, "", day("2025-09-26"), x.cal())
		},
	} {
		do(x, "application-app-1", at("2025-09-26 16:00"), step)
	}
	for d := day("2025-09-26"); !d.After(day("2025-11-07")); d = d.AddDays(1) {
		if d == day("2025-10-27") { // the application's remediation is followed up
			for _, s := range []string{"verify", "rectify", "reply"} {
				do(x, "application-app-1", at("2025-10-27 10:00"), func(a *domain.Application) ([]domain.Event, error) {
					return a.Remediate(s, "zhao.lead", "已回访")
				})
			}
		}
		for _, hour := range []time.Duration{9, 15} {
			x.run("escalate-overdue", d.In(loc).Add(hour*time.Hour))
		}
	}
	want := []string{
		"warned 2025-10-22",
		"overdue 2025-10-24 (due 2025-10-23)",
		"escalated 1 2025-10-24",
		"escalated 2 2025-10-29", // 24, 27, 28, 29: more than three working days past
	}
	if got := x.remedySteps(domain.RatingStream("t1")); !slices.Equal(got, want) {
		t.Errorf("the visit's remediation:\n got %q\nwant %q", got, want)
	}
	// The application's stopped at its follow-up on the 27th.
	if got := x.remedySteps("application-app-1"); !slices.Equal(got, want[:3]) {
		t.Errorf("the application's remediation:\n got %q\nwant %q", got, want[:3])
	}
	rows, err := projections.Remediations(ctx, x.views, "gulou", day("2025-11-07"), x.cal(), domain.DefaultEscalation, "overdue")
	if err != nil || len(rows) != 1 || rows[0].ID != "t1" || rows[0].Escalation != 2 || rows[0].Staff != "li.wei" {
		t.Fatalf("overdue remediations = %+v, %v", rows, err)
	}
	if out := x.run("escalate-overdue", at("2025-11-08 09:00")); !strings.Contains(out, "1 open remediations of bad ratings, 0 steps") {
		t.Errorf("the job's result: %s", out)
	}
}

// remedySteps are the escalation job's steps on a stream's remediation.
func (x *hall) remedySteps(stream string) []string {
	x.t.Helper()
	recs, err := x.log.ReadStream(ctx, stream, 0)
	if err != nil {
		x.t.Fatal(err)
	}
	var steps []string
	for _, r := range recs {
		e, err := domain.Decode(r.Type, r.Data)
		if err != nil {
			x.t.Fatal(err)
		}
		if r.Actor.ID != "system:job-escalate-overdue" {
			continue
		}
		switch e := e.(type) {
		case domain.RemediationWarned:
			steps = append(steps, "warned "+e.Date.String())
		case domain.RemediationOverdue:
			steps = append(steps, "overdue "+e.Date.String()+" (due "+e.Due.String()+")")
		case domain.RemediationEscalated:
			steps = append(steps, "escalated "+string(rune('0'+e.Level))+" "+e.Date.String())
		}
	}
	return steps
}
