package domain

import (
	"fmt"
	"strings"

	"github.com/servicehall/servicehall/domain/calendar"
)

// Ratings (好差评) as 国办发〔2019〕51号 sets them out: each service given is
// rated on five levels, a visit to a counter as well as an application; a
// bad rating (差评) is verified, rectified and followed up with the
// resident (核实、整改、回访) within fifteen working days, after which the
// resident may rate again. A rating is filed under the staff member who
// gave the service, whose record it is.

// RemediationDays is how many working days a bad rating's remediation may
// take: the national rule's fifteen.
const RemediationDays = 15

// Scores is one rating: the overall score and, when the resident gives
// them, the scores of the dimensions the national system asks about. Each
// is 1 (very poor, 非常不满意) to 5 (very good, 非常满意); a dimension left
// out is 0.
type Scores struct {
	Score      int `json:"Score"`
	Attitude   int `json:"Attitude,omitempty"`   // 服务态度
	Efficiency int `json:"Efficiency,omitempty"` // 办事效率
	Competence int `json:"Competence,omitempty"` // 业务能力
}

// Check refuses scores out of 1..5, the overall one missing included.
func (s Scores) Check() error {
	var errs []error
	if s.Score < 1 || s.Score > 5 {
		errs = append(errs, &FieldError{"score", invalid("1 to 5 (评分应为1-5)")})
	}
	for _, d := range []struct {
		field string
		score int
	}{{"attitude", s.Attitude}, {"efficiency", s.Efficiency}, {"competence", s.Competence}} {
		if d.score < 0 || d.score > 5 {
			errs = append(errs, &FieldError{d.field, invalid("1 to 5, or left out (评分应为1-5，可不填)")})
		}
	}
	return joinErrs(errs)
}

// Bad says whether the rating is a bad one (差评: 1 or 2), which opens a
// remediation.
func (s Scores) Bad() bool { return s.Score <= 2 }

// Events of ratings. A ticket's rating has a stream of its own
// ("rating-{ticket}"); an application's rating, its remediation and its
// warnings are in the application's stream, as ApplicationRated,
// RemediationOpened and RemediationStep always were.
type (
	// TicketRated is a served ticket's rating, with what the ticket's day
	// recorded of the service, so that the rating is filed without the
	// queue: the staff member is who completed the ticket at the counter.
	TicketRated struct {
		TicketID      string        `json:"TicketID"`
		StationID     string        `json:"StationID"`
		ServiceID     string        `json:"ServiceID"`
		Date          calendar.Date `json:"Date"` // the day it was served
		CounterID     string        `json:"CounterID"`
		Staff         string        `json:"Staff"`
		AppointmentID string        `json:"AppointmentID,omitempty"`
		Owner         string        `json:"Owner,omitempty"` // the resident login holding the appointment
		By            string        `json:"By"`              // who rated: that login, or the hall's kiosk
		Scores
		Comment string `json:"Comment"`
		Round   int    `json:"Round"`
	}
	// RemediationWarned, RemediationOverdue and RemediationEscalated are
	// the escalation job's steps on a remediation, as on a deadline.
	RemediationWarned struct {
		Round    int           `json:"Round"`
		Date     calendar.Date `json:"Date"`
		DaysLeft int           `json:"DaysLeft"`
	}
	RemediationOverdue struct {
		Round int           `json:"Round"`
		Date  calendar.Date `json:"Date"`
		Due   calendar.Date `json:"Due"`
	}
	RemediationEscalated struct {
		Round int           `json:"Round"`
		Level int           `json:"Level"` // 1 the station manager, 2 the level above
		Date  calendar.Date `json:"Date"`
	}
)

// Feedback is what a rated thing (an application, a ticket) has been given:
// its ratings and the remediation of a bad one.
type Feedback struct {
	Rounds int    // ratings given
	Last   Scores // the latest
	// Remedy is the last remediation step taken: "opened", "verify",
	// "rectify" while one is open, "reply" once it is closed; "" if the
	// latest rating opened none.
	Remedy     string
	Due        calendar.Date // the open remediation's
	Warned     bool
	Overdue    bool
	Escalation int
}

func (f *Feedback) Apply(e Event) {
	switch e := e.(type) {
	case ApplicationRated:
		f.Rounds, f.Last, f.Remedy = e.Round, e.Scores, ""
	case TicketRated:
		f.Rounds, f.Last, f.Remedy = e.Round, e.Scores, ""
	case RemediationOpened:
		f.Remedy, f.Due, f.Warned, f.Overdue, f.Escalation = "opened", e.Due, false, false, 0
	case RemediationStep:
		f.Remedy = e.Step
	case RemediationWarned:
		f.Warned = true
	case RemediationOverdue:
		f.Overdue = true
	case RemediationEscalated:
		f.Escalation = e.Level
	}
}

// Remediating says whether a remediation is open: opened and not yet
// followed up.
func (f *Feedback) Remediating() bool { return f.Remedy != "" && f.Remedy != "reply" }

// rate decides a rating: the first, or one after a remediation's reply (the
// resident rates the rectified service again, and the new rating replaces
// the old). A bad one opens a remediation due RemediationDays working days
// after today. rated makes the rating's event for its round.
func (f *Feedback) rate(s Scores, comment string, today calendar.Date, cal *calendar.Calendar, rated func(round int) Event) ([]Event, error) {
	if err := joinErrs([]error{s.Check(), CheckText("comment", comment)}); err != nil {
		return nil, err
	}
	switch {
	case f.Rounds == 0, f.Remedy == "reply":
	case f.Remediating():
		return nil, illegal("already rated; you may rate again once the bad rating is followed up (已评价，差评整改回访后可再次评价)")
	default:
		return nil, illegal("already rated (已评价)")
	}
	round := f.Rounds + 1
	out := []Event{rated(round)}
	if s.Bad() {
		out = append(out, RemediationOpened{round, cal.AddWorkingDays(today, RemediationDays)})
	}
	return out, nil
}

var remedySteps = map[string]string{"verify": "opened", "rectify": "verify", "reply": "rectify"}

// remediate takes the next step of an open remediation: verify (核实),
// rectify (整改), then reply (回访): the follow-up with the resident,
// whose note records what they were told and said. The reply closes it.
func (f *Feedback) remediate(step, by, note string) ([]Event, error) {
	before, ok := remedySteps[step]
	if !ok {
		return nil, invalid("step %q: verify, rectify or reply (整改步骤应为 verify、rectify 或 reply)", step)
	}
	if f.Remedy != before {
		if f.Remedy == "" || f.Remedy == "reply" {
			return nil, illegal("no remediation is open (无待整改的差评)")
		}
		return nil, illegal("remediation step %s not allowed now: %s comes next (整改步骤顺序不符)", step, stepAfter(f.Remedy))
	}
	if err := CheckText("note", note); err != nil {
		return nil, err
	}
	if strings.TrimSpace(note) == "" {
		return nil, &FieldError{"note", invalid("a note is required (请填写说明)")}
	}
	return []Event{RemediationStep{step, by, note}}, nil
}

// stepAfter is the remediation step that follows step.
func stepAfter(step string) string {
	for s, before := range remedySteps {
		if before == step {
			return s
		}
	}
	return ""
}

// check is the escalation job's step on an open remediation, by the rule
// deadlines follow: a warning with rule.WarnAt working days or fewer left,
// overdue and escalated to the station manager past the due day, one level
// higher rule.SecondAfter working days later. Each happens once.
func (f *Feedback) check(today calendar.Date, cal *calendar.Calendar, rule Escalation) []Event {
	if !f.Remediating() {
		return nil
	}
	var out []Event
	left := cal.WorkingDaysBetween(today, f.Due)
	if !f.Warned && left >= 0 && left <= rule.WarnAt {
		out = append(out, RemediationWarned{f.Rounds, today, left})
	}
	if today.After(f.Due) {
		if !f.Overdue {
			out = append(out, RemediationOverdue{f.Rounds, today, f.Due})
		}
		if f.Escalation < 1 {
			out = append(out, RemediationEscalated{f.Rounds, 1, today})
		}
		if f.Escalation < 2 && cal.WorkingDaysBetween(f.Due, today) > rule.SecondAfter {
			out = append(out, RemediationEscalated{f.Rounds, 2, today})
		}
	}
	return out
}

// Remediate takes the next step of the remediation of an application's bad
// rating: verify, rectify, reply.
func (a *Application) Remediate(step, by, note string) ([]Event, error) {
	if !a.Exists() {
		return nil, fmt.Errorf("%w: application (申请不存在)", ErrNotFound)
	}
	return a.Feedback.remediate(step, by, note)
}

// CheckRemediation warns, marks overdue and escalates the remediation of
// an application's bad rating, as Check does its deadline.
func (a *Application) CheckRemediation(today calendar.Date, cal *calendar.Calendar, rule Escalation) ([]Event, error) {
	return a.Feedback.check(today, cal, rule), nil
}

// Served is a ticket as its day's queue served it: what a rating is filed
// under.
type Served struct {
	TicketID      string
	StationID     string
	ServiceID     string
	Date          calendar.Date
	CounterID     string
	Staff         string // who completed it at the counter
	AppointmentID string
	Owner         string // the resident login holding the appointment, if any
}

// Served returns a ticket that was served to the end (办结): only such a
// visit is rated.
func (q *Queue) Served(id string) (Ticket, error) {
	t, ok := q.tickets[id]
	if !ok {
		return Ticket{}, fmt.Errorf("%w: ticket (无此号)", ErrNotFound)
	}
	if t.State != Done {
		return Ticket{}, illegal("ticket %s is %s, not served: a visit is rated once served (该号尚未办结，办结后方可评价)", t.Number, t.State)
	}
	return *t, nil
}

// TicketRating is the rating of one served ticket (stream
// "rating-{ticket}").
type TicketRating struct {
	Ticket   TicketRated // the latest rating, with the ticket's facts
	Feedback Feedback
}

func (t *TicketRating) Apply(e Event) {
	if r, ok := e.(TicketRated); ok {
		t.Ticket = r
	}
	t.Feedback.Apply(e)
}

func (t *TicketRating) Exists() bool { return t.Feedback.Rounds > 0 }

// Rate records a rating of the served ticket s, by its resident or at the
// hall's kiosk on their behalf: once, and once more after a remediation's
// reply. The staff member who served it may not rate it.
func (t *TicketRating) Rate(s Served, by string, sc Scores, comment string, today calendar.Date, cal *calendar.Calendar) ([]Event, error) {
	if by == s.Staff {
		return nil, illegal("a rating is the resident's: nobody rates their own service (不能评价本人办理的业务)")
	}
	return t.Feedback.rate(sc, comment, today, cal, func(round int) Event {
		return TicketRated{TicketID: s.TicketID, StationID: s.StationID, ServiceID: s.ServiceID, Date: s.Date, CounterID: s.CounterID, Staff: s.Staff,
			AppointmentID: s.AppointmentID, Owner: s.Owner, By: by, Scores: sc, Comment: comment, Round: round}
	})
}

// Remediate takes the next step of the remediation of the ticket's bad
// rating: verify, rectify, reply.
func (t *TicketRating) Remediate(step, by, note string) ([]Event, error) {
	if !t.Exists() {
		return nil, fmt.Errorf("%w: rating (该号尚无评价)", ErrNotFound)
	}
	return t.Feedback.remediate(step, by, note)
}

// CheckRemediation warns, marks overdue and escalates the remediation of
// the ticket's bad rating.
func (t *TicketRating) CheckRemediation(today calendar.Date, cal *calendar.Calendar, rule Escalation) ([]Event, error) {
	return t.Feedback.check(today, cal, rule), nil
}

func init() {
	register(map[string]Event{
		"TicketRated":          TicketRated{},
		"RemediationWarned":    RemediationWarned{},
		"RemediationOverdue":   RemediationOverdue{},
		"RemediationEscalated": RemediationEscalated{},
	})
}
