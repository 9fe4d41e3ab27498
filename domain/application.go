package domain

import (
	"fmt"
	"strings"

	"github.com/servicehall/servicehall/domain/calendar"
)

// ApplicationState is where an application is in its life.
type ApplicationState string

// Application states.
const (
	Submitted ApplicationState = "submitted"
	Accepted  ApplicationState = "accepted"
	Supplying ApplicationState = "supplement_requested" // the clock is paused
	Approved  ApplicationState = "approved"
	Rejected  ApplicationState = "rejected"
	Completed ApplicationState = "completed"
	Withdrawn ApplicationState = "withdrawn"
)

// Events of an application (stream "application-{id}"). Every decision
// names who took it (谁审批谁负责).
type (
	ApplicationSubmitted struct {
		ID        string        `json:"ID"`
		StationID string        `json:"StationID"`
		ServiceID string        `json:"ServiceID"`
		Channel   string        `json:"Channel"`
		TicketID  string        `json:"TicketID,omitempty"`
		Applicant Person        `json:"Applicant"`
		Limit     int           `json:"Limit"`
		Unit      calendar.Unit `json:"Unit"`
		Owner     string        `json:"Owner,omitempty"` // the resident login it belongs to
	}
	ApplicationAccepted struct {
		By       string        `json:"By"`
		Date     calendar.Date `json:"Date"`
		Deadline calendar.Date `json:"Deadline"`
	}
	SupplementRequested struct {
		By      string        `json:"By"`
		Missing []string      `json:"Missing"`
		Date    calendar.Date `json:"Date"`
		Left    int           `json:"Left"` // days of the limit left when the clock stopped
	}
	SupplementReceived struct {
		Date     calendar.Date `json:"Date"`
		Deadline calendar.Date `json:"Deadline"`
	}
	DeadlineExtended struct {
		By       string        `json:"By"`
		Reason   string        `json:"Reason"`
		Days     int           `json:"Days"`
		Deadline calendar.Date `json:"Deadline"`
	}
	// DeadlineRecomputed follows a change of the calendar (a holiday
	// notice imported): the same days counted again.
	DeadlineRecomputed struct {
		From     calendar.Date `json:"From"`
		Deadline calendar.Date `json:"Deadline"`
	}
	ApplicationApproved struct {
		By   string `json:"By"`
		Note string `json:"Note"`
	}
	ApplicationRejected struct {
		By     string `json:"By"`
		Reason string `json:"Reason"`
	}
	ApplicationCompleted struct {
		By     string        `json:"By"`
		Date   calendar.Date `json:"Date"`
		OnTime bool          `json:"OnTime"`
	}
	ApplicationWithdrawn struct {
		By string `json:"By"`
	}
	ApplicationWarned struct {
		Date     calendar.Date `json:"Date"`
		DaysLeft int           `json:"DaysLeft"`
	}
	ApplicationOverdue struct {
		Date     calendar.Date `json:"Date"`
		Deadline calendar.Date `json:"Deadline"`
	}
	ApplicationEscalated struct {
		Level int           `json:"Level"` // 1 the station manager, 2 the level above
		Date  calendar.Date `json:"Date"`
	}
	ApplicationRated struct {
		By      string `json:"By"`
		Comment string `json:"Comment"`
		Scores         // rating.go
		Round   int    `json:"Round"`
	}
	RemediationOpened struct {
		Round int           `json:"Round"`
		Due   calendar.Date `json:"Due"`
	}
	RemediationStep struct {
		Step string `json:"Step"` // verify, rectify, reply
		By   string `json:"By"`
		Note string `json:"Note"`
	}
)

// Application is one case from submission to completion and rating.
type Application struct {
	ApplicationSubmitted
	Status     ApplicationState
	Deadline   calendar.Date
	ClockStart calendar.Date // acceptance, or the last resumption
	Left       int           // days of the limit left from ClockStart
	Warned     bool
	Overdue    bool
	Escalation int
	Feedback   Feedback // ratings and remediation (rating.go)
}

func (a *Application) Apply(e Event) {
	switch e := e.(type) {
	case ApplicationSubmitted:
		a.ApplicationSubmitted, a.Status = e, Submitted
	case ApplicationAccepted:
		a.Status, a.Deadline, a.ClockStart, a.Left = Accepted, e.Deadline, e.Date, a.Limit
	case SupplementRequested:
		a.Status, a.Left = Supplying, e.Left
	case SupplementReceived:
		a.Status, a.Deadline, a.ClockStart = Accepted, e.Deadline, e.Date
	case DeadlineExtended:
		a.Left += e.Days
		a.Deadline = e.Deadline
		a.Warned = false
	case DeadlineRecomputed:
		a.Deadline, a.Warned = e.Deadline, false
	case ApplicationApproved:
		a.Status = Approved
	case ApplicationRejected:
		a.Status = Rejected
	case ApplicationCompleted:
		a.Status = Completed
	case ApplicationWithdrawn:
		a.Status = Withdrawn
	case ApplicationWarned:
		a.Warned = true
	case ApplicationOverdue:
		a.Overdue = true
	case ApplicationEscalated:
		a.Escalation = e.Level
	case ApplicationRated, RemediationOpened, RemediationStep, RemediationWarned, RemediationOverdue, RemediationEscalated:
		a.Feedback.Apply(e)
	}
}

func (a *Application) Exists() bool { return a.Status != "" }

// Submit opens an application; online only where the service allows it.
func (a *Application) Submit(s ApplicationSubmitted, svc Service) ([]Event, error) {
	if a.Exists() {
		if a.ApplicationSubmitted.ID == s.ID && a.Applicant.Ref == s.Applicant.Ref {
			return nil, nil
		}
		return nil, illegal("application %s exists", s.ID)
	}
	switch s.Channel {
	case "counter":
	case "online":
		if !svc.Online {
			return nil, &FieldError{"channel", invalid("%s cannot be applied for online (该业务不支持网上申请)", svc.ID)}
		}
	default:
		return nil, &FieldError{"channel", invalid("online or counter (渠道应为 online 或 counter)")}
	}
	s.ServiceID, s.Limit, s.Unit = svc.ID, svc.TimeLimitDays, svc.TimeLimitUnit
	return []Event{s}, nil
}

func (a *Application) in(states ...ApplicationState) error {
	if !a.Exists() {
		return fmt.Errorf("%w: application (申请不存在)", ErrNotFound)
	}
	for _, s := range states {
		if a.Status == s {
			return nil
		}
	}
	return illegal("the application is %s (申请状态为 %s)", a.Status, a.Status)
}

// Accept starts the clock: the deadline is the end of the Nth day after today.
func (a *Application) Accept(by string, today calendar.Date, cal *calendar.Calendar) ([]Event, error) {
	if err := a.in(Submitted); err != nil {
		return nil, err
	}
	return []Event{ApplicationAccepted{by, today, cal.Add(today, a.Limit, a.Unit)}}, nil
}

// RequestSupplement stops the clock until the materials arrive (补正).
func (a *Application) RequestSupplement(by string, missing []string, today calendar.Date, cal *calendar.Calendar) ([]Event, error) {
	if err := a.in(Accepted); err != nil {
		return nil, err
	}
	if len(missing) == 0 {
		return nil, &FieldError{"missing", invalid("name the missing materials (请列明需补正的材料)")}
	}
	if err := CheckText("missing", strings.Join(missing, "\n")); err != nil {
		return nil, err
	}
	left := max(0, a.Left-cal.Between(a.ClockStart, today, a.Unit))
	return []Event{SupplementRequested{by, missing, today, left}}, nil
}

// ReceiveSupplement restarts the clock with the days that were left; the day
// of receipt is not counted, as the day of acceptance is not.
func (a *Application) ReceiveSupplement(today calendar.Date, cal *calendar.Calendar) ([]Event, error) {
	if err := a.in(Supplying); err != nil {
		return nil, err
	}
	return []Event{SupplementReceived{today, cal.Add(today, a.Left, a.Unit)}}, nil
}

// Recompute counts an accepted application's days again on cal, from when
// its clock last started: a holiday notice imported after acceptance moves
// the deadline. A paused clock is counted when it restarts.
func (a *Application) Recompute(cal *calendar.Calendar) ([]Event, error) {
	if a.Status != Accepted {
		return nil, nil
	}
	d := cal.Add(a.ClockStart, a.Left, a.Unit)
	if d == a.Deadline {
		return nil, nil
	}
	return []Event{DeadlineRecomputed{a.Deadline, d}}, nil
}

// Extend adds days (in the service's unit) by a manager's decision.
func (a *Application) Extend(by, reason string, days int, cal *calendar.Calendar) ([]Event, error) {
	if err := a.in(Accepted, Supplying); err != nil {
		return nil, err
	}
	if days < 1 || days > 60 {
		return nil, &FieldError{"days", invalid("1 to 60 days (延期天数应为1-60)")}
	}
	if err := CheckText("reason", reason); err != nil {
		return nil, err
	}
	if strings.TrimSpace(reason) == "" {
		return nil, &FieldError{"reason", invalid("a reason is required (请填写延期理由)")}
	}
	deadline := a.Deadline
	if a.Status == Accepted {
		deadline = cal.Add(a.ClockStart, a.Left+days, a.Unit)
	}
	return []Event{DeadlineExtended{by, reason, days, deadline}}, nil
}

func (a *Application) Approve(by, note string) ([]Event, error) {
	if err := a.in(Accepted); err != nil {
		return nil, err
	}
	if err := CheckText("note", note); err != nil {
		return nil, err
	}
	return []Event{ApplicationApproved{by, note}}, nil
}

func (a *Application) Reject(by, reason string) ([]Event, error) {
	if err := a.in(Accepted, Supplying); err != nil {
		return nil, err
	}
	if err := CheckText("reason", reason); err != nil {
		return nil, err
	}
	if strings.TrimSpace(reason) == "" {
		return nil, &FieldError{"reason", invalid("a reason is required (请填写不予办理的理由)")}
	}
	return []Event{ApplicationRejected{by, reason}}, nil
}

// Complete closes an approved application (办结), on time or not.
func (a *Application) Complete(by string, today calendar.Date) ([]Event, error) {
	if err := a.in(Approved); err != nil {
		return nil, err
	}
	return []Event{ApplicationCompleted{by, today, !today.After(a.Deadline)}}, nil
}

func (a *Application) Withdraw(by string) ([]Event, error) {
	if err := a.in(Submitted, Accepted, Supplying); err != nil {
		return nil, err
	}
	return []Event{ApplicationWithdrawn{by}}, nil
}

// DaysLeft counts the days of the limit left after today (0 on the deadline,
// negative when overdue).
func (a *Application) DaysLeft(today calendar.Date, cal *calendar.Calendar) int {
	if a.Status == Supplying {
		return a.Left
	}
	return cal.Between(today, a.Deadline, a.Unit)
}

// Escalation holds the escalation rules; DefaultEscalation has the defaults.
type Escalation struct {
	WarnAt      int // warn when this many working days or fewer are left
	SecondAfter int // escalate one level higher this many working days past the deadline
}

var DefaultEscalation = Escalation{WarnAt: 1, SecondAfter: 3}

// Check is the escalation job's step: warn near the deadline, mark overdue
// and escalate past it, escalate again later. Each step happens once; a
// paused clock does none.
func (a *Application) Check(today calendar.Date, cal *calendar.Calendar, rule Escalation) ([]Event, error) {
	if a.Status != Accepted {
		return nil, nil
	}
	var out []Event
	left := a.DaysLeft(today, cal)
	if !a.Warned && left >= 0 && cal.WorkingDaysBetween(today, a.Deadline) <= rule.WarnAt {
		out = append(out, ApplicationWarned{today, left})
	}
	if today.After(a.Deadline) {
		if !a.Overdue {
			out = append(out, ApplicationOverdue{today, a.Deadline})
		}
		if a.Escalation < 1 {
			out = append(out, ApplicationEscalated{1, today})
		}
		if a.Escalation < 2 && cal.WorkingDaysBetween(a.Deadline, today) > rule.SecondAfter {
			out = append(out, ApplicationEscalated{2, today})
		}
	}
	return out, nil
}

// Rate records the resident's rating (好差评) of a finished application;
// Feedback decides the rest (rating.go).
func (a *Application) Rate(by string, sc Scores, comment string, today calendar.Date, cal *calendar.Calendar) ([]Event, error) {
	if err := a.in(Completed, Rejected); err != nil {
		return nil, err
	}
	return a.Feedback.rate(sc, comment, today, cal, func(round int) Event {
		return ApplicationRated{By: by, Comment: comment, Scores: sc, Round: round}
	})
}

func init() {
	register(map[string]Event{
		"ApplicationSubmitted": ApplicationSubmitted{},
		"ApplicationAccepted":  ApplicationAccepted{},
		"SupplementRequested":  SupplementRequested{},
		"SupplementReceived":   SupplementReceived{},
		"DeadlineExtended":     DeadlineExtended{},
		"DeadlineRecomputed":   DeadlineRecomputed{},
		"ApplicationApproved":  ApplicationApproved{},
		"ApplicationRejected":  ApplicationRejected{},
		"ApplicationCompleted": ApplicationCompleted{},
		"ApplicationWithdrawn": ApplicationWithdrawn{},
		"ApplicationWarned":    ApplicationWarned{},
		"ApplicationOverdue":   ApplicationOverdue{},
		"ApplicationEscalated": ApplicationEscalated{},
		"ApplicationRated":     ApplicationRated{},
		"RemediationOpened":    RemediationOpened{},
		"RemediationStep":      RemediationStep{},
	})
}
