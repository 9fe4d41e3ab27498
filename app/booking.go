package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
)

// Hall runs the commands that span several streams, such as a booking.
type Hall struct {
	h      *Handler
	loc    *time.Location
	policy domain.Policy
	refKey []byte
}

// NewHall returns a Hall; refKey keys the hash that turns an ID number into
// the resident's stable reference, so stream names never carry the number.
func NewHall(h *Handler, loc *time.Location, policy domain.Policy, refKey []byte) (*Hall, error) {
	if h == nil || loc == nil {
		return nil, errors.New("app: NewHall needs a handler and a location")
	}
	if len(refKey) < 16 {
		return nil, errors.New("app: the resident reference key needs 16 bytes or more")
	}
	return &Hall{h: h, loc: loc, policy: policy, refKey: refKey}, nil
}

// Ref is a resident's stable, non-reversible reference.
func (hl *Hall) Ref(c domain.Checked) string {
	m := hmac.New(sha256.New, hl.refKey)
	m.Write([]byte(c.ID.Full()))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// Booking is a resident's request for a place.
type Booking struct {
	AppointmentID string
	StationID     string
	ServiceID     string
	Date          calendar.Date
	Start         domain.Clock
	Resident      domain.Applicant
	Owner         string // the resident login the booking belongs to
}

// Book checks the resident's details, holds the booking against their
// limits, takes a place in the slot and records the appointment, in that
// order. Nothing is written for invalid input. If the slot refuses, the hold
// is released. The event ids derive from the appointment id, so a booking
// retried after a crash completes what is missing and duplicates nothing.
func (hl *Hall) Book(ctx context.Context, b Booking, m Meta) (Result, error) {
	checked, err := b.Resident.Check(m.At.In(hl.loc))
	if err != nil {
		return Result{}, err
	}
	for field, id := range map[string]string{"appointment_id": b.AppointmentID, "station_id": b.StationID, "service_id": b.ServiceID} {
		if err := domain.CheckID(field, id); err != nil {
			return Result{}, err
		}
	}
	if b.Date.IsZero() {
		return Result{}, &domain.FieldError{Field: "date", Err: fmt.Errorf("%w: a date is required (请选择日期)", domain.ErrInvalid)}
	}
	if m.CommandID == "" {
		m.CommandID = "book-" + b.AppointmentID
	}
	ref := hl.Ref(checked)
	stream := domain.SlotStream(b.StationID, b.Date, b.Start, b.ServiceID)
	// A full slot refuses before anything is written: in a rush most
	// requests find it full, and each would otherwise hold and release.
	if _, err := Execute(ctx, hl.h, stream, m, func(s *domain.Slot) ([]domain.Event, error) {
		_, err := s.Book(b.AppointmentID, ref, m.At)
		return nil, err
	}); err != nil {
		return Result{}, err
	}
	if _, err := Execute(ctx, hl.h, "resident-"+ref, m, func(r *domain.Resident) ([]domain.Event, error) {
		return r.Hold(b.AppointmentID, b.ServiceID, b.Date, m.At, hl.policy)
	}); err != nil {
		return Result{}, err
	}
	var slot domain.Slot
	if _, err := Execute(ctx, hl.h, stream, m, func(s *domain.Slot) ([]domain.Event, error) {
		slot = *s
		return s.Book(b.AppointmentID, ref, m.At)
	}); err != nil {
		undo := m
		undo.CommandID += "-undo"
		if _, uerr := Execute(ctx, hl.h, "resident-"+ref, undo, func(r *domain.Resident) ([]domain.Event, error) {
			return r.End(b.AppointmentID, "not booked")
		}); uerr != nil {
			return Result{}, errors.Join(err, fmt.Errorf("release the hold: %w", uerr))
		}
		return Result{}, err
	}
	person, err := hl.Person(checked)
	if err != nil {
		return Result{}, err
	}
	return Execute(ctx, hl.h, "appointment-"+b.AppointmentID, m, func(a *domain.Appointment) ([]domain.Event, error) {
		return a.Book(domain.AppointmentBooked{ID: b.AppointmentID, StationID: b.StationID, ServiceID: b.ServiceID,
			Date: b.Date, Start: slot.Spec.Start, End: slot.Spec.End, EndsAt: slot.EndsAt, Resident: person, Owner: b.Owner})
	})
}

// Cancel cancels an appointment, gives its place back to the slot after the
// policy's delay, and releases the resident's hold. Cancelling twice
// changes nothing.
func (hl *Hall) Cancel(ctx context.Context, id, reason string, m Meta) (Result, error) {
	var a domain.Appointment
	res, err := Execute(ctx, hl.h, "appointment-"+id, m, func(ap *domain.Appointment) ([]domain.Event, error) {
		a = *ap
		return ap.Cancel(reason)
	})
	if err != nil || len(res.Events) == 0 {
		return res, err
	}
	return hl.release(ctx, a, "cancelled", m, res)
}

// release frees an appointment's place and ends the resident's hold.
func (hl *Hall) release(ctx context.Context, a domain.Appointment, why string, m Meta, res Result) (Result, error) {
	stream := domain.SlotStream(a.StationID, a.Date, a.Start, a.ServiceID)
	if r, err := Execute(ctx, hl.h, stream, m, func(s *domain.Slot) ([]domain.Event, error) {
		return s.Free(a.AppointmentBooked.ID, m.At, hl.policy.FreeDelay)
	}); err != nil {
		return res, err
	} else if r.Position > res.Position {
		res = r
	}
	r, err := Execute(ctx, hl.h, "resident-"+a.Resident.Ref, m, func(r *domain.Resident) ([]domain.Event, error) {
		return r.End(a.AppointmentBooked.ID, why)
	})
	if r.Position > res.Position {
		res = r
	}
	return res, err
}

// Reschedule moves an appointment to another slot: the new place is taken
// first, so a failure leaves the old booking as it was.
func (hl *Hall) Reschedule(ctx context.Context, id string, date calendar.Date, start domain.Clock, m Meta) (Result, error) {
	a, _, err := Load[domain.Appointment](ctx, hl.h.Store(), "appointment-"+id)
	if err != nil {
		return Result{}, err
	}
	if err := a.Live(); err != nil {
		return Result{}, err
	}
	if date == a.Date && start == a.Start {
		return Result{}, nil
	}
	if _, err := Execute(ctx, hl.h, "resident-"+a.Resident.Ref, m, func(r *domain.Resident) ([]domain.Event, error) {
		return r.Move(id, date)
	}); err != nil {
		return Result{}, err
	}
	var slot domain.Slot
	if _, err := Execute(ctx, hl.h, domain.SlotStream(a.StationID, date, start, a.ServiceID), m, func(s *domain.Slot) ([]domain.Event, error) {
		slot = *s
		return s.Book(id, a.Resident.Ref, m.At)
	}); err != nil {
		return Result{}, err
	}
	res, err := Execute(ctx, hl.h, "appointment-"+id, m, func(ap *domain.Appointment) ([]domain.Event, error) {
		return ap.Reschedule(date, slot.Spec.Start, slot.Spec.End, slot.EndsAt)
	})
	if err != nil {
		return res, err
	}
	r, err := Execute(ctx, hl.h, domain.SlotStream(a.StationID, a.Date, a.Start, a.ServiceID), m, func(s *domain.Slot) ([]domain.Event, error) {
		return s.Free(id, m.At, hl.policy.FreeDelay)
	})
	if r.Position > res.Position {
		res = r
	}
	return res, err
}

// Ticket is what a resident gets on arrival.
type Ticket struct {
	ID       string `json:"id"`
	Number   string `json:"number"`
	Position int    `json:"position"`
}

// CheckIn gives an arriving resident a ticket in today's queue (ahead of
// walk-ins when within the slot), marks the appointment checked in and ends
// the resident's hold.
func (hl *Hall) CheckIn(ctx context.Context, id string, svc domain.Service, m Meta) (Ticket, Result, error) {
	a, _, err := Load[domain.Appointment](ctx, hl.h.Store(), "appointment-"+id)
	if err != nil {
		return Ticket{}, Result{}, err
	}
	now := m.At.In(hl.loc)
	today := calendar.DateOf(now)
	if _, err := a.CheckIn("", "", today, false); err != nil {
		return Ticket{}, Result{}, err
	}
	inSlot := !now.Before(a.Start.On(a.Date, hl.loc).Add(-30*time.Minute)) && now.Before(a.EndsAt)
	ticketID := "t-" + id
	queue := fmt.Sprintf("queue-%s-%s", a.StationID, today)
	var t Ticket
	res, err := Execute(ctx, hl.h, queue, m, func(q *domain.Queue) ([]domain.Event, error) {
		evs, err := q.Issue(ticketID, a.ServiceID, svc.Prefix(), domain.Normal, id, inSlot, m.At)
		switch {
		case err != nil:
		case len(evs) == 0: // issued before: a retried check-in
			t = Ticket{ticketID, q.Tickets[ticketID].Number, q.Position(ticketID)}
		default:
			t = Ticket{ticketID, evs[0].(domain.TicketIssued).Number, q.Ahead(a.ServiceID, domain.Normal, inSlot)}
		}
		return evs, err
	})
	if err != nil {
		return Ticket{}, res, err
	}
	if r, err := Execute(ctx, hl.h, "appointment-"+id, m, func(ap *domain.Appointment) ([]domain.Event, error) {
		if ap.Status == domain.CheckedIn {
			return nil, nil
		}
		return ap.CheckIn(ticketID, t.Number, today, inSlot)
	}); err != nil {
		return t, res, err
	} else if r.Position > res.Position {
		res = r
	}
	r, err := Execute(ctx, hl.h, "resident-"+a.Resident.Ref, m, func(r *domain.Resident) ([]domain.Event, error) {
		return r.End(id, "checked in")
	})
	if r.Position > res.Position {
		res = r
	}
	return t, res, err
}

// NoShow marks a booking missed once its slot is over plus the grace
// period, and counts it against the resident (three in six months suspend
// online booking). The place is not given back: the slot is over.
func (hl *Hall) NoShow(ctx context.Context, id string, m Meta) (Result, error) {
	var a domain.Appointment
	res, err := Execute(ctx, hl.h, "appointment-"+id, m, func(ap *domain.Appointment) ([]domain.Event, error) {
		a = *ap
		return ap.MarkNoShow(m.At, hl.policy.Grace)
	})
	// Marked before but not counted (a crash in between): count it now.
	if err != nil || (len(res.Events) == 0 && a.Status != domain.NoShow) {
		return res, err
	}
	r, err := Execute(ctx, hl.h, "resident-"+a.Resident.Ref, m, func(r *domain.Resident) ([]domain.Event, error) {
		return r.CountNoShow(id, m.At)
	})
	if r.Position > res.Position {
		res = r
	}
	return res, err
}

// Policy is the booking policy the hall applies.
func (hl *Hall) Policy() domain.Policy { return hl.policy }
