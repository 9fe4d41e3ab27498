package command

import (
	"context"
	"fmt"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
)

// ApplicationStep is one step in handling an application. The types below
// are the steps, each with the body its request carries.
type ApplicationStep interface {
	decide(a *domain.Application, by string, today calendar.Date, cal *calendar.Calendar) ([]domain.Event, error)
}

type (
	Accept            struct{}
	RequestSupplement struct {
		Missing []string `json:"missing" description:"the materials missing, all at once (一次性告知)"`
	}
	ReceiveSupplement struct{}
	Approve           struct {
		Note string `json:"note"`
	}
	Reject struct {
		Reason string `json:"reason"`
		Basis  string `json:"basis,omitempty" description:"the legal basis of the refusal (法律依据)"`
	}
	CompleteApplication struct{}
	Extend              struct {
		Reason string `json:"reason"`
		Days   int    `json:"days"`
	}
	Withdraw struct {
		Reason string `json:"reason,omitempty" description:"at the desk, the applicant's request to withdraw (required there)"`
		AtDesk bool   `json:"-"` // staff or a manager records it, not the applicant
	}
	MarkReady struct {
		Where string `json:"where,omitempty" description:"where to collect it, e.g. 3号窗口"`
	}
	Collect struct{}
	// Rate is a rating (好差评) of an application or a visit: the overall
	// score and, optionally, the dimensions the national system asks about.
	Rate struct {
		Score      int    `json:"score" minimum:"1" maximum:"5"`
		Attitude   int    `json:"attitude,omitempty" minimum:"1" maximum:"5" description:"服务态度, optional"`
		Efficiency int    `json:"efficiency,omitempty" minimum:"1" maximum:"5" description:"办事效率, optional"`
		Competence int    `json:"competence,omitempty" minimum:"1" maximum:"5" description:"业务能力, optional"`
		Comment    string `json:"comment"`
	}
	// Remediate is a step of handling a bad rating: verify, rectify, reply.
	Remediate struct {
		Step string `json:"-"`
		Note string `json:"note"`
	}
)

func (Accept) decide(a *domain.Application, by string, today calendar.Date, cal *calendar.Calendar) ([]domain.Event, error) {
	return a.Accept(by, today, cal)
}
func (s RequestSupplement) decide(a *domain.Application, by string, today calendar.Date, cal *calendar.Calendar) ([]domain.Event, error) {
	return a.RequestSupplement(by, s.Missing, today, cal)
}
func (ReceiveSupplement) decide(a *domain.Application, _ string, today calendar.Date, cal *calendar.Calendar) ([]domain.Event, error) {
	return a.ReceiveSupplement(today, cal)
}
func (s Approve) decide(a *domain.Application, by string, _ calendar.Date, _ *calendar.Calendar) ([]domain.Event, error) {
	return a.Approve(by, s.Note)
}
func (s Reject) decide(a *domain.Application, by string, _ calendar.Date, _ *calendar.Calendar) ([]domain.Event, error) {
	return a.Reject(by, s.Reason, s.Basis)
}
func (CompleteApplication) decide(a *domain.Application, by string, today calendar.Date, _ *calendar.Calendar) ([]domain.Event, error) {
	return a.Complete(by, today)
}
func (s Extend) decide(a *domain.Application, by string, today calendar.Date, cal *calendar.Calendar) ([]domain.Event, error) {
	return a.Extend(by, s.Reason, s.Days, today, cal)
}
func (s MarkReady) decide(a *domain.Application, by string, today calendar.Date, _ *calendar.Calendar) ([]domain.Event, error) {
	return a.MarkReady(by, s.Where, today)
}
func (Collect) decide(a *domain.Application, by string, today calendar.Date, _ *calendar.Calendar) ([]domain.Event, error) {
	return a.Collect(by, today)
}
func (s Withdraw) decide(a *domain.Application, by string, _ calendar.Date, _ *calendar.Calendar) ([]domain.Event, error) {
	return a.Withdraw(by, s.Reason, s.AtDesk)
}
func (s Rate) decide(a *domain.Application, by string, today calendar.Date, cal *calendar.Calendar) ([]domain.Event, error) {
	return a.Rate(by, s.Scores(), s.Comment, today, cal)
}

// Scores are the rating's scores.
func (s Rate) Scores() domain.Scores {
	return domain.Scores{Score: s.Score, Attitude: s.Attitude, Efficiency: s.Efficiency, Competence: s.Competence}
}

func (s Remediate) decide(a *domain.Application, by string, _ calendar.Date, _ *calendar.Calendar) ([]domain.Event, error) {
	return a.Remediate(s.Step, by, s.Note)
}

// OnApplication takes step on application id for the command's actor, on
// the working-day calendar cal. may says whether the caller may act on an
// application of that owner and station; one they may not is not found.
// It answers the application as the step left it.
func (hl *Hall) OnApplication(ctx context.Context, id string, step ApplicationStep, may func(owner, station string) bool, cal *calendar.Calendar, m Meta) (domain.Application, Result, error) {
	today := calendar.DateOf(m.At.In(hl.loc))
	var after domain.Application
	res, err := Execute(ctx, hl.h, domain.ApplicationStream(id), m, func(a *domain.Application) ([]domain.Event, error) {
		if !a.Exists() || !may(a.Owner, a.StationID) {
			return nil, fmt.Errorf("%w: application (申请不存在)", domain.ErrNotFound)
		}
		after = *a
		return step.decide(a, m.Actor.ID, today, cal)
	})
	for _, e := range res.Events {
		after.Apply(e)
	}
	return after, res, err
}

// Submission opens an application: online by the resident, or at the
// counter by the station's staff.
type Submission struct {
	ID        string
	StationID string
	Channel   string
	TicketID  string
	Applicant domain.Applicant
	Owner     string // the resident login it belongs to
	Service   domain.Service
}

// Submit checks the applicant and the station, seals the applicant's
// details and records the application.
func (hl *Hall) Submit(ctx context.Context, s Submission, m Meta) (Result, error) {
	if err := domain.CheckID("station_id", s.StationID); err != nil {
		return Result{}, err
	}
	checked, err := s.Applicant.Check(m.At.In(hl.loc))
	if err != nil {
		return Result{}, err
	}
	if st, _, err := Load[domain.Station](ctx, hl.h.Store(), domain.StationStream(s.StationID)); err != nil {
		return Result{}, err
	} else if !st.Registered() {
		return Result{}, &domain.FieldError{Field: "station_id", Err: fmt.Errorf("%w: unknown station (派出所不存在)", domain.ErrInvalid)}
	}
	person, err := hl.Person(ctx, checked)
	if err != nil {
		return Result{}, err
	}
	// An online application is promised an answer within a working day.
	cal, err := hl.Calendar(ctx, m.At)
	if err != nil {
		return Result{}, err
	}
	acceptBy := cal.AddWorkingDays(calendar.DateOf(m.At.In(hl.loc)), domain.OnlineAcceptDays)
	return Execute(ctx, hl.h, domain.ApplicationStream(s.ID), m, func(a *domain.Application) ([]domain.Event, error) {
		return a.Submit(domain.ApplicationSubmitted{ID: s.ID, StationID: s.StationID, Channel: s.Channel, TicketID: s.TicketID,
			Applicant: person, Owner: s.Owner, AcceptBy: acceptBy}, s.Service)
	})
}
