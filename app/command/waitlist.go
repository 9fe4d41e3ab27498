package command

import (
	"context"
	"fmt"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
)

// JoinWaitlist puts a resident on a full slot's waitlist (b's appointment
// id and owner are not used): when a place is freed it is held for the
// first person waiting, who is told and may book it.
func (hl *Hall) JoinWaitlist(ctx context.Context, b Booking, m Meta) (Result, error) {
	checked, err := b.Resident.Check(m.At.In(hl.loc))
	if err != nil {
		return Result{}, err
	}
	for field, id := range map[string]string{"station_id": b.StationID, "service_id": b.ServiceID} {
		if err := domain.CheckID(field, id); err != nil {
			return Result{}, err
		}
	}
	if b.Date.IsZero() {
		return Result{}, &domain.FieldError{Field: "date", Err: fmt.Errorf("%w: a date is required (请选择日期)", domain.ErrInvalid)}
	}
	person, err := hl.Person(ctx, checked)
	if err != nil {
		return Result{}, err
	}
	return Execute(ctx, hl.h, domain.SlotStream(b.StationID, b.Date, b.Start, b.ServiceID), m, func(s *domain.Slot) ([]domain.Event, error) {
		return s.Join(person, m.At, hl.policy.MaxWaiting)
	})
}

// LapseOffers ends a slot's offers not taken in time, passing each place
// to the next person waiting.
func (hl *Hall) LapseOffers(ctx context.Context, station string, date calendar.Date, start domain.Clock, service string, m Meta) (Result, error) {
	return Execute(ctx, hl.h, domain.SlotStream(station, date, start, service), m, func(s *domain.Slot) ([]domain.Event, error) {
		return s.Lapse(m.At, hl.policy)
	})
}

// OfferNoticed records that a person offered a place was told.
func (hl *Hall) OfferNoticed(ctx context.Context, station string, date calendar.Date, start domain.Clock, service, ref string, m Meta) (Result, error) {
	return Execute(ctx, hl.h, domain.SlotStream(station, date, start, service), m, func(s *domain.Slot) ([]domain.Event, error) {
		return s.Noticed(ref, m.At)
	})
}
