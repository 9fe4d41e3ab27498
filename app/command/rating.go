package command

import (
	"context"
	"fmt"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
)

// Served reads a ticket of a station's day from the log, as served: its
// service, counter and appointment, and the staff member who completed it,
// who is the actor the TicketCompleted event was written by (the event
// itself names only the counter). The appointment's owner is whoever may
// rate it from their phone. A ticket not served yet is refused with its
// facts, so that a caller who may not see it is told it does not exist.
func (hl *Hall) Served(ctx context.Context, ticket, station string, day calendar.Date) (domain.Served, error) {
	recs, err := hl.h.Store().ReadStream(ctx, domain.QueueStream(station, day), 0)
	if err != nil {
		return domain.Served{}, fmt.Errorf("load %s: %w", domain.QueueStream(station, day), err)
	}
	q, staff := &domain.Queue{}, ""
	for _, r := range recs {
		ev, err := domain.DecodeSchema(r.Type, r.Schema, r.Data)
		if err != nil {
			return domain.Served{}, fmt.Errorf("load %s at version %d: %w", r.Stream, r.Version, err)
		}
		q.Apply(ev)
		if c, ok := ev.(domain.TicketCompleted); ok && c.TicketID == ticket {
			staff = r.Actor.ID
		}
	}
	t, ok := q.Ticket(ticket)
	if !ok {
		return domain.Served{}, fmt.Errorf("%w: ticket (无此号)", domain.ErrNotFound)
	}
	s := domain.Served{TicketID: ticket, StationID: station, ServiceID: t.ServiceID, Date: day, CounterID: t.Counter, Staff: staff, AppointmentID: t.AppointmentID}
	if t.AppointmentID != "" {
		a, _, err := Load[domain.Appointment](ctx, hl.h.Store(), domain.AppointmentStream(t.AppointmentID))
		if err != nil {
			return domain.Served{}, err
		}
		s.Owner = a.Owner
	}
	_, err = q.Served(ticket)
	return s, err
}

// RateTicket records a rating of a served ticket of station's day (where
// the ratings view found it), by the resident who holds its appointment or
// at the hall's kiosk. may says whether the caller reaches a ticket of
// that owner and station; one they do not is not found. It answers the
// rating as it stands after.
func (hl *Hall) RateTicket(ctx context.Context, ticket, station string, day calendar.Date, r Rate, may func(owner, station string) bool, cal *calendar.Calendar, m Meta) (domain.TicketRating, Result, error) {
	s, err := hl.Served(ctx, ticket, station, day)
	if s.TicketID != "" && !may(s.Owner, s.StationID) {
		err = fmt.Errorf("%w: ticket (无此号)", domain.ErrNotFound)
	}
	if err != nil {
		return domain.TicketRating{}, Result{}, err
	}
	today := calendar.DateOf(m.At.In(hl.loc))
	var after domain.TicketRating
	res, err := Execute(ctx, hl.h, domain.RatingStream(ticket), m, func(t *domain.TicketRating) ([]domain.Event, error) {
		after = *t
		return t.Rate(s, m.Actor.ID, r.Scores(), r.Comment, today, cal)
	})
	for _, e := range res.Events {
		after.Apply(e)
	}
	return after, res, err
}

// RemediateTicket takes a step of the remediation of a ticket's bad
// rating. may says whether the caller reaches the ticket's station.
func (hl *Hall) RemediateTicket(ctx context.Context, ticket string, step Remediate, may func(owner, station string) bool, m Meta) (domain.TicketRating, Result, error) {
	var after domain.TicketRating
	res, err := Execute(ctx, hl.h, domain.RatingStream(ticket), m, func(t *domain.TicketRating) ([]domain.Event, error) {
		if !t.Exists() || !may("", t.Ticket.StationID) {
			return nil, fmt.Errorf("%w: rating (该号尚无评价)", domain.ErrNotFound)
		}
		after = *t
		return t.Remediate(step.Step, m.Actor.ID, step.Note)
	})
	for _, e := range res.Events {
		after.Apply(e)
	}
	return after, res, err
}

// CheckRemediation warns, marks overdue or escalates the open remediation
// of the bad rating of a ticket or an application (kind "ticket" or
// "application"), as the rule says for today.
func (hl *Hall) CheckRemediation(ctx context.Context, kind, id string, cal *calendar.Calendar, rule domain.Escalation, m Meta) (Result, error) {
	today := calendar.DateOf(m.At.In(hl.loc))
	switch kind {
	case "ticket":
		return Execute(ctx, hl.h, domain.RatingStream(id), m, func(t *domain.TicketRating) ([]domain.Event, error) {
			return t.CheckRemediation(today, cal, rule)
		})
	case "application":
		return Execute(ctx, hl.h, domain.ApplicationStream(id), m, func(a *domain.Application) ([]domain.Event, error) {
			return a.CheckRemediation(today, cal, rule)
		})
	}
	return Result{}, fmt.Errorf("%w: a rating of a %q (评价对象应为 ticket 或 application)", domain.ErrInvalid, kind)
}
