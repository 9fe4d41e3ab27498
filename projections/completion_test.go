package projections_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/eventstore/memstore"
	"github.com/servicehall/servicehall/projections"
)

// happened is one event of a given log: where, by whom, when (station time).
type happened struct {
	stream string
	actor  eventstore.Actor
	at     string
	event  domain.Event
}

// given appends the events to a new log in order and answers it with every
// view caught up on it.
func given(t *testing.T, events ...happened) (eventstore.Store, *projections.Engine) {
	t.Helper()
	log := memstore.New()
	for _, h := range events {
		typ, data, err := domain.Encode(h.event)
		if err != nil {
			t.Fatal(err)
		}
		ev := eventstore.Event{ID: uuid.Must(uuid.NewV7()), Type: typ, Data: data, OccurredAt: at(h.at).UTC(), Actor: h.actor, Schema: domain.Schema(typ)}
		if _, err := log.Append(ctx, h.stream, eventstore.Any, ev); err != nil {
			t.Fatal(err)
		}
	}
	e, err := projections.NewEngine(ctx, log, projections.NewMemory(), projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	return log, e
}

// A small log of applications, each due on 20 October unless it says
// otherwise, and what became of them.
func caseLog() []happened {
	var out []happened
	otherU := eventstore.Actor{ID: "u-other", Role: "staff"}
	residentU := eventstore.Actor{ID: "r-1", Role: "resident"}
	app := func(id, station, channel, ticket string, accepted string, by eventstore.Actor, then ...happened) {
		s := domain.ApplicationStream(id)
		out = append(out,
			happened{s, by, accepted + " 09:00", domain.ApplicationSubmitted{ID: id, StationID: station, ServiceID: "birth", Channel: channel, TicketID: ticket, Applicant: domain.Person{Ref: "r-" + id}}},
			happened{s, by, accepted + " 09:05", domain.ApplicationAccepted{By: by.ID, Date: day(accepted), Deadline: day("2025-10-20")}})
		for _, h := range then {
			h.stream = s
			out = append(out, h)
		}
	}
	// The ticket a1 came in on was called to counter w2 that morning.
	q := domain.QueueStream("gulou", day("2025-10-09"))
	out = append(out,
		happened{q, staffU, "2025-10-09 08:55", domain.TicketIssued{TicketID: "t1", Number: "A001", ServiceID: "birth", Priority: domain.Normal, Seq: 1, At: at("2025-10-09 08:55")}},
		happened{q, staffU, "2025-10-09 08:58", domain.TicketCalled{TicketID: "t1", CounterID: "w2", At: at("2025-10-09 08:58")}})
	// Approved on time, then completed.
	app("a1", "gulou", "counter", "t1", "2025-10-09", staffU,
		happened{actor: leadU, at: "2025-10-15 10:00", event: domain.ApplicationApproved{By: leadU.ID}},
		happened{actor: staffU, at: "2025-10-16 10:00", event: domain.ApplicationCompleted{By: staffU.ID, Date: day("2025-10-16"), OnTime: true}},
		happened{actor: residentU, at: "2025-10-17 10:00", event: domain.ApplicationRated{By: "r-1", Scores: domain.Scores{Score: 2}, Round: 1}},
		happened{actor: residentU, at: "2025-10-24 10:00", event: domain.ApplicationRated{By: "r-1", Scores: domain.Scores{Score: 4}, Round: 2}})
	// Refused on time (不予许可): concluded.
	app("a2", "gulou", "online", "", "2025-10-09", staffU,
		happened{actor: leadU, at: "2025-10-17 10:00", event: domain.ApplicationRejected{By: leadU.ID, Reason: "不符合条件"}})
	// Withdrawn: in no rate.
	app("a3", "gulou", "counter", "", "2025-10-10", staffU,
		happened{actor: residentU, at: "2025-10-12 10:00", event: domain.ApplicationWithdrawn{By: "r-1"}})
	// Marked overdue by the escalation job and still open.
	app("a4", "gulou", "counter", "", "2025-10-10", leadU,
		happened{actor: jobU, at: "2025-10-21 08:00", event: domain.ApplicationOverdue{Date: day("2025-10-21"), Deadline: day("2025-10-20")}})
	// Approved two days late, before the job marked it.
	app("a5", "gulou", "counter", "", "2025-10-10", staffU,
		happened{actor: leadU, at: "2025-10-22 07:30", event: domain.ApplicationApproved{By: leadU.ID}})
	// Refused while the clock stood still for a supplement: on time.
	app("a6", "gulou", "counter", "", "2025-09-25", staffU,
		happened{actor: staffU, at: "2025-10-13 10:00", event: domain.SupplementRequested{By: staffU.ID, Missing: []string{"户口簿"}, Date: day("2025-10-13"), Left: 5}},
		happened{actor: leadU, at: "2025-10-25 10:00", event: domain.ApplicationRejected{By: leadU.ID, Reason: "逾期未补正"}})
	// Extended into November: due there, not in October.
	app("a7", "gulou", "counter", "", "2025-10-10", staffU,
		happened{actor: leadU, at: "2025-10-15 10:00", event: domain.DeadlineExtended{By: leadU.ID, Reason: "需调查", Days: 10, Deadline: day("2025-11-03")}})
	// At another station, approved early.
	app("x1", "xicheng", "counter", "", "2025-10-09", otherU,
		happened{actor: otherU, at: "2025-10-10 10:00", event: domain.ApplicationApproved{By: otherU.ID}})
	return out
}

// The counting rules of 办结率 on the log above: approvals and refusals
// conclude a case, withdrawn cases count in no rate, a decision after the
// deadline is overdue (one while the clock stood still is not), and the
// basis picks the day a case counts on.
func TestCompletionCounts(t *testing.T) {
	log, e := given(t, caseLog()...)
	type want struct {
		key                                                       string
		rank, due, completed, onTime, overdue, approved, rejected int
		withdrawn                                                 int
		completion, onTimeRate, approval                          float64
	}
	for _, tc := range []struct {
		name string
		q    projections.CompletionQuery
		want []want
	}{
		{"October by deadline, by service", projections.CompletionQuery{Station: "gulou", From: day("2025-10-01"), To: day("2025-10-31"), By: "service"},
			// a1 a2 a4 a5 a6 due; a1 a2 a5 a6 concluded, a5 late; a3 withdrawn.
			[]want{{"birth", 0, 5, 4, 3, 2, 2, 2, 1, 0.8, 0.75, 0.5}}},
		{"the default basis is the deadline", projections.CompletionQuery{Station: "gulou", From: day("2025-11-01"), To: day("2025-11-30"), By: "month", Basis: "due"},
			[]want{{"2025-11", 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}}},
		{"by the day of acceptance", projections.CompletionQuery{Station: "gulou", From: day("2025-10-01"), To: day("2025-10-31"), By: "day", Basis: "accepted"},
			[]want{
				{"2025-10-09", 0, 2, 2, 2, 0, 1, 1, 0, 1, 1, 0.5},
				{"2025-10-10", 0, 3, 1, 0, 2, 1, 0, 1, 0.3333, 0, 1},
			}},
		{"by the day of conclusion", projections.CompletionQuery{Station: "gulou", From: day("2025-10-12"), To: day("2025-10-22"), By: "day", Basis: "completed"},
			[]want{
				{"2025-10-12", 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0},
				{"2025-10-15", 0, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1},
				{"2025-10-17", 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 0},
				{"2025-10-22", 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1},
			}},
		{"the bureau ranks its stations", projections.CompletionQuery{From: day("2025-10-01"), To: day("2025-10-31"), By: "station"},
			[]want{
				{"xicheng", 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1},
				{"gulou", 2, 5, 4, 3, 2, 2, 2, 1, 0.8, 0.75, 0.5},
			}},
		{"by who accepted", projections.CompletionQuery{Station: "gulou", From: day("2025-10-01"), To: day("2025-10-31"), By: "clerk"},
			[]want{
				{"u-lead", 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0},
				{"u-staff", 0, 4, 4, 3, 1, 2, 2, 1, 1, 0.75, 0.5},
			}},
		{"by the counter of the ticket", projections.CompletionQuery{Station: "gulou", From: day("2025-10-01"), To: day("2025-10-31"), By: "counter"},
			[]want{
				{"none", 0, 3, 2, 1, 2, 1, 1, 1, 0.6667, 0.5, 0.5},
				{"online", 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 0},
				{"w2", 0, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Loc = loc
			rows, err := projections.CompletionRates(ctx, e, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []want
			for _, r := range rows {
				got = append(got, want{r.Key, r.Rank, r.Due, r.Completed, r.OnTime, r.Overdue, r.Approved, r.Rejected, r.Withdrawn, r.CompletionRate, r.OnTimeRate, r.ApprovalRate})
			}
			if len(got) != len(tc.want) {
				t.Fatalf("rows %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("row %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
	rows, _ := projections.CompletionRates(ctx, e, projections.CompletionQuery{Station: "gulou", From: day("2025-10-01"), To: day("2025-10-31"), By: "service", Loc: loc})
	if r := rows[0]; r.Ratings != 1 || r.Satisfaction != 4 {
		t.Errorf("ratings %d, satisfaction %v: want a1's one, 4 after the remediation", r.Ratings, r.Satisfaction)
	}
	for _, q := range []projections.CompletionQuery{{By: "week"}, {By: "service", Basis: "submitted"}} {
		q.Loc = loc
		if _, err := projections.CompletionRates(ctx, e, q); err == nil {
			t.Errorf("%+v answered", q)
		}
	}

	// As the view stood at noon on 16 October: a1 approved, a2 not yet
	// refused, a5 not yet approved, a7 already extended.
	past, err := projections.AsOf(ctx, log, at("2025-10-16 12:00"), projections.Completion{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err = projections.CompletionRates(ctx, past, projections.CompletionQuery{Station: "gulou", From: day("2025-10-01"), To: day("2025-10-31"), By: "service", Loc: loc})
	if err != nil || len(rows) != 1 || rows[0].Due != 5 || rows[0].Completed != 1 || rows[0].Withdrawn != 1 || rows[0].Overdue != 0 {
		t.Errorf("as of noon on 16 October: %+v, %v; want 5 due, 1 concluded, 1 withdrawn, none overdue", rows, err)
	}
}
