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
	if _, err := Execute(ctx, hl.h, "resident-"+ref, m, func(r *domain.Resident) ([]domain.Event, error) {
		return r.Hold(b.AppointmentID, b.ServiceID, b.Date, m.At, hl.policy)
	}); err != nil {
		return Result{}, err
	}
	var slot domain.Slot
	stream := domain.SlotStream(b.StationID, b.Date, b.Start, b.ServiceID)
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
	person := domain.Person{Ref: ref, Name: domain.MaskName(checked.Name), ID: checked.ID.Masked(), Phone: domain.MaskPhone(checked.Phone)}
	return Execute(ctx, hl.h, "appointment-"+b.AppointmentID, m, func(a *domain.Appointment) ([]domain.Event, error) {
		return a.Book(domain.AppointmentBooked{ID: b.AppointmentID, StationID: b.StationID, ServiceID: b.ServiceID,
			Date: b.Date, Start: slot.Spec.Start, End: slot.Spec.End, EndsAt: slot.EndsAt, Resident: person, Owner: b.Owner})
	})
}
