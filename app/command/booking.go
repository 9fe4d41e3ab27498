package command

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/logins"
	"github.com/servicehall/servicehall/vault"
)

// Hall runs the commands that span several streams, such as a booking.
type Hall struct {
	h         *Handler
	loc       *time.Location
	policy    domain.Policy
	keys      Keys
	refKey    []byte // derived from keys.Reference for ID numbers
	passwords logins.Store
}

// Keys are the hall's secrets, each for one purpose, so that none of them
// is lost with another.
type Keys struct {
	// Reference keys the hashes that turn an ID number into a resident's
	// reference and a phone into a resident's login: stream names and
	// tokens never carry either. It never changes: the references would.
	Reference []byte
	// Seal keys the ciphers of the details sealed before each resident had
	// a key of their own.
	Seal []byte
	// Vault keeps each resident's sealing key (nil: in memory).
	Vault vault.Store
}

// NewHall returns a Hall with its keys and the store of password hashes
// (nil: in memory).
func NewHall(h *Handler, loc *time.Location, policy domain.Policy, keys Keys, passwords logins.Store) (*Hall, error) {
	if h == nil || loc == nil {
		return nil, errors.New("app: NewHall needs a handler and a location")
	}
	if len(keys.Reference) < 16 || len(keys.Seal) < 16 {
		return nil, errors.New("app: the reference and sealing keys need 16 bytes or more")
	}
	refKey := sha256.Sum256(append([]byte("resident-ref\x00"), keys.Reference...))
	if passwords == nil {
		passwords = logins.NewMemory()
	}
	if keys.Vault == nil {
		keys.Vault = vault.NewMemory()
	}
	return &Hall{h: h, loc: loc, policy: policy, keys: keys, refKey: refKey[:], passwords: passwords}, nil
}

// Handler is the handler the hall's commands run on.
func (hl *Hall) Handler() *Handler { return hl.h }

// LoginID is a resident login's stable id, derived from the phone without
// revealing it.
func (hl *Hall) LoginID(phone string) string {
	m := hmac.New(sha256.New, hl.keys.Reference)
	m.Write([]byte("phone\x00" + phone))
	return "resident:" + hex.EncodeToString(m.Sum(nil))[:24]
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
	// Code is the check-in code; the appointment id's first one when
	// empty (the caller picks another when that one is taken).
	Code string
}

// Book checks the resident's details, then in one atomic write takes a
// place in the slot, holds the booking against the resident's limits and
// records the appointment. Nothing is written for invalid input or a
// refusal. The event ids derive from the appointment id, so a booking
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
		// The slot is part of the id: a booking retried after a crash
		// writes the same events, but another booking under the same
		// appointment id (for another slot) must conflict with it, not
		// pass for its retry and leave its place owned by nobody.
		m.CommandID = "book-" + b.AppointmentID + "-" + domain.SlotStream(b.StationID, b.Date, b.Start, b.ServiceID)
	}
	person, err := hl.Person(ctx, checked)
	if err != nil {
		return Result{}, err
	}
	id, ref := b.AppointmentID, person.Ref
	// The booking counts against the login that makes it, for whomever it
	// is made; without one, against the person.
	account := cmp.Or(b.Owner, ref)
	holds := domain.AccountStream(account)
	slot := domain.SlotStream(b.StationID, b.Date, b.Start, b.ServiceID)
	return ExecuteTx(ctx, hl.h, slot, m, func(tx *Tx, s *domain.Slot) ([]Change, error) {
		// A full slot refuses before anything else is read: in a rush most
		// requests find it full, and few have the right to rebook first.
		took, full := s.Book(id, ref, m.At)
		if full != nil && !errors.Is(full, domain.ErrFull) {
			return nil, full
		}
		r, err := Read[domain.Resident](tx, holds)
		if err != nil {
			return nil, err
		}
		var used []domain.Event
		if full != nil {
			cancelled, ok := r.Right(b.StationID, b.ServiceID, m.At)
			if !ok {
				return nil, full
			}
			if took, err = s.BookFirst(id, ref, m.At); err != nil {
				return nil, err
			}
			if used, err = r.UseRight(cancelled, id); err != nil {
				return nil, err
			}
		}
		held, err := r.Hold(id, ref, b.ServiceID, b.Date, m.At, hl.policy)
		if err != nil {
			return nil, err
		}
		held = append(held, used...)
		a, err := Read[domain.Appointment](tx, domain.AppointmentStream(id))
		if err != nil {
			return nil, err
		}
		booked, err := a.Book(domain.AppointmentBooked{ID: id, StationID: b.StationID, ServiceID: b.ServiceID,
			Date: b.Date, Start: s.Spec.Start, End: s.Spec.End, EndsAt: s.EndsAt, Resident: person, Owner: b.Owner, Account: account,
			Code: cmp.Or(b.Code, domain.CheckInCode(id, 0))})
		if err != nil {
			return nil, err
		}
		return []Change{
			{Stream: slot, Events: took, Undo: []domain.Event{domain.SlotFreed{AppointmentID: id, ReturnsAt: m.At}}},
			{Stream: holds, Events: held, Undo: []domain.Event{domain.BookingEnded{AppointmentID: id, Reason: "not booked"}}},
			{Stream: domain.AppointmentStream(id), Events: booked},
		}, nil
	})
}

// Cancel cancels an appointment, gives its place back to the slot after the
// policy's delay and releases the resident's hold, in one write; after the
// cut-off the hold ends as a no-show. Cancelling twice changes nothing;
// cancelling a cancelled appointment completes what a crash left undone.
func (hl *Hall) Cancel(ctx context.Context, id, reason string, m Meta) (Result, error) {
	return hl.cancel(ctx, id, reason, true, m)
}

// cancel cancels; after the cut-off as a no-show only if cutoff.
func (hl *Hall) cancel(ctx context.Context, id, reason string, cutoff bool, m Meta) (Result, error) {
	return ExecuteTx(ctx, hl.h, domain.AppointmentStream(id), m, func(tx *Tx, a *domain.Appointment) ([]Change, error) {
		late := cutoff && a.Status == domain.Booked && a.LateToCancel(m.At, hl.loc, hl.policy)
		cancelled, err := a.Cancel(reason, late)
		if err != nil {
			return nil, err
		}
		if a.Status == domain.Cancelled { // a retry: as it was decided
			late = a.LateCancel
		}
		return hl.release(tx, a, "cancelled", late, m, cancelled)
	})
}

// release frees an appointment's place and ends the resident's hold, as a
// no-show if noShow.
func (hl *Hall) release(tx *Tx, a *domain.Appointment, why string, noShow bool, m Meta, own []domain.Event) ([]Change, error) {
	id := a.AppointmentBooked.ID
	slot := domain.SlotStream(a.StationID, a.Date, a.Start, a.ServiceID)
	s, err := Read[domain.Slot](tx, slot)
	if err != nil {
		return nil, err
	}
	freed, err := s.Give(id, m.At, hl.policy)
	if err != nil {
		return nil, err
	}
	r, err := Read[domain.Resident](tx, a.HoldStream())
	if err != nil {
		return nil, err
	}
	end := func() ([]domain.Event, error) { return r.End(id, why) }
	if noShow {
		end = func() ([]domain.Event, error) { return r.CountNoShow(id, m.At) }
	}
	ended, err := end()
	if err != nil {
		return nil, err
	}
	// The appointment last: on a store without atomic appends (KurrentDB)
	// a later part refused undoes the earlier ones, and a cancelled
	// appointment cannot be undone.
	var held []domain.Event
	if len(ended) > 0 && !noShow {
		held = []domain.Event{domain.BookingHeld{AppointmentID: id, ServiceID: a.ServiceID, Date: a.Date, Person: a.Resident.Ref, At: m.At}}
	}
	return []Change{
		{Stream: slot, Events: freed, Undo: retake(freed, id, a.Resident.Ref)},
		{Stream: a.HoldStream(), Events: ended, Undo: held},
		{Stream: domain.AppointmentStream(id), Events: own},
	}, nil
}

// retake undoes a slot's giving back of an appointment's place: the place
// taken again, an offer it made to the waitlist ended.
func retake(freed []domain.Event, id, ref string) []domain.Event {
	var undo []domain.Event
	for _, e := range freed {
		switch e := e.(type) {
		case domain.SlotFreed:
			undo = append(undo, domain.SlotBooked{AppointmentID: id, ResidentRef: ref})
		case domain.PlaceOffered:
			undo = append(undo, domain.OfferLapsed{Ref: e.Ref, At: e.At})
		}
	}
	return undo
}

// ErrChanged refuses a command decided on what a person saw, when the
// record changed meanwhile: two reschedules of one appointment at once.
var ErrChanged = fmt.Errorf("%w: the appointment changed meanwhile, reload and try again (预约已被修改，请刷新后重试)", domain.ErrState)

// When is where an appointment is: its slot's date and start.
type When struct {
	Date  calendar.Date
	Start domain.Clock
}

// Reschedule moves an appointment to another slot in one write: the new
// place is taken, the old one given back and the appointment moved, or
// nothing changes. It moves the appointment from where the person saw it
// (seen; where it is when the command comes in if nil): if another command
// moved it meanwhile, it refuses with ErrChanged, so of several reschedules
// at once at most one wins.
func (hl *Hall) Reschedule(ctx context.Context, id string, to When, seen *When, m Meta) (Result, error) {
	if seen == nil {
		a, _, err := Load[domain.Appointment](ctx, hl.h.Store(), domain.AppointmentStream(id))
		if err != nil {
			return Result{}, err
		}
		if err := a.Live(); err != nil {
			return Result{}, err
		}
		seen = &When{a.Date, a.Start}
	}
	date, start := to.Date, to.Start
	return ExecuteTx(ctx, hl.h, domain.AppointmentStream(id), m, func(tx *Tx, a *domain.Appointment) ([]Change, error) {
		if err := a.Live(); err != nil {
			return nil, err
		}
		if a.Date != seen.Date || a.Start != seen.Start {
			return nil, ErrChanged
		}
		if date == a.Date && start == a.Start {
			return nil, nil
		}
		into := domain.SlotStream(a.StationID, date, start, a.ServiceID)
		ns, err := Read[domain.Slot](tx, into)
		if err != nil {
			return nil, err
		}
		took, err := ns.Book(id, a.Resident.Ref, m.At)
		if err != nil {
			return nil, err
		}
		r, err := Read[domain.Resident](tx, a.HoldStream())
		if err != nil {
			return nil, err
		}
		moved, err := r.Move(id, date)
		if err != nil {
			return nil, err
		}
		rescheduled, err := a.Reschedule(date, ns.Spec.Start, ns.Spec.End, ns.EndsAt)
		if err != nil {
			return nil, err
		}
		from := domain.SlotStream(a.StationID, a.Date, a.Start, a.ServiceID)
		os, err := Read[domain.Slot](tx, from)
		if err != nil {
			return nil, err
		}
		freed, err := os.Give(id, m.At, hl.policy)
		if err != nil {
			return nil, err
		}
		// The appointment last, as in release.
		return []Change{
			{Stream: into, Events: took, Undo: []domain.Event{domain.SlotFreed{AppointmentID: id, ReturnsAt: m.At}}},
			{Stream: a.HoldStream(), Events: moved, Undo: []domain.Event{domain.BookingMoved{AppointmentID: id, Date: a.Date}}},
			{Stream: from, Events: freed, Undo: retake(freed, id, a.Resident.Ref)},
			{Stream: domain.AppointmentStream(id), Events: rescheduled},
		}, nil
	})
}

// Ticket is what a resident gets on arrival.
type Ticket struct {
	ID       string `json:"id"`
	Number   string `json:"number"`
	Position int    `json:"position"`
}

// CheckIn gives an arriving resident a ticket in today's queue (ahead of
// walk-ins when within the slot), marks the appointment checked in and ends
// the resident's hold, in one write. A retried check-in answers the ticket
// issued before.
func (hl *Hall) CheckIn(ctx context.Context, id string, svc domain.Service, m Meta) (Ticket, Result, error) {
	seen, _, err := Load[domain.Appointment](ctx, hl.h.Store(), domain.AppointmentStream(id))
	if err != nil {
		return Ticket{}, Result{}, err
	}
	if !seen.Exists() {
		return Ticket{}, Result{}, fmt.Errorf("%w: appointment (预约不存在)", domain.ErrNotFound)
	}
	now := m.At.In(hl.loc)
	today := calendar.DateOf(now)
	ticketID := "t-" + id
	var t Ticket
	res, err := ExecuteTx(ctx, hl.h, domain.QueueStream(seen.StationID, today), m, func(tx *Tx, q *domain.Queue) ([]Change, error) {
		a, err := Read[domain.Appointment](tx, domain.AppointmentStream(id))
		if err != nil {
			return nil, err
		}
		if a.Status == domain.CheckedIn {
			if tk, ok := q.Ticket(ticketID); ok { // a retried check-in
				t = Ticket{ticketID, tk.Number, q.Position(ticketID)}
				r, err := Read[domain.Resident](tx, a.HoldStream())
				if err != nil {
					return nil, err
				}
				ended, err := r.End(id, "checked in")
				return []Change{{Stream: a.HoldStream(), Events: ended}}, err
			}
		}
		start := a.StartsAt(hl.loc)
		inSlot := !now.Before(start.Add(-30*time.Minute)) && now.Before(a.EndsAt)
		if _, err := a.CheckIn(ticketID, "", now, start, hl.policy, inSlot); err != nil {
			return nil, err
		}
		issued, err := q.Issue(ticketID, a.ServiceID, svc.Prefix(), domain.Normal, id, inSlot, m.At)
		if err != nil {
			return nil, err
		}
		if len(issued) == 0 { // issued before a crash; the appointment missed it
			tk, _ := q.Ticket(ticketID)
			t = Ticket{ticketID, tk.Number, q.Position(ticketID)}
		} else {
			t = Ticket{ticketID, issued[0].(domain.TicketIssued).Number, q.Ahead(a.ServiceID, domain.Normal, inSlot)}
		}
		checked, err := a.CheckIn(ticketID, t.Number, now, start, hl.policy, inSlot)
		if err != nil {
			return nil, err
		}
		r, err := Read[domain.Resident](tx, a.HoldStream())
		if err != nil {
			return nil, err
		}
		ended, err := r.End(id, "checked in")
		if err != nil {
			return nil, err
		}
		return []Change{
			{Stream: domain.QueueStream(seen.StationID, today), Events: issued},
			{Stream: domain.AppointmentStream(id), Events: checked},
			{Stream: a.HoldStream(), Events: ended},
		}, nil
	})
	if err != nil {
		return Ticket{}, res, err
	}
	return t, res, nil
}

// NoShow marks a booking missed once its slot is over plus the grace
// period, and counts it against the resident (three in six months suspend
// online booking), in one write. The place is not given back: the slot is
// over.
func (hl *Hall) NoShow(ctx context.Context, id string, m Meta) (Result, error) {
	return ExecuteTx(ctx, hl.h, domain.AppointmentStream(id), m, func(tx *Tx, a *domain.Appointment) ([]Change, error) {
		marked, err := a.MarkNoShow(m.At, hl.policy.Grace)
		if err != nil {
			return nil, err
		}
		r, err := Read[domain.Resident](tx, a.HoldStream())
		if err != nil {
			return nil, err
		}
		counted, err := r.CountNoShow(id, m.At)
		if err != nil {
			return nil, err
		}
		return []Change{
			{Stream: domain.AppointmentStream(id), Events: marked},
			{Stream: a.HoldStream(), Events: counted},
		}, nil
	})
}

// Policy is the booking policy the hall applies.
func (hl *Hall) Policy() domain.Policy { return hl.policy }
