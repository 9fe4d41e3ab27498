package command

import (
	"context"
	"fmt"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/eventstore"
)

// Orphan is a place or a hold that no live appointment owns: what a crash
// in the middle of a multi-stream command leaves on a store without atomic
// appends (KurrentDB), or what a bug leaves anywhere.
type Orphan struct {
	Stream        string // the slot or resident stream holding it
	AppointmentID string
	Since         time.Time // when it was taken
}

func isKind(kind, stream string) bool {
	_, ok := domain.StreamID(kind, stream)
	return ok
}

// owns says whether appointment a owns a place in slot: it exists, is not
// cancelled, and is in that slot now (a checked-in or missed appointment
// keeps its place: the slot is used).
func owns(a *domain.Appointment, slot string) bool {
	return a.Exists() && a.Status != domain.Cancelled && domain.SlotStream(a.StationID, a.Date, a.Start, a.ServiceID) == slot
}

// holdsKind says whether stream keeps fair-booking holds: an account's, or
// a resident's in older logs.
func holdsKind(stream string) bool { return isKind("account", stream) || isKind("resident", stream) }

// holds says whether appointment a owns a resident's hold: it is booked.
func holds(a *domain.Appointment) bool { return a.Status == domain.Booked }

// Orphans reads the whole log and lists the places in slots and the holds
// of residents that no appointment owns.
func Orphans(ctx context.Context, store eventstore.Store) ([]Orphan, error) {
	type key struct{ stream, id string }
	taken := map[key]time.Time{}
	appts := map[string]*domain.Appointment{}
	const page = 4096
	for after := uint64(0); ; {
		recs, err := store.ReadAll(ctx, after, page)
		if err != nil {
			return nil, fmt.Errorf("orphans: %w", err)
		}
		for _, r := range recs {
			after = r.Position
			id, isAppt := domain.StreamID("appointment", r.Stream)
			if !isAppt && !isKind("slot", r.Stream) && !holdsKind(r.Stream) {
				continue
			}
			ev, err := domain.DecodeSchema(r.Type, r.Schema, r.Data)
			if err != nil {
				return nil, fmt.Errorf("orphans: %s at %d: %w", r.Type, r.Position, err)
			}
			switch e := ev.(type) {
			case domain.SlotBooked:
				taken[key{r.Stream, e.AppointmentID}] = r.OccurredAt
			case domain.BookingHeld:
				taken[key{r.Stream, e.AppointmentID}] = r.OccurredAt
			case domain.SlotFreed:
				delete(taken, key{r.Stream, e.AppointmentID})
			case domain.BookingEnded:
				delete(taken, key{r.Stream, e.AppointmentID})
			case domain.NoShowCounted:
				delete(taken, key{r.Stream, e.AppointmentID})
			}
			if isAppt {
				a := appts[id]
				if a == nil {
					a = &domain.Appointment{}
					appts[id] = a
				}
				a.Apply(ev)
			}
		}
		if len(recs) < page {
			break
		}
	}
	var out []Orphan
	for k, at := range taken {
		a := appts[k.id]
		if a == nil {
			a = &domain.Appointment{}
		}
		if isKind("slot", k.stream) && owns(a, k.stream) || holdsKind(k.stream) && holds(a) {
			continue
		}
		out = append(out, Orphan{Stream: k.stream, AppointmentID: k.id, Since: at})
	}
	return out, nil
}

// Recover gives back every place and hold that no live appointment has
// owned for longer than settle (a command under way on a store without
// atomic appends owns its place only at its last step). Each is checked
// again on its streams before it is freed. It returns how many it gave
// back.
func (hl *Hall) Recover(ctx context.Context, settle time.Duration, m Meta) (int, error) {
	orphans, err := Orphans(ctx, hl.h.Store())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range orphans {
		if m.At.Sub(o.Since) < settle {
			continue
		}
		id := o.AppointmentID
		m := m
		if m.CommandID != "" { // one command per orphan, or their event ids would meet
			m.CommandID += "/" + o.Stream + "/" + id
		}
		var res Result
		if isKind("slot", o.Stream) {
			res, err = ExecuteTx(ctx, hl.h, o.Stream, m, func(tx *Tx, s *domain.Slot) ([]Change, error) {
				a, err := Read[domain.Appointment](tx, domain.AppointmentStream(id))
				if err != nil || owns(a, o.Stream) {
					return nil, err
				}
				freed, err := s.Free(id, m.At, 0)
				return []Change{{Stream: o.Stream, Events: freed}}, err
			})
		} else {
			res, err = ExecuteTx(ctx, hl.h, o.Stream, m, func(tx *Tx, r *domain.Resident) ([]Change, error) {
				a, err := Read[domain.Appointment](tx, domain.AppointmentStream(id))
				if err != nil || holds(a) {
					return nil, err
				}
				ended, err := r.End(id, "recovered")
				return []Change{{Stream: o.Stream, Events: ended}}, err
			})
		}
		if err != nil {
			return n, fmt.Errorf("recover %s in %s: %w", id, o.Stream, err)
		}
		if len(res.Events) > 0 {
			n++
		}
	}
	return n, nil
}
