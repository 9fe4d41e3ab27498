package command

import (
	"context"
	"fmt"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
)

// CounterStep is one step a counter takes in the day's queue. The types
// below are the steps, each with the body its request carries.
type CounterStep interface {
	decide(q *domain.Queue, k domain.Counter, at time.Time) ([]domain.Event, error)
}

type (
	OpenCounter struct {
		ServiceIDs []string `json:"service_ids"`
	}
	CallNext struct{}
	Call     struct {
		Number string `json:"number"`
	}
	Recall       struct{ Current }
	StartService struct{ Current }
	Complete     struct{ Current }
	MissedCall   struct{ Current }
	Park         struct{ Current }
	Resume       struct {
		TicketID string `json:"ticket_id"`
	}
	Transfer struct {
		ServiceID string `json:"service_id"`
		Current
	}
	PauseCounter struct{}
	CloseCounter struct{}
)

// Current names the ticket a step on the counter's current ticket is meant
// for, as the clerk's screen showed it. Left out, the step is on whatever
// ticket is current; given, a step on another (a colleague at the same
// counter called meanwhile) is refused: a no-show must not send away the
// person just called.
type Current struct {
	TicketID string `json:"ticket_id,omitempty" description:"the ticket the clerk sees as the counter's current one; refused (409) when another is"`
}

func (c Current) is(q *domain.Queue, k domain.Counter) error {
	if c.TicketID == "" {
		return nil
	}
	if qc, _ := q.Counter(k.ID); qc.Current != c.TicketID {
		return fmt.Errorf("%w: the counter's current ticket has changed; look again (当前号已变更，请刷新后再操作)", domain.ErrState)
	}
	return nil
}

// on runs decide once the step's ticket is found current.
func on(c Current, q *domain.Queue, k domain.Counter, decide func() ([]domain.Event, error)) ([]domain.Event, error) {
	if err := c.is(q, k); err != nil {
		return nil, err
	}
	return decide()
}

func (s OpenCounter) decide(q *domain.Queue, k domain.Counter, _ time.Time) ([]domain.Event, error) {
	return q.OpenCounter(k.ID, s.ServiceIDs, k.ServiceIDs)
}
func (CallNext) decide(q *domain.Queue, k domain.Counter, at time.Time) ([]domain.Event, error) {
	return q.CallNext(k.ID, at)
}
func (s Call) decide(q *domain.Queue, k domain.Counter, at time.Time) ([]domain.Event, error) {
	return q.Call(k.ID, s.Number, at)
}
func (s Recall) decide(q *domain.Queue, k domain.Counter, at time.Time) ([]domain.Event, error) {
	return on(s.Current, q, k, func() ([]domain.Event, error) { return q.Recall(k.ID, domain.MaxRecalls, at) })
}
func (s StartService) decide(q *domain.Queue, k domain.Counter, at time.Time) ([]domain.Event, error) {
	return on(s.Current, q, k, func() ([]domain.Event, error) { return q.Start(k.ID, at) })
}
func (s Complete) decide(q *domain.Queue, k domain.Counter, at time.Time) ([]domain.Event, error) {
	return on(s.Current, q, k, func() ([]domain.Event, error) { return q.Complete(k.ID, at) })
}
func (s MissedCall) decide(q *domain.Queue, k domain.Counter, at time.Time) ([]domain.Event, error) {
	return on(s.Current, q, k, func() ([]domain.Event, error) { return q.NoShow(k.ID, at) })
}
func (s Park) decide(q *domain.Queue, k domain.Counter, at time.Time) ([]domain.Event, error) {
	return on(s.Current, q, k, func() ([]domain.Event, error) { return q.Park(k.ID, at) })
}
func (s Resume) decide(q *domain.Queue, k domain.Counter, at time.Time) ([]domain.Event, error) {
	return q.Resume(k.ID, s.TicketID, at)
}
func (s Transfer) decide(q *domain.Queue, k domain.Counter, at time.Time) ([]domain.Event, error) {
	return on(s.Current, q, k, func() ([]domain.Event, error) { return q.Transfer(k.ID, s.ServiceID, at) })
}
func (PauseCounter) decide(q *domain.Queue, k domain.Counter, _ time.Time) ([]domain.Event, error) {
	return q.Pause(k.ID)
}
func (CloseCounter) decide(q *domain.Queue, k domain.Counter, _ time.Time) ([]domain.Event, error) {
	return q.CloseCounter(k.ID)
}

// AtCounter takes step at one of station's counters in the day's queue. It
// answers (a copy of) the ticket the step concerns, as it was before the
// step, and whether there is one.
func (hl *Hall) AtCounter(ctx context.Context, station, counter string, step CounterStep, m Meta) (domain.Ticket, bool, Result, error) {
	// The station from the handler's cache: read once, not at every call;
	// a counter missing from it is looked for again in the log.
	var k domain.Counter
	if _, err := Execute(ctx, hl.h, domain.StationStream(station), m, func(st *domain.Station) ([]domain.Event, error) {
		var ok bool
		if k, ok = st.Counter(counter); !ok {
			return nil, fmt.Errorf("%w: counter %q at your station (本所无此窗口)", domain.ErrNotFound, counter)
		}
		if t, ok := step.(Transfer); ok && !st.Serves(t.ServiceID) {
			return nil, unserved("service_id", t.ServiceID)
		}
		return nil, nil
	}); err != nil {
		return domain.Ticket{}, false, Result{}, err
	}
	var ticket domain.Ticket
	var found bool
	res, err := Execute(ctx, hl.h, domain.QueueStream(station, calendar.DateOf(m.At.In(hl.loc))), m, func(q *domain.Queue) ([]domain.Event, error) {
		evs, err := step.decide(q, k, m.At)
		if err == nil {
			ticket, found = concerned(q, counter, evs)
		}
		return evs, err
	})
	return ticket, found, res, err
}

// concerned finds (a copy of) the ticket a counter's step is about.
func concerned(q *domain.Queue, counter string, evs []domain.Event) (domain.Ticket, bool) {
	for _, e := range evs {
		switch e := e.(type) {
		case domain.TicketCalled:
			return q.Ticket(e.TicketID)
		case domain.TicketResumed:
			return q.Ticket(e.TicketID)
		}
	}
	if k, ok := q.Counter(counter); ok && k.Current != "" {
		return q.Ticket(k.Current)
	}
	return domain.Ticket{}, false
}

// WalkIn is a ticket taken at the hall without an appointment.
type WalkIn struct {
	TicketID string
	Station  string
	Service  domain.Service
	Priority domain.Priority
}

// IssueTicket gives a walk-in a ticket in the station's queue for the day
// and says how many go before it.
func (hl *Hall) IssueTicket(ctx context.Context, w WalkIn, m Meta) (Ticket, Result, error) {
	st, _, err := Load[domain.Station](ctx, hl.h.Store(), domain.StationStream(w.Station))
	if err != nil {
		return Ticket{}, Result{}, err
	}
	if !st.Serves(w.Service.ID) {
		return Ticket{}, Result{}, unserved("service_id", w.Service.ID)
	}
	var t Ticket
	res, err := Execute(ctx, hl.h, domain.QueueStream(w.Station, calendar.DateOf(m.At.In(hl.loc))), m, func(q *domain.Queue) ([]domain.Event, error) {
		evs, err := q.Issue(w.TicketID, w.Service.ID, w.Service.Prefix(), w.Priority, "", false, m.At)
		if err == nil && len(evs) > 0 {
			issued := evs[0].(domain.TicketIssued)
			t = Ticket{ID: w.TicketID, Number: issued.Number, Position: q.Ahead(w.Service.ID, issued.Priority, false)}
		}
		return evs, err
	})
	return t, res, err
}

// unserved refuses a ticket for a service no counter of the station serves.
func unserved(field, service string) error {
	return &domain.FieldError{Field: field, Err: fmt.Errorf("%w: no counter here serves %q (本所窗口不办理该业务)", domain.ErrInvalid, service)}
}
