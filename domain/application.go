package domain

import (
	"errors"
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
		// The statute's limit (法定时限), when the catalogue names one
		// beyond the promised Limit.
		LegalLimit int           `json:"LegalLimit,omitempty"`
		LegalUnit  calendar.Unit `json:"LegalUnit,omitempty"`
		// AcceptBy is when an online application is promised an answer
		// (待受理 until then).
		AcceptBy calendar.Date `json:"AcceptBy,omitzero"`
	}
	ApplicationAccepted struct {
		By            string        `json:"By"`
		Date          calendar.Date `json:"Date"`
		Deadline      calendar.Date `json:"Deadline"`
		LegalDeadline calendar.Date `json:"LegalDeadline,omitzero"`
	}
	SupplementRequested struct {
		By        string        `json:"By"`
		Missing   []string      `json:"Missing"`
		Date      calendar.Date `json:"Date"`
		Left      int           `json:"Left"` // days of the limit left when the clock stopped
		LegalLeft int           `json:"LegalLeft,omitempty"`
	}
	SupplementReceived struct {
		Date          calendar.Date `json:"Date"`
		Deadline      calendar.Date `json:"Deadline"`
		LegalDeadline calendar.Date `json:"LegalDeadline,omitzero"`
	}
	// LegalLimitPassed: the statute's limit is over; the application
	// escalates a level higher and can no longer be extended.
	LegalLimitPassed struct {
		Date     calendar.Date `json:"Date"`
		Deadline calendar.Date `json:"Deadline"`
	}
	// AcceptanceWarned and AcceptanceOverdue follow an online application
	// waiting to be accepted, as the deadline's warnings do.
	AcceptanceWarned struct {
		Date calendar.Date `json:"Date"`
	}
	AcceptanceOverdue struct {
		Date     calendar.Date `json:"Date"`
		AcceptBy calendar.Date `json:"AcceptBy"`
	}
	// ApplicationReady: the document can be collected (待领取).
	ApplicationReady struct {
		By    string        `json:"By"`
		Date  calendar.Date `json:"Date"`
		Where string        `json:"Where,omitempty"`
	}
	ApplicationCollected struct {
		By   string        `json:"By"`
		Date calendar.Date `json:"Date"`
	}
	// ApplicationNoticed records a text sent to the applicant, once.
	ApplicationNoticed struct {
		Kind string        `json:"Kind"`
		Date calendar.Date `json:"Date"`
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
		From          calendar.Date `json:"From"`
		Deadline      calendar.Date `json:"Deadline"`
		LegalDeadline calendar.Date `json:"LegalDeadline,omitzero"`
	}
	ApplicationApproved struct {
		By   string `json:"By"`
		Note string `json:"Note"`
	}
	ApplicationRejected struct {
		By     string `json:"By"`
		Reason string `json:"Reason"`
		Basis  string `json:"Basis,omitempty"` // the legal basis (法律依据)
	}
	ApplicationCompleted struct {
		By     string        `json:"By"`
		Date   calendar.Date `json:"Date"`
		OnTime bool          `json:"OnTime"`
	}
	ApplicationWithdrawn struct {
		By     string `json:"By"`
		Reason string `json:"Reason,omitempty"` // the applicant's request, when the desk records it
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
	// The statute's deadline, and its days left from ClockStart.
	LegalDeadline calendar.Date
	LegalLeft     int
	LegalPassed   bool
	Extended      bool // once: 行政许可法 第四十二条 allows one extension
	AcceptWarned  bool
	AcceptOverdue bool
	Ready         bool // the document waits to be collected
	Collected     bool
	Noticed       map[string]bool
	Warned        bool
	Overdue       bool
	Escalation    int
	Feedback      Feedback // ratings and remediation (rating.go)
}

func (a *Application) Apply(e Event) {
	switch e := e.(type) {
	case ApplicationSubmitted:
		a.ApplicationSubmitted, a.Status = e, Submitted
	case ApplicationAccepted:
		a.Status, a.Deadline, a.ClockStart, a.Left = Accepted, e.Deadline, e.Date, a.Limit
		a.LegalDeadline, a.LegalLeft = e.LegalDeadline, a.LegalLimit
	case SupplementRequested:
		a.Status, a.Left, a.LegalLeft = Supplying, e.Left, e.LegalLeft
	case SupplementReceived:
		a.Status, a.Deadline, a.ClockStart, a.LegalDeadline = Accepted, e.Deadline, e.Date, e.LegalDeadline
	case LegalLimitPassed:
		a.LegalPassed = true
	case AcceptanceWarned:
		a.AcceptWarned = true
	case AcceptanceOverdue:
		a.AcceptOverdue = true
	case ApplicationReady:
		a.Ready = true
	case ApplicationCollected:
		a.Ready, a.Collected = false, true
	case ApplicationNoticed:
		if a.Noticed == nil {
			a.Noticed = map[string]bool{}
		}
		a.Noticed[e.Kind] = true
	case DeadlineExtended:
		a.Extended = true
		a.Left += e.Days
		a.Deadline = e.Deadline
		a.Warned = false
	case DeadlineRecomputed:
		a.Deadline, a.Warned = e.Deadline, false
		if !e.LegalDeadline.IsZero() {
			a.LegalDeadline = e.LegalDeadline
		}
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

// OnlineAcceptDays is the working days within which an online application
// is promised an answer (网上申请受理时限).
const OnlineAcceptDays = 1

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
	if svc.LegalLimitDays > 0 {
		s.LegalLimit, s.LegalUnit = svc.Legal()
	}
	if s.Channel != "online" {
		s.AcceptBy = calendar.Date{} // accepted at the counter, on the spot
	}
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
	return []Event{ApplicationAccepted{by, today, cal.Add(today, a.Limit, a.Unit), a.legalDeadline(today, a.LegalLimit, cal)}}, nil
}

// legalDeadline is the statute's deadline with left days from start, or
// none when the catalogue names no legal limit.
func (a *Application) legalDeadline(start calendar.Date, left int, cal *calendar.Calendar) calendar.Date {
	if a.LegalLimit == 0 {
		return calendar.Date{}
	}
	return cal.Add(start, left, a.LegalUnit)
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
	legalLeft := 0
	if a.LegalLimit > 0 {
		legalLeft = max(0, a.LegalLeft-cal.Between(a.ClockStart, today, a.LegalUnit))
	}
	return []Event{SupplementRequested{by, missing, today, left, legalLeft}}, nil
}

// ReceiveSupplement restarts the clock with the days that were left; the day
// of receipt is not counted, as the day of acceptance is not.
func (a *Application) ReceiveSupplement(today calendar.Date, cal *calendar.Calendar) ([]Event, error) {
	if err := a.in(Supplying); err != nil {
		return nil, err
	}
	return []Event{SupplementReceived{today, cal.Add(today, a.Left, a.Unit), a.legalDeadline(today, a.LegalLeft, cal)}}, nil
}

// Recompute counts an accepted application's days again on cal, from when
// its clock last started: a holiday notice imported after acceptance moves
// the deadline. A paused clock is counted when it restarts.
func (a *Application) Recompute(cal *calendar.Calendar) ([]Event, error) {
	if a.Status != Accepted {
		return nil, nil
	}
	d, legal := cal.Add(a.ClockStart, a.Left, a.Unit), a.legalDeadline(a.ClockStart, a.LegalLeft, cal)
	if d == a.Deadline && legal == a.LegalDeadline {
		return nil, nil
	}
	return []Event{DeadlineRecomputed{a.Deadline, d, legal}}, nil
}

// Extend adds days (in the service's unit) by a manager's decision.
// Only before the legal limit: the statute's time cannot be stretched.
func (a *Application) Extend(by, reason string, days int, today calendar.Date, cal *calendar.Calendar) ([]Event, error) {
	if err := a.in(Accepted, Supplying); err != nil {
		return nil, err
	}
	if a.LegalPassed || (!a.LegalDeadline.IsZero() && today.After(a.LegalDeadline)) {
		return nil, illegal("past the legal limit of %s: no extension (已超过法定时限 %s，不得延期)", a.LegalDeadline, a.LegalDeadline)
	}
	if a.Extended {
		return nil, illegal("extended once already: a deadline is extended once (已延期一次，不得再次延期)")
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

func (a *Application) Reject(by, reason, basis string) ([]Event, error) {
	if err := a.in(Accepted, Supplying); err != nil {
		return nil, err
	}
	if err := errors.Join(CheckText("reason", reason), CheckText("basis", basis)); err != nil {
		return nil, err
	}
	if strings.TrimSpace(reason) == "" {
		return nil, &FieldError{"reason", invalid("a reason is required (请填写不予办理的理由)")}
	}
	return []Event{ApplicationRejected{by, reason, strings.TrimSpace(basis)}}, nil
}

// Complete closes an approved application (办结), on time or not.
func (a *Application) Complete(by string, today calendar.Date) ([]Event, error) {
	if err := a.in(Approved); err != nil {
		return nil, err
	}
	return []Event{ApplicationCompleted{by, today, !today.After(a.Deadline)}}, nil
}

// Withdraw ends an application at its applicant's wish. The desk may
// record that wish, with what the applicant asked (a withdrawal counts in
// no rate: without a reason it would hide an overdue case).
func (a *Application) Withdraw(by, reason string, atDesk bool) ([]Event, error) {
	if err := a.in(Submitted, Accepted, Supplying); err != nil {
		return nil, err
	}
	if err := CheckText("reason", reason); err != nil {
		return nil, err
	}
	if atDesk && strings.TrimSpace(reason) == "" {
		return nil, &FieldError{"reason", invalid("the applicant's request to withdraw, as they made it (请写明申请人的撤回申请)")}
	}
	return []Event{ApplicationWithdrawn{by, strings.TrimSpace(reason)}}, nil
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
	if a.Status == Submitted && !a.AcceptBy.IsZero() {
		return a.checkAcceptance(today, cal, rule), nil
	}
	if a.Status != Accepted {
		return nil, nil
	}
	var out []Event
	if !a.LegalDeadline.IsZero() && today.After(a.LegalDeadline) {
		if !a.LegalPassed {
			out = append(out, LegalLimitPassed{today, a.LegalDeadline})
		}
		if a.Escalation < 2 {
			// The statute's limit passed: the level above, whatever the
			// promised deadline says.
			if !a.Overdue && today.After(a.Deadline) {
				out = append(out, ApplicationOverdue{today, a.Deadline})
			}
			return append(out, ApplicationEscalated{2, today}), nil
		}
	}
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

// checkAcceptance warns near and escalates past the promised time to
// accept an online application.
func (a *Application) checkAcceptance(today calendar.Date, cal *calendar.Calendar, rule Escalation) []Event {
	var out []Event
	if !a.AcceptWarned && !today.After(a.AcceptBy) && cal.WorkingDaysBetween(today, a.AcceptBy) <= rule.WarnAt {
		out = append(out, AcceptanceWarned{today})
	}
	if today.After(a.AcceptBy) {
		if !a.AcceptOverdue {
			out = append(out, AcceptanceOverdue{today, a.AcceptBy})
		}
		if a.Escalation < 1 {
			out = append(out, ApplicationEscalated{1, today})
		}
	}
	return out
}

// MarkReady records that a concluded application's document can be
// collected; the applicant is told by the send-notices job.
func (a *Application) MarkReady(by, where string, today calendar.Date) ([]Event, error) {
	if err := a.in(Completed, Approved); err != nil {
		return nil, err
	}
	if a.Ready {
		return nil, nil
	}
	if a.Collected {
		return nil, illegal("already collected (已领取)")
	}
	if err := CheckText("where", where); err != nil {
		return nil, err
	}
	return []Event{ApplicationReady{by, today, where}}, nil
}

// Collect records that the applicant took the document.
func (a *Application) Collect(by string, today calendar.Date) ([]Event, error) {
	if a.Collected {
		return nil, nil
	}
	if !a.Ready {
		return nil, illegal("the document is not ready for collection (证件尚未制成待领)")
	}
	return []Event{ApplicationCollected{by, today}}, nil
}

// Notify records a text sent to the applicant, once per kind.
func (a *Application) Notify(kind string, today calendar.Date) ([]Event, error) {
	if !a.Exists() {
		return nil, fmt.Errorf("%w: application (申请不存在)", ErrNotFound)
	}
	if a.Noticed[kind] {
		return nil, nil
	}
	return []Event{ApplicationNoticed{kind, today}}, nil
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
		"LegalLimitPassed":     LegalLimitPassed{},
		"AcceptanceWarned":     AcceptanceWarned{},
		"AcceptanceOverdue":    AcceptanceOverdue{},
		"ApplicationReady":     ApplicationReady{},
		"ApplicationCollected": ApplicationCollected{},
		"ApplicationNoticed":   ApplicationNoticed{},
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
