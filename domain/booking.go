package domain

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/servicehall/servicehall/domain/calendar"
)

// Events of a slot (stream "slot-{station}-{date}-{HHMM}-{service}").
type (
	SlotReleased struct {
		Slot     SlotSpec  `json:"Slot"`
		StartsAt time.Time `json:"StartsAt"`
		EndsAt   time.Time `json:"EndsAt"`
	}
	SlotBooked struct {
		AppointmentID string `json:"AppointmentID"`
		ResidentRef   string `json:"ResidentRef"`
	}
	// SlotFreed gives a place back; it returns to the pool at ReturnsAt, so
	// a cancelled place cannot be handed to a chosen person.
	SlotFreed struct {
		AppointmentID string    `json:"AppointmentID"`
		ReturnsAt     time.Time `json:"ReturnsAt"`
	}
	// SlotClosed takes a released slot off the calendar (临时闭厅): it
	// takes no more bookings.
	SlotClosed struct {
		Reason string    `json:"Reason"`
		At     time.Time `json:"At"`
	}
	// WaitlistJoined puts a person on a full slot's waitlist; their
	// details, sealed, let the hall tell them when a place is free.
	WaitlistJoined struct {
		Person Person    `json:"Person"`
		At     time.Time `json:"At"`
	}
	// PlaceOffered holds a freed place for the first person waiting,
	// until Until: only they can book it meanwhile.
	PlaceOffered struct {
		Ref   string    `json:"Ref"`
		Until time.Time `json:"Until"`
		At    time.Time `json:"At"`
	}
	// OfferLapsed ends an offer not taken in time.
	OfferLapsed struct {
		Ref string    `json:"Ref"`
		At  time.Time `json:"At"`
	}
	// OfferNoticed records that the person offered a place was told.
	OfferNoticed struct {
		Ref string    `json:"Ref"`
		At  time.Time `json:"At"`
	}
)

// Offer is a place held for a person from the waitlist.
type Offer struct {
	Ref   string
	Until time.Time
}

// Slot guards a slot's capacity: never more live bookings than its online
// places (capacity less those kept for walk-ins).
type Slot struct {
	Spec      SlotSpec
	EndsAt    time.Time
	Released  bool
	Closed    string          // why the hall closed the slot, if it did
	booked    map[string]bool // live appointment ids
	returning []time.Time     // freed places not yet back in the pool
	waiting   []Person        // the waitlist, first come first
	offers    []Offer         // places held for someone from the waitlist
}

// Waiting is the waitlist, first come first.
func (s *Slot) Waiting() []Person { return slices.Clone(s.waiting) }

// Offers are the places held for people from the waitlist.
func (s *Slot) Offers() []Offer { return slices.Clone(s.offers) }

// Holds says whether appointment id holds a place in the slot.
func (s *Slot) Holds(id string) bool { return s.booked[id] }

// Holders lists the appointments holding a place, sorted.
func (s *Slot) Holders() []string {
	return slices.Sorted(maps.Keys(s.booked))
}

func (s *Slot) Apply(e Event) {
	switch e := e.(type) {
	case SlotReleased:
		s.Spec, s.EndsAt, s.Released = e.Slot, e.EndsAt, true
		s.booked = map[string]bool{}
	case SlotBooked:
		s.booked[e.AppointmentID] = true
		s.offers = slices.DeleteFunc(s.offers, func(o Offer) bool { return o.Ref == e.ResidentRef })
		s.waiting = slices.DeleteFunc(s.waiting, func(p Person) bool { return p.Ref == e.ResidentRef })
	case WaitlistJoined:
		s.waiting = append(s.waiting, e.Person)
	case PlaceOffered:
		s.offers = append(s.offers, Offer{e.Ref, e.Until})
		s.waiting = slices.DeleteFunc(s.waiting, func(p Person) bool { return p.Ref == e.Ref })
	case OfferLapsed:
		s.offers = slices.DeleteFunc(s.offers, func(o Offer) bool { return o.Ref == e.Ref })
	case SlotFreed:
		delete(s.booked, e.AppointmentID)
		s.returning = append(s.returning, e.ReturnsAt)
	case SlotClosed:
		s.Closed = e.Reason
	}
}

// Close takes the slot off the calendar; closing it again changes nothing.
// The hall cancels its bookings in the same write.
func (s *Slot) Close(reason string, at time.Time) ([]Event, error) {
	if !s.Released {
		return nil, fmt.Errorf("%w: no such slot (该时段未开放预约)", ErrNotFound)
	}
	if s.Closed != "" {
		return nil, nil
	}
	if err := CheckReason(reason); err != nil {
		return nil, err
	}
	return []Event{SlotClosed{reason, at}}, nil
}

// Release opens the slot once; releasing it again changes nothing.
func (s *Slot) Release(spec SlotSpec, loc *time.Location) ([]Event, error) {
	if s.Released {
		return nil, nil
	}
	if spec.Capacity < 1 || spec.WalkIn < 0 || spec.WalkIn > spec.Capacity || spec.End <= spec.Start {
		return nil, invalid("slot %s: bad capacity or times", spec.Stream())
	}
	return []Event{SlotReleased{spec, spec.Start.On(spec.Date, loc), spec.End.On(spec.Date, loc)}}, nil
}

// Taken counts live bookings, freed places still held back at now and
// places held for someone from the waitlist.
func (s *Slot) Taken(now time.Time) int {
	n := len(s.booked)
	for _, t := range s.returning {
		if now.Before(t) {
			n++
		}
	}
	for _, o := range s.offers {
		if now.Before(o.Until) {
			n++
		}
	}
	return n
}

// offered says whether a place is held for ref at now.
func (s *Slot) offered(ref string, now time.Time) bool {
	return slices.ContainsFunc(s.offers, func(o Offer) bool { return o.Ref == ref && now.Before(o.Until) })
}

// Join puts a person on the waitlist of a full slot, once.
func (s *Slot) Join(p Person, now time.Time, max int) ([]Event, error) {
	switch {
	case !s.Released:
		return nil, fmt.Errorf("%w: no such slot (该时段未开放预约)", ErrNotFound)
	case s.Closed != "":
		return nil, illegal("the slot is closed: %s (该时段已停止办理：%s)", s.Closed, s.Closed)
	case !now.Before(s.EndsAt):
		return nil, illegal("the slot is over (该时段已结束)")
	case slices.ContainsFunc(s.waiting, func(w Person) bool { return w.Ref == p.Ref }), s.offered(p.Ref, now):
		return nil, nil
	case s.Taken(now) < s.Online():
		return nil, illegal("the slot has places left: book one instead (该时段仍有名额，请直接预约)")
	case len(s.waiting) >= max:
		return nil, fmt.Errorf("%w: the waitlist is full (候补名单已满)", ErrFull)
	}
	return []Event{WaitlistJoined{p, now}}, nil
}

// Give frees a booked place: to the first person waiting, held for them
// for the policy's offer time, or back to the pool after the anti-hoarding
// delay.
func (s *Slot) Give(appointmentID string, now time.Time, p Policy) ([]Event, error) {
	if !s.booked[appointmentID] {
		return nil, nil
	}
	if len(s.waiting) == 0 || s.Closed != "" || !now.Before(s.EndsAt) {
		return s.Free(appointmentID, now, p.FreeDelay)
	}
	return []Event{SlotFreed{appointmentID, now}, PlaceOffered{s.waiting[0].Ref, now.Add(p.OfferHold), now}}, nil
}

// Lapse ends the offers not taken by now, each passing its place to the
// next person waiting.
func (s *Slot) Lapse(now time.Time, p Policy) ([]Event, error) {
	var evs []Event
	next := 0
	for _, o := range s.offers {
		if now.Before(o.Until) {
			continue
		}
		evs = append(evs, OfferLapsed{o.Ref, now})
		if next < len(s.waiting) && now.Before(s.EndsAt) && s.Closed == "" {
			evs = append(evs, PlaceOffered{s.waiting[next].Ref, now.Add(p.OfferHold), now})
			next++
		}
	}
	return evs, nil
}

// Noticed records that the person offered a place was told, once.
func (s *Slot) Noticed(ref string, now time.Time) ([]Event, error) {
	if !s.offered(ref, now) {
		return nil, nil
	}
	return []Event{OfferNoticed{ref, now}}, nil
}

// Online is the number of places residents can book.
func (s *Slot) Online() int { return s.Spec.Capacity - s.Spec.WalkIn }

func (s *Slot) Book(appointmentID, residentRef string, now time.Time) ([]Event, error) {
	switch {
	case !s.Released:
		return nil, fmt.Errorf("%w: no such slot (该时段未开放预约)", ErrNotFound)
	case s.booked[appointmentID]:
		return nil, nil
	case s.Closed != "":
		return nil, illegal("the slot is closed: %s (该时段已停止办理：%s)", s.Closed, s.Closed)
	case !now.Before(s.EndsAt):
		return nil, illegal("the slot is over (该时段已结束)")
	case s.offered(residentRef, now): // the place held for them
	case s.Taken(now) >= s.Online():
		return nil, fmt.Errorf("%w: no place left in this slot; you may join its waitlist (该时段已约满，可登记候补)", ErrFull)
	}
	return []Event{SlotBooked{appointmentID, residentRef}}, nil
}

// BookFirst takes a place for someone with the right to rebook first: the
// places kept for walk-ins are theirs too.
func (s *Slot) BookFirst(appointmentID, residentRef string, now time.Time) ([]Event, error) {
	switch {
	case !s.Released:
		return nil, fmt.Errorf("%w: no such slot (该时段未开放预约)", ErrNotFound)
	case s.booked[appointmentID]:
		return nil, nil
	case s.Closed != "":
		return nil, illegal("the slot is closed: %s (该时段已停止办理：%s)", s.Closed, s.Closed)
	case !now.Before(s.EndsAt):
		return nil, illegal("the slot is over (该时段已结束)")
	case s.Taken(now) >= s.Spec.Capacity:
		return nil, fmt.Errorf("%w: no place left in this slot (该时段已约满)", ErrFull)
	}
	return []Event{SlotBooked{appointmentID, residentRef}}, nil
}

// Free gives a booked place back after delay.
func (s *Slot) Free(appointmentID string, now time.Time, delay time.Duration) ([]Event, error) {
	if !s.booked[appointmentID] {
		return nil, nil
	}
	return []Event{SlotFreed{appointmentID, now.Add(delay)}}, nil
}

// Policy holds the fair-booking rules; DefaultPolicy has the defaults.
type Policy struct {
	MaxLive      int           // live bookings a login may hold, for anyone
	FamilySize   int           // people a login may book for (代办) within FamilyWindow
	FamilyWindow time.Duration // six months
	NoShowLimit  int           // no-shows within NoShowWindow that suspend booking
	NoShowWindow time.Duration // six months
	Suspension   time.Duration // how long booking stays suspended
	FreeDelay    time.Duration // before a cancelled place returns to the pool
	OfferHold    time.Duration // how long a freed place is held for the first person waiting
	RebookWindow time.Duration // how long the hall's cancellations may rebook first
	MaxWaiting   int           // people on one slot's waitlist
	Grace        time.Duration // after a slot ends before an appointment is a no-show
	// CancelCutoff is how long before its start an appointment can still
	// be cancelled freely; a later cancellation counts as a no-show.
	CancelCutoff time.Duration
	// CheckInEarly and CheckInLate bound the check-in window around the
	// slot's start.
	CheckInEarly time.Duration
	CheckInLate  time.Duration
}

var DefaultPolicy = Policy{
	MaxLive:      3,
	FamilySize:   5,
	FamilyWindow: 183 * 24 * time.Hour,
	NoShowLimit:  3,
	NoShowWindow: 183 * 24 * time.Hour,
	Suspension:   90 * 24 * time.Hour,
	FreeDelay:    10 * time.Minute,
	OfferHold:    15 * time.Minute,
	RebookWindow: 7 * 24 * time.Hour,
	MaxWaiting:   20,
	Grace:        15 * time.Minute,
	CheckInEarly: 60 * time.Minute,
	CheckInLate:  15 * time.Minute,
}

// Note is one line of the booking notes (预约须知), in both languages.
type Note struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// Notes states the policy's rules as a resident reads them before booking.
func (p Policy) Notes() []Note {
	cutoffZH, cutoffEN := "时段开始前", "before the slot starts"
	if p.CancelCutoff > 0 {
		cutoffZH = fmt.Sprintf("时段开始%s前", zhDuration(p.CancelCutoff))
		cutoffEN = fmt.Sprintf("up to %s before the slot starts", enDuration(p.CancelCutoff))
	}
	return []Note{
		{fmt.Sprintf("请在时段开始前%s至开始后%s之间到大厅签到（自助机或窗口），逾时请现场取号。", zhDuration(p.CheckInEarly), zhDuration(p.CheckInLate)),
			fmt.Sprintf("Check in at the hall (kiosk or counter) from %s before to %s after the slot starts; later, take a walk-in ticket.", enDuration(p.CheckInEarly), enDuration(p.CheckInLate))},
		{fmt.Sprintf("%s可免费取消；之后取消按爽约计。", cutoffZH),
			fmt.Sprintf("Cancel freely %s; a later cancellation counts as a no-show.", cutoffEN)},
		{fmt.Sprintf("%d个月内爽约%d次，暂停网上预约%d天。", int(p.NoShowWindow.Hours()/24/30.5), p.NoShowLimit, int(p.Suspension.Hours()/24)),
			fmt.Sprintf("%d no-shows within %d months suspend online booking for %d days.", p.NoShowLimit, int(p.NoShowWindow.Hours()/24/30.5), int(p.Suspension.Hours()/24))},
		{fmt.Sprintf("每个账号最多同时持有%d个预约。", p.MaxLive), fmt.Sprintf("A login holds at most %d live bookings.", p.MaxLive)},
	}
}

func zhDuration(d time.Duration) string {
	if d%time.Hour == 0 && d > 0 {
		return fmt.Sprintf("%d小时", int(d.Hours()))
	}
	return fmt.Sprintf("%d分钟", int(d.Minutes()))
}

func enDuration(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "1 hour"
	case d%time.Hour == 0 && d > 0:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	case d == time.Minute:
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()))
}

// Events of a fair-booking account (stream "account-{login}"; older logs
// keep them per resident, "resident-{ref}").
type (
	BookingHeld struct {
		AppointmentID string        `json:"AppointmentID"`
		ServiceID     string        `json:"ServiceID"`
		Date          calendar.Date `json:"Date"`
		Person        string        `json:"Person,omitempty"` // the reference of the one booked for
		At            time.Time     `json:"At,omitzero"`
	}
	BookingMoved struct {
		AppointmentID string        `json:"AppointmentID"`
		Date          calendar.Date `json:"Date"`
	}
	BookingEnded struct {
		AppointmentID string `json:"AppointmentID"`
		Reason        string `json:"Reason"`
	}
	NoShowCounted struct {
		AppointmentID string    `json:"AppointmentID"`
		At            time.Time `json:"At"`
	}
	// RebookGranted lets a login whose booking the hall cancelled (a
	// closure, a new holiday) book the same service at the same station
	// first: into the places kept for walk-ins, until Until.
	RebookGranted struct {
		AppointmentID string    `json:"AppointmentID"` // the cancelled one
		Station       string    `json:"Station"`
		Service       string    `json:"Service"`
		Until         time.Time `json:"Until"`
	}
	RebookUsed struct {
		AppointmentID string `json:"AppointmentID"` // the cancelled one
		By            string `json:"By"`            // the new booking
	}
)

type right struct {
	Station, Service string
	Until            time.Time
}

type hold struct {
	Person, Service string
	Date            calendar.Date
}

// Resident guards the fair-booking rules of one login (an account) across
// the appointments it makes, for its holder and family alike: a booking
// under someone's ID number counts against the login that made it, never
// against that person's own login.
type Resident struct {
	live    map[string]hold
	noShows []time.Time
	people  map[string]time.Time // when the login last booked for each person
	rights  map[string]right     // to rebook first, by the cancelled appointment
}

// Right is the cancelled appointment whose right to rebook first a booking
// of service at station may use at now, if there is one.
func (r *Resident) Right(station, service string, now time.Time) (string, bool) {
	var ids []string
	for id, g := range r.rights {
		if g.Station == station && g.Service == service && now.Before(g.Until) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return "", false
	}
	return slices.Min(ids), true
}

// Grant gives the right to rebook first after the hall cancelled a booking.
func (r *Resident) Grant(appointmentID, station, service string, until time.Time) ([]Event, error) {
	if _, ok := r.rights[appointmentID]; ok {
		return nil, nil
	}
	return []Event{RebookGranted{appointmentID, station, service, until}}, nil
}

// UseRight spends the right a rebooking took.
func (r *Resident) UseRight(cancelled, by string) ([]Event, error) {
	if _, ok := r.rights[cancelled]; !ok {
		return nil, nil
	}
	return []Event{RebookUsed{cancelled, by}}, nil
}

// Holds says whether the resident holds a live booking for appointment id.
func (r *Resident) Holds(id string) bool {
	_, ok := r.live[id]
	return ok
}

func (r *Resident) Apply(e Event) {
	if r.live == nil {
		r.live = map[string]hold{}
	}
	if r.people == nil {
		r.people = map[string]time.Time{}
	}
	if r.rights == nil {
		r.rights = map[string]right{}
	}
	switch e := e.(type) {
	case BookingHeld:
		r.live[e.AppointmentID] = hold{e.Person, e.ServiceID, e.Date}
		if e.Person != "" && e.At.After(r.people[e.Person]) {
			r.people[e.Person] = e.At
		}
	case BookingMoved:
		h := r.live[e.AppointmentID]
		h.Date = e.Date
		r.live[e.AppointmentID] = h
	case BookingEnded:
		delete(r.live, e.AppointmentID)
	case NoShowCounted:
		delete(r.live, e.AppointmentID)
		r.noShows = append(r.noShows, e.At)
	case RebookGranted:
		r.rights[e.AppointmentID] = right{e.Station, e.Service, e.Until}
	case RebookUsed:
		delete(r.rights, e.AppointmentID)
	}
}

// SuspendedUntil is when online booking opens again, or zero.
func (r *Resident) SuspendedUntil(now time.Time, p Policy) time.Time {
	recent := 0
	for _, t := range r.noShows {
		if now.Sub(t) < p.NoShowWindow {
			recent++
		}
	}
	if recent < p.NoShowLimit || len(r.noShows) == 0 {
		return time.Time{}
	}
	until := r.noShows[len(r.noShows)-1].Add(p.Suspension)
	if now.Before(until) {
		return until
	}
	return time.Time{}
}

// Hold reserves a booking for person against the login's limits.
func (r *Resident) Hold(appointmentID, person, service string, date calendar.Date, now time.Time, p Policy) ([]Event, error) {
	if _, ok := r.live[appointmentID]; ok {
		return nil, nil
	}
	if until := r.SuspendedUntil(now, p); !until.IsZero() {
		return nil, fmt.Errorf("%w: online booking suspended after %d no-shows, until %s (多次爽约，暂停网上预约至 %s)",
			ErrLimit, p.NoShowLimit, until.Format(time.DateOnly), until.Format(time.DateOnly))
	}
	if len(r.live) >= p.MaxLive {
		return nil, fmt.Errorf("%w: at most %d live bookings (最多同时持有%d个预约)", ErrLimit, p.MaxLive, p.MaxLive)
	}
	if _, known := r.people[person]; !known || now.Sub(r.people[person]) >= p.FamilyWindow {
		recent := 1
		for _, at := range r.people {
			if now.Sub(at) < p.FamilyWindow {
				recent++
			}
		}
		if recent > p.FamilySize {
			return nil, fmt.Errorf("%w: one login books for at most %d people (每个账号最多为%d人预约)", ErrLimit, p.FamilySize, p.FamilySize)
		}
	}
	if err := r.sameDay(appointmentID, person, service, date); err != nil {
		return nil, err
	}
	return []Event{BookingHeld{AppointmentID: appointmentID, ServiceID: service, Date: date, Person: person, At: now}}, nil
}

func (r *Resident) sameDay(appointmentID, person, service string, date calendar.Date) error {
	for id, h := range r.live {
		if id != appointmentID && h.Person == person && h.Service == service && h.Date == date {
			return fmt.Errorf("%w: one booking per service and day (同一业务每天限约一次)", ErrLimit)
		}
	}
	return nil
}

// Move follows a reschedule, keeping one booking per service and day.
func (r *Resident) Move(appointmentID string, date calendar.Date) ([]Event, error) {
	h, ok := r.live[appointmentID]
	if !ok || h.Date == date {
		return nil, nil
	}
	if err := r.sameDay(appointmentID, h.Person, h.Service, date); err != nil {
		return nil, err
	}
	return []Event{BookingMoved{appointmentID, date}}, nil
}

// End releases a held booking: cancelled, checked in, or never completed.
func (r *Resident) End(appointmentID, reason string) ([]Event, error) {
	if _, ok := r.live[appointmentID]; !ok {
		return nil, nil
	}
	return []Event{BookingEnded{appointmentID, reason}}, nil
}

// CountNoShow records a missed appointment, once.
func (r *Resident) CountNoShow(appointmentID string, at time.Time) ([]Event, error) {
	if _, ok := r.live[appointmentID]; !ok {
		return nil, nil
	}
	return []Event{NoShowCounted{appointmentID, at}}, nil
}

// Status is where an appointment is in its life.
type Status string

const (
	Booked    Status = "booked"
	Cancelled Status = "cancelled"
	CheckedIn Status = "checked_in"
	NoShow    Status = "no_show"
)

// Events of an appointment (stream "appointment-{id}").
type (
	AppointmentBooked struct {
		ID        string        `json:"ID"`
		StationID string        `json:"StationID"`
		ServiceID string        `json:"ServiceID"`
		Date      calendar.Date `json:"Date"`
		Start     Clock         `json:"Start"`
		End       Clock         `json:"End"`
		EndsAt    time.Time     `json:"EndsAt"`
		Resident  Person        `json:"Resident"`
		// Owner is the login that booked: the resident's own phone login,
		// whoever typed it in.
		Owner string `json:"Owner,omitempty"`
		// Account is whose fair-booking limits the booking counts against
		// (the login that made it); empty in older logs, which kept them
		// per resident.
		Account string `json:"Account,omitempty"`
		// Code is the short check-in code (签到码) the resident types or
		// shows at the kiosk; none in older logs.
		Code string `json:"Code,omitempty"`
	}
	AppointmentRescheduled struct {
		FromDate  calendar.Date `json:"FromDate"`
		FromStart Clock         `json:"FromStart"`
		Date      calendar.Date `json:"Date"`
		Start     Clock         `json:"Start"`
		End       Clock         `json:"End"`
		EndsAt    time.Time     `json:"EndsAt"`
	}
	AppointmentCancelled struct {
		Reason string `json:"Reason"`
		// Late marks a cancellation after the cut-off: it counts as a
		// no-show.
		Late bool `json:"Late,omitempty"`
		// ByHall marks a cancellation the hall made (a closure): the
		// resident is sent a notice.
		ByHall bool `json:"ByHall,omitempty"`
	}
	// NoticeSent records that a notice went to the resident (sent at
	// least once, recorded once).
	NoticeSent struct {
		Kind string    `json:"Kind"`
		At   time.Time `json:"At"`
	}
	AppointmentCheckedIn struct {
		TicketID string `json:"TicketID"`
		Number   string `json:"Number"`
		InSlot   bool   `json:"InSlot"`
	}
	AppointmentNoShow struct{}
	// ReminderSent records that the day-before reminder went out (the
	// outbox's mark: sent at least once, recorded once).
	ReminderSent struct {
		At time.Time `json:"At"`
	}
)

// codeAlphabet has no characters that read alike (0/O, 1/I/L, 2/Z, 5/S,
// 8/B, G/6 without the G): typed from a phone's screen at a kiosk, none can be mistaken.
const codeAlphabet = "34679ACDEFHJKMNPRTUVWXY"

// CodeLength is the length of a check-in code: 23⁶ ≈ 1.5 × 10⁸ codes.
const CodeLength = 6

// CheckInCode is an appointment's short check-in code, derived from its id;
// salt picks another when the first is taken at the station.
func CheckInCode(appointmentID string, salt int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "checkin\x00%s\x00%d", appointmentID, salt))
	n := binary.BigEndian.Uint64(sum[:8])
	code := make([]byte, CodeLength)
	for i := range code {
		code[i] = codeAlphabet[n%uint64(len(codeAlphabet))]
		n /= uint64(len(codeAlphabet))
	}
	return string(code)
}

// NormalizeCode reads a typed code: case and separators do not matter.
func NormalizeCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r != ' ' && r != '-' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// HoldStream is the stream of the account the booking counts against.
func (b AppointmentBooked) HoldStream() string {
	if b.Account == "" {
		return ResidentStream(b.Resident.Ref)
	}
	return AccountStream(b.Account)
}

// Appointment is one booking's life.
type Appointment struct {
	AppointmentBooked
	Status     Status
	Reminded   bool
	LateCancel bool            // cancelled after the cut-off
	Noticed    map[string]bool // notices sent, by kind
}

func (a *Appointment) Apply(e Event) {
	switch e := e.(type) {
	case AppointmentBooked:
		a.AppointmentBooked, a.Status = e, Booked
	case AppointmentRescheduled:
		a.Date, a.Start, a.End, a.EndsAt = e.Date, e.Start, e.End, e.EndsAt
	case AppointmentCancelled:
		a.Status, a.LateCancel = Cancelled, e.Late
	case AppointmentCheckedIn:
		a.Status = CheckedIn
	case AppointmentNoShow:
		a.Status = NoShow
	case ReminderSent:
		a.Reminded = true
	case NoticeSent:
		if a.Noticed == nil {
			a.Noticed = map[string]bool{}
		}
		a.Noticed[e.Kind] = true
	}
}

// Notice kinds.
const (
	NoticeCancelled = "cancelled"
	NoticeTurn      = "turn"  // a few tickets ahead: come to the waiting area
	NoticeReady     = "ready" // an application's document can be collected
)

// Notify records a sent notice of kind, once.
func (a *Appointment) Notify(kind string, at time.Time) ([]Event, error) {
	if !a.Exists() {
		return nil, fmt.Errorf("%w: appointment (预约不存在)", ErrNotFound)
	}
	if a.Noticed[kind] {
		return nil, nil
	}
	return []Event{NoticeSent{kind, at}}, nil
}

// CancelByHall cancels a live appointment for the hall's reason (a
// closure): it never counts against the resident, who is sent a notice.
func (a *Appointment) CancelByHall(reason string) ([]Event, error) {
	if a.Status == Cancelled {
		return nil, nil
	}
	if err := a.live(); err != nil {
		return nil, err
	}
	return []Event{AppointmentCancelled{Reason: reason, ByHall: true}}, nil
}

// Remind records a sent reminder, once, for a booking still to come; for
// any other there is nothing to do.
func (a *Appointment) Remind(at time.Time) ([]Event, error) {
	if !a.Exists() {
		return nil, fmt.Errorf("%w: appointment (预约不存在)", ErrNotFound)
	}
	if a.Reminded || a.Status != Booked {
		return nil, nil
	}
	return []Event{ReminderSent{at}}, nil
}

func (a *Appointment) Exists() bool { return a.Status != "" }

// Book records the booking a slot accepted. Repeating the same booking
// changes nothing, so a retried booking completes instead of failing.
func (a *Appointment) Book(b AppointmentBooked) ([]Event, error) {
	if a.Exists() {
		// Only a retry of the same booking, still booked, is answered as
		// done; a booking made again under a cancelled one's id is not.
		if a.Status == Booked && a.AppointmentBooked.ID == b.ID && a.Resident.Ref == b.Resident.Ref &&
			a.StationID == b.StationID && a.ServiceID == b.ServiceID && a.Date == b.Date && a.Start == b.Start {
			return nil, nil
		}
		return nil, illegal("appointment %s exists (预约已存在)", b.ID)
	}
	if b.Resident.Ref == "" {
		return nil, invalid("appointment without a resident")
	}
	return []Event{b}, nil
}

// Live refuses an appointment that does not exist or is no longer booked.
func (a *Appointment) Live() error { return a.live() }

func (a *Appointment) live() error {
	if !a.Exists() {
		return fmt.Errorf("%w: appointment (预约不存在)", ErrNotFound)
	}
	if a.Status != Booked {
		return illegal("the appointment is %s (预约状态为 %s)", a.Status, a.Status)
	}
	return nil
}

func (a *Appointment) Reschedule(date calendar.Date, start, end Clock, endsAt time.Time) ([]Event, error) {
	if err := a.live(); err != nil {
		return nil, err
	}
	if date == a.Date && start == a.Start {
		return nil, nil
	}
	return []Event{AppointmentRescheduled{a.Date, a.Start, date, start, end, endsAt}}, nil
}

// Cancel cancels a live appointment; late says the cut-off has passed, so
// the cancellation counts as a no-show.
func (a *Appointment) Cancel(reason string, late bool) ([]Event, error) {
	if a.Status == Cancelled {
		return nil, nil
	}
	if err := a.live(); err != nil {
		return nil, err
	}
	if err := CheckText("reason", reason); err != nil {
		return nil, err
	}
	return []Event{AppointmentCancelled{Reason: reason, Late: late}}, nil
}

// StartsAt is when the appointment's slot starts.
func (a *Appointment) StartsAt(loc *time.Location) time.Time { return a.Start.On(a.Date, loc) }

// LateToCancel says whether a cancellation at now is past the cut-off.
func (a *Appointment) LateToCancel(now time.Time, loc *time.Location, p Policy) bool {
	return !now.Before(a.StartsAt(loc).Add(-p.CancelCutoff))
}

// CheckIn is allowed within the policy's window around the slot's start
// (now and the start in the station's zone).
func (a *Appointment) CheckIn(ticketID, number string, now, start time.Time, p Policy, inSlot bool) ([]Event, error) {
	if err := a.live(); err != nil {
		return nil, err
	}
	opens, closes := start.Add(-p.CheckInEarly), start.Add(p.CheckInLate)
	layout := "15:04"
	if calendar.DateOf(now.In(start.Location())) != a.Date {
		layout = "2006-01-02 15:04"
	}
	if now.Before(opens) {
		at := opens.Format(layout)
		return nil, illegal("check-in opens at %s; please come back then (签到时间未到，请于 %s 后再来签到)", at, at)
	}
	if now.After(closes) {
		at := closes.Format(layout)
		return nil, illegal("check-in closed at %s; please take a walk-in ticket (签到已于 %s 截止，请现场取号)", at, at)
	}
	return []Event{AppointmentCheckedIn{ticketID, number, inSlot}}, nil
}

// MarkNoShow applies once the slot is over plus a grace period.
func (a *Appointment) MarkNoShow(now time.Time, grace time.Duration) ([]Event, error) {
	if a.Status == NoShow {
		return nil, nil
	}
	if err := a.live(); err != nil {
		return nil, err
	}
	if now.Before(a.EndsAt.Add(grace)) {
		return nil, illegal("the slot is not over yet (预约时段尚未结束)")
	}
	return []Event{AppointmentNoShow{}}, nil
}

func init() {
	register(map[string]Event{
		"SlotReleased":           SlotReleased{},
		"SlotBooked":             SlotBooked{},
		"SlotFreed":              SlotFreed{},
		"SlotClosed":             SlotClosed{},
		"WaitlistJoined":         WaitlistJoined{},
		"PlaceOffered":           PlaceOffered{},
		"OfferLapsed":            OfferLapsed{},
		"OfferNoticed":           OfferNoticed{},
		"NoticeSent":             NoticeSent{},
		"BookingHeld":            BookingHeld{},
		"BookingMoved":           BookingMoved{},
		"BookingEnded":           BookingEnded{},
		"NoShowCounted":          NoShowCounted{},
		"RebookGranted":          RebookGranted{},
		"RebookUsed":             RebookUsed{},
		"AppointmentBooked":      AppointmentBooked{},
		"AppointmentRescheduled": AppointmentRescheduled{},
		"AppointmentCancelled":   AppointmentCancelled{},
		"AppointmentCheckedIn":   AppointmentCheckedIn{},
		"AppointmentNoShow":      AppointmentNoShow{},
		"ReminderSent":           ReminderSent{},
	})
}
