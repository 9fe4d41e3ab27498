package domain_test

import (
	"errors"
	"testing"

	"github.com/servicehall/servicehall/domain"
)

// done is an application completed on 26 September 2025, the Friday
// before National Day.
func done() []domain.Event {
	return []domain.Event{submitted(),
		domain.ApplicationAccepted{By: "li.wei", Date: day("2025-09-15"), Deadline: day("2025-10-17")},
		domain.ApplicationApproved{By: "zhao.lead", Note: "同意"},
		domain.ApplicationCompleted{By: "li.wei", Date: day("2025-09-26"), OnTime: true}}
}

// A rating is an overall score and, optionally, the three dimensions,
// each 1..5; each bad field is named.
func TestRatingScoresAndDimensions(t *testing.T) {
	a := given[domain.Application](t, done()...)
	for _, c := range []struct {
		scores domain.Scores
		fields []string
	}{
		{domain.Scores{}, []string{"score"}},
		{domain.Scores{Score: 0, Attitude: 5}, []string{"score"}},
		{domain.Scores{Score: 4, Attitude: 6}, []string{"attitude"}},
		{domain.Scores{Score: 4, Efficiency: -1, Competence: 9}, []string{"efficiency", "competence"}},
	} {
		got, err := a.Rate("r1", c.scores, "", day("2025-09-26"), cal)
		thenError(t, got, err, domain.ErrInvalid)
		for _, f := range c.fields {
			if !hasField(err, f) {
				t.Errorf("Rate(%+v): %v does not name %s", c.scores, err, f)
			}
		}
	}
	got, err := a.Rate("r1", domain.Scores{Score: 4}, "\u202e反转", day("2025-09-26"), cal)
	thenError(t, got, err, domain.ErrInvalid) // an invisible control character in the comment
	// A good rating with its dimensions opens nothing.
	sc := domain.Scores{Score: 3, Attitude: 5, Efficiency: 2, Competence: 4}
	got, err = a.Rate("r1", sc, "窗口少", day("2025-09-26"), cal)
	then(t, got, err, domain.ApplicationRated{By: "r1", Comment: "窗口少", Scores: sc, Round: 1})
}

func hasField(err error, field string) bool {
	var fe *domain.FieldError
	if errors.As(err, &fe) && fe.Field == field {
		return true
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if hasField(e, field) {
				return true
			}
		}
	}
	return false
}

// A bad rating (1 or 2) opens a remediation due fifteen working days after
// the day of the rating (国办发〔2019〕51号): here across National Day, with
// its make-up days counted.
func TestBadRatingOpensARemediationDueInFifteenWorkingDays(t *testing.T) {
	for _, score := range []int{1, 2} {
		a := given[domain.Application](t, done()...)
		got, err := a.Rate("r1", domain.Scores{Score: score, Attitude: 1}, "态度差", day("2025-09-26"), cal)
		// 28 (make-up Sunday), 29, 30 September; 9, 10, 11 (make-up
		// Saturday), 13-17, 20-23 October.
		then(t, got, err, domain.ApplicationRated{By: "r1", Comment: "态度差", Scores: domain.Scores{Score: score, Attitude: 1}, Round: 1},
			domain.RemediationOpened{Round: 1, Due: day("2025-10-23")})
	}
	if due := cal.AddWorkingDays(day("2025-09-26"), domain.RemediationDays); due != day("2025-10-23") {
		t.Fatalf("the calendar counts fifteen working days to %s", due)
	}
}

// The remediation goes verify, rectify, reply, in that order; the reply is
// the follow-up with the resident (回访) and needs its note. Only then may
// the resident rate again, and the new rating replaces the old one; a
// good rating is final.
func TestRemediationThenReRating(t *testing.T) {
	a := given[domain.Application](t, append(done(),
		domain.ApplicationRated{By: "r1", Scores: domain.Scores{Score: 1}, Round: 1},
		domain.RemediationOpened{Round: 1, Due: day("2025-10-23")})...)
	got, err := a.Rate("r1", domain.Scores{Score: 5}, "", day("2025-09-29"), cal)
	thenError(t, got, err, domain.ErrState) // open: no re-rating yet
	got, err = a.Remediate("rectify", "zhao.lead", "已整改")
	thenError(t, got, err, domain.ErrState) // verify comes first
	got, err = a.Remediate("apologise", "zhao.lead", "x")
	thenError(t, got, err, domain.ErrInvalid)
	got, err = a.Remediate("verify", "zhao.lead", "  ")
	thenError(t, got, err, domain.ErrInvalid) // a step says what was done
	for _, step := range []string{"verify", "rectify"} {
		got, err = a.Remediate(step, "zhao.lead", "核实属实，已约谈窗口人员")
		then(t, got, err, domain.RemediationStep{Step: step, By: "zhao.lead", Note: "核实属实，已约谈窗口人员"})
		a.Apply(got[0])
	}
	got, err = a.Rate("r1", domain.Scores{Score: 5}, "", day("2025-09-30"), cal)
	thenError(t, got, err, domain.ErrState) // rectified, but not yet followed up
	got, err = a.Remediate("reply", "zhao.lead", "")
	thenError(t, got, err, domain.ErrInvalid) // the follow-up records what the resident was told
	got, err = a.Remediate("reply", "zhao.lead", "电话回访，群众表示满意")
	then(t, got, err, domain.RemediationStep{Step: "reply", By: "zhao.lead", Note: "电话回访，群众表示满意"})
	a.Apply(got[0])
	if a.Feedback.Remediating() {
		t.Fatal("the reply did not close the remediation")
	}
	got, err = a.Remediate("verify", "zhao.lead", "again")
	thenError(t, got, err, domain.ErrState) // none open
	// Rated again, and bad again: a new round, a new remediation.
	got, err = a.Rate("r1", domain.Scores{Score: 2}, "还是慢", day("2025-10-09"), cal)
	then(t, got, err, domain.ApplicationRated{By: "r1", Comment: "还是慢", Scores: domain.Scores{Score: 2}, Round: 2},
		domain.RemediationOpened{Round: 2, Due: day("2025-10-29")})
	for _, e := range got {
		a.Apply(e)
	}
	for _, step := range []string{"verify", "rectify", "reply"} {
		got, err = a.Remediate(step, "zhao.lead", "已处理")
		a.Apply(got[0])
	}
	got, err = a.Rate("r1", domain.Scores{Score: 4}, "", day("2025-10-20"), cal)
	then(t, got, err, domain.ApplicationRated{By: "r1", Scores: domain.Scores{Score: 4}, Round: 3})
	a.Apply(got[0])
	if a.Feedback.Last.Score != 4 || a.Feedback.Rounds != 3 {
		t.Fatalf("feedback after the last rating: %+v", a.Feedback)
	}
	got, err = a.Rate("r1", domain.Scores{Score: 5}, "", day("2025-10-21"), cal)
	thenError(t, got, err, domain.ErrState) // a good rating stands
}

// An open remediation is warned, marked overdue and escalated by the rule
// deadlines follow (domain.Escalation, SERVICEHALL_WARN_DAYS): each step
// once, none after the follow-up.
func TestRemediationIsWarnedAndEscalatedLikeADeadline(t *testing.T) {
	opened := append(done(),
		domain.ApplicationRated{By: "r1", Scores: domain.Scores{Score: 1}, Round: 1},
		domain.RemediationOpened{Round: 1, Due: day("2025-10-23")})
	rule := domain.DefaultEscalation // warn at one working day left, the second level three working days past
	a := given[domain.Application](t, opened...)
	var steps []domain.Event
	for d := day("2025-09-26"); !d.After(day("2025-11-07")); d = d.AddDays(1) {
		got, err := a.CheckRemediation(d, cal, rule)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range got {
			a.Apply(e)
		}
		steps = append(steps, got...)
	}
	then(t, steps, nil,
		domain.RemediationWarned{Round: 1, Date: day("2025-10-22"), DaysLeft: 1},
		domain.RemediationOverdue{Round: 1, Date: day("2025-10-24"), Due: day("2025-10-23")},
		domain.RemediationEscalated{Round: 1, Level: 1, Date: day("2025-10-24")},
		domain.RemediationEscalated{Round: 1, Level: 2, Date: day("2025-10-29")}) // 24, 27, 28, 29: more than three working days past

	// A wider warning window warns earlier; a closed remediation is left alone.
	a = given[domain.Application](t, opened...)
	got, err := a.CheckRemediation(day("2025-10-17"), cal, domain.Escalation{WarnAt: 4, SecondAfter: 3})
	then(t, got, err, domain.RemediationWarned{Round: 1, Date: day("2025-10-17"), DaysLeft: 4})
	a = given[domain.Application](t, append(opened,
		domain.RemediationStep{Step: "verify", By: "zhao.lead", Note: "x"},
		domain.RemediationStep{Step: "rectify", By: "zhao.lead", Note: "x"},
		domain.RemediationStep{Step: "reply", By: "zhao.lead", Note: "x"})...)
	got, err = a.CheckRemediation(day("2025-11-07"), cal, rule)
	then(t, got, err)
	// A good rating opens nothing to check.
	a = given[domain.Application](t, append(done(), domain.ApplicationRated{By: "r1", Scores: domain.Scores{Score: 5}, Round: 1})...)
	got, err = a.CheckRemediation(day("2025-11-07"), cal, rule)
	then(t, got, err)
}

// A visit is rated once its ticket is served: filed under the ticket's
// station, service, counter and the staff member who completed it. The
// staff member may not rate their own service. Its remediation follows
// the same rules as an application's.
func TestTicketRating(t *testing.T) {
	now := at("2025-10-13 09:30")
	q := given[domain.Queue](t,
		issued("t1", "A001", "birth", domain.Normal, 1, false),
		issued("t2", "A002", "birth", domain.Normal, 2, false),
		domain.CounterOpened{CounterID: "w1", ServiceIDs: []string{"birth"}},
		domain.TicketCalled{TicketID: "t1", CounterID: "w1", At: now},
		domain.ServiceStarted{TicketID: "t1", CounterID: "w1", At: now},
		domain.TicketCompleted{TicketID: "t1", CounterID: "w1", At: now},
		domain.TicketCalled{TicketID: "t2", CounterID: "w1", At: now})
	if _, err := q.Served("t9"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Served(unknown) = %v", err)
	}
	if _, err := q.Served("t2"); !errors.Is(err, domain.ErrState) {
		t.Errorf("Served(called, not served) = %v", err)
	}
	tk, err := q.Served("t1")
	if err != nil || tk.Counter != "w1" || tk.ServiceID != "birth" {
		t.Fatalf("Served(t1) = %+v, %v", tk, err)
	}
	served := domain.Served{TicketID: "t1", StationID: "gulou", ServiceID: "birth", Date: day("2025-10-13"), CounterID: "w1", Staff: "li.wei"}

	r := given[domain.TicketRating](t)
	got, err := r.Remediate("verify", "zhao.lead", "x")
	thenError(t, got, err, domain.ErrNotFound) // nothing rated
	got, err = r.Rate(served, "li.wei", domain.Scores{Score: 5}, "", day("2025-10-13"), cal)
	thenError(t, got, err, domain.ErrState) // their own service
	got, err = r.Rate(served, "kiosk.gulou", domain.Scores{Score: 7}, "", day("2025-10-13"), cal)
	thenError(t, got, err, domain.ErrInvalid)
	sc := domain.Scores{Score: 2, Attitude: 4, Efficiency: 1}
	got, err = r.Rate(served, "kiosk.gulou", sc, "等了很久", day("2025-10-13"), cal)
	rated := domain.TicketRated{TicketID: "t1", StationID: "gulou", ServiceID: "birth", Date: day("2025-10-13"), CounterID: "w1", Staff: "li.wei",
		By: "kiosk.gulou", Scores: sc, Comment: "等了很久", Round: 1}
	then(t, got, err, rated, domain.RemediationOpened{Round: 1, Due: day("2025-11-03")}) // 14-17, 20-24, 27-31 October, 3 November
	r = given[domain.TicketRating](t, got...)
	got, err = r.Rate(served, "kiosk.gulou", domain.Scores{Score: 5}, "", day("2025-10-13"), cal)
	thenError(t, got, err, domain.ErrState)
	got, err = r.CheckRemediation(day("2025-10-31"), cal, domain.DefaultEscalation)
	then(t, got, err, domain.RemediationWarned{Round: 1, Date: day("2025-10-31"), DaysLeft: 1})
	for _, step := range []string{"verify", "rectify", "reply"} {
		got, err = r.Remediate(step, "zhao.lead", "已回访")
		then(t, got, err, domain.RemediationStep{Step: step, By: "zhao.lead", Note: "已回访"})
		r.Apply(got[0])
	}
	// The resident, with the appointment the ticket served, rates again.
	served.AppointmentID, served.Owner = "a1", "resident:abc"
	got, err = r.Rate(served, "resident:abc", domain.Scores{Score: 4}, "", day("2025-11-03"), cal)
	rated.AppointmentID, rated.Owner, rated.By, rated.Scores, rated.Comment, rated.Round = "a1", "resident:abc", "resident:abc", domain.Scores{Score: 4}, "", 2
	then(t, got, err, rated)
	r.Apply(got[0])
	if r.Ticket.Score != 4 || r.Feedback.Rounds != 2 || r.Feedback.Remediating() {
		t.Fatalf("after the second rating: %+v", r)
	}
}
