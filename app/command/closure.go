package command

import (
	"context"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
)

// CloseSlot takes one released slot off the calendar (临时闭厅) and, in the
// same write, cancels its bookings for the reason, gives their places
// back and ends their holds: a closure never counts against a resident,
// who may rebook the service there first (RebookWindow).
// Each resident is sent a notice by the send-notices job. It answers the
// appointments it cancelled.
func (hl *Hall) CloseSlot(ctx context.Context, station string, date calendar.Date, start domain.Clock, service, reason string, m Meta) ([]string, Result, error) {
	stream := domain.SlotStream(station, date, start, service)
	var cancelled []string
	res, err := ExecuteTx(ctx, hl.h, stream, m, func(tx *Tx, s *domain.Slot) ([]Change, error) {
		cancelled = nil
		closed, err := s.Close(reason, m.At)
		if err != nil {
			return nil, err
		}
		// One change per stream: two bookings may count against one
		// account.
		changes := []Change{{Stream: stream, Events: closed}}
		at := map[string]int{stream: 0}
		add := func(stream string, evs []domain.Event) {
			if i, ok := at[stream]; ok {
				changes[i].Events = append(changes[i].Events, evs...)
				return
			}
			at[stream] = len(changes)
			changes = append(changes, Change{Stream: stream, Events: evs})
		}
		for _, id := range s.Holders() {
			freed, err := s.Free(id, m.At, 0)
			if err != nil {
				return nil, err
			}
			add(stream, freed)
			a, err := Read[domain.Appointment](tx, domain.AppointmentStream(id))
			if err != nil {
				return nil, err
			}
			gone, err := a.CancelByHall(reason)
			if err != nil {
				return nil, err
			}
			add(domain.AppointmentStream(id), gone)
			r, err := Read[domain.Resident](tx, a.HoldStream())
			if err != nil {
				return nil, err
			}
			ended, err := r.End(id, "closed by the hall")
			if err != nil {
				return nil, err
			}
			first, err := r.Grant(id, station, service, m.At.Add(hl.policy.RebookWindow))
			if err != nil {
				return nil, err
			}
			add(a.HoldStream(), append(ended, first...))
			if len(gone) > 0 {
				cancelled = append(cancelled, id)
			}
		}
		return changes, nil
	})
	return cancelled, res, err
}

// StopWalkIns stops walk-in tickets at a station for the rest of the day.
func (hl *Hall) StopWalkIns(ctx context.Context, station, reason string, m Meta) (Result, error) {
	return Execute(ctx, hl.h, domain.QueueStream(station, calendar.DateOf(m.At.In(hl.loc))), m, func(q *domain.Queue) ([]domain.Event, error) {
		return q.StopWalkIns(reason, m.At)
	})
}
