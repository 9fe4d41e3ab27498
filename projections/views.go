package projections

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore"
)

// All returns every projection servicehall keeps.
func All() []Projection {
	return []Projection{Availability{}, Applications{}, Completion{}, Queues{}, Audit{}, Residents{}, Config{}, Ratings{}}
}

// SlotView is a slot's free capacity.
type SlotView struct {
	Station   string        `json:"station_id"`
	Service   string        `json:"service_id"`
	Date      calendar.Date `json:"date"`
	Start     domain.Clock  `json:"start"`
	End       domain.Clock  `json:"end"`
	Capacity  int           `json:"capacity"`
	WalkIn    int           `json:"walk_in"`
	Booked    int           `json:"booked"`
	Returning []time.Time   `json:"returning,omitempty"` // freed places not yet back
	Closed    string        `json:"closed,omitempty"`    // why the hall closed it
	Waiting   int           `json:"waiting,omitempty"`   // on the waitlist
	Offers    []time.Time   `json:"offers,omitempty"`    // until when places are held for people from it
}

// Available is what a resident can still book at now.
func (s SlotView) Available(now time.Time) int {
	n := s.Capacity - s.WalkIn - s.Booked
	for _, t := range append(s.Returning, s.Offers...) {
		if now.Before(t) {
			n--
		}
	}
	return max(0, n)
}

// OfferView is a place held for a person from a slot's waitlist, with
// whether they were told.
type OfferView struct {
	Station string        `json:"station_id"`
	Service string        `json:"service_id"`
	Date    calendar.Date `json:"date"`
	Start   domain.Clock  `json:"start"`
	Person  domain.Person `json:"person"`
	Until   time.Time     `json:"until"`
	Noticed bool          `json:"noticed,omitempty"`
}

// SlotKey orders slots for range scans by station, service and date.
func SlotKey(station, service string, d calendar.Date, start domain.Clock) string {
	return fmt.Sprintf("%s/%s/%s/%s", station, service, d, start)
}

// Availability is free capacity per station, service, date and slot.
type Availability struct{}

func (Availability) Name() string { return "availability" }

func (Availability) Apply(v *View, r eventstore.Record, e domain.Event) error {
	switch e := e.(type) {
	case domain.SlotReleased:
		s := e.Slot
		key := SlotKey(s.Station, s.Service, s.Date, s.Start)
		v.Put("slots", key, SlotView{Station: s.Station, Service: s.Service, Date: s.Date, Start: s.Start, End: s.End, Capacity: s.Capacity, WalkIn: s.WalkIn})
		v.Put("streams", r.Stream, key)
	case domain.SlotBooked, domain.SlotFreed, domain.SlotClosed, domain.WaitlistJoined, domain.PlaceOffered, domain.OfferLapsed, domain.OfferNoticed:
		key, ok, err := Get[string](v, "streams", r.Stream)
		if err != nil || !ok {
			return orMissing(err, ok, "slot", r.Stream)
		}
		s, ok, err := Get[SlotView](v, "slots", key)
		if err != nil || !ok {
			return orMissing(err, ok, "slot", key)
		}
		switch e := e.(type) {
		case domain.SlotFreed:
			s.Booked--
			s.Returning = append(s.Returning, e.ReturnsAt)
		case domain.SlotBooked:
			s.Booked++
			err = forgetWaiter(v, &s, key, e.ResidentRef)
		case domain.WaitlistJoined:
			s.Waiting++
			v.Put("waiters", key+"/"+e.Person.Ref, e.Person)
		case domain.PlaceOffered:
			p, _, gerr := Get[domain.Person](v, "waiters", key+"/"+e.Ref)
			if gerr != nil {
				return gerr
			}
			v.Delete("waiters", key+"/"+e.Ref)
			s.Waiting--
			s.Offers = append(s.Offers, e.Until)
			v.Put("offers", key+"/"+e.Ref, OfferView{Station: s.Station, Service: s.Service, Date: s.Date, Start: s.Start, Person: p, Until: e.Until})
		case domain.OfferLapsed:
			err = forgetWaiter(v, &s, key, e.Ref)
		case domain.OfferNoticed:
			o, ok, gerr := Get[OfferView](v, "offers", key+"/"+e.Ref)
			if gerr != nil || !ok {
				return gerr
			}
			o.Noticed = true
			v.Put("offers", key+"/"+e.Ref, o)
		case domain.SlotClosed:
			s.Closed = e.Reason
		}
		if err != nil {
			return err
		}
		v.Put("slots", key, s)
	}
	return nil
}

// forgetWaiter takes ref off a slot's waitlist or its offers: they booked,
// or their offer lapsed.
func forgetWaiter(v *View, s *SlotView, key, ref string) error {
	if _, ok, err := Get[domain.Person](v, "waiters", key+"/"+ref); err != nil {
		return err
	} else if ok {
		v.Delete("waiters", key+"/"+ref)
		s.Waiting--
	}
	o, ok, err := Get[OfferView](v, "offers", key+"/"+ref)
	if err != nil || !ok {
		return err
	}
	v.Delete("offers", key+"/"+ref)
	if i := slices.IndexFunc(s.Offers, func(t time.Time) bool { return t.Equal(o.Until) }); i >= 0 {
		s.Offers = slices.Delete(s.Offers, i, i+1)
	}
	return nil
}

// Offers lists the places held for people from waitlists.
func Offers(ctx context.Context, v Views) ([]OfferView, error) {
	return Scan[OfferView](ctx, v.Store(), v.NS("availability", "offers"), "", "")
}

func orMissing(err error, ok bool, what, key string) error {
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s %s not in the view", what, key)
	}
	return nil
}

// Step is one entry of a history: what happened, when, and who did it.
type Step struct {
	Type  string    `json:"type"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Role  string    `json:"role"`
}

// AppView is an application as managers and residents read it.
type AppView struct {
	ID         string                  `json:"id"`
	Station    string                  `json:"station_id"`
	Service    string                  `json:"service_id"`
	Channel    string                  `json:"channel"`
	Applicant  domain.Person           `json:"applicant"`
	Owner      string                  `json:"owner,omitempty"`
	Status     domain.ApplicationState `json:"status"`
	Unit       calendar.Unit           `json:"time_limit_unit"`
	Accepted   calendar.Date           `json:"accepted,omitzero"`
	Deadline   calendar.Date           `json:"deadline,omitzero"`
	Paused     bool                    `json:"paused"`
	Left       int                     `json:"left,omitempty"` // days left while paused
	Warned     bool                    `json:"warned"`
	Overdue    bool                    `json:"overdue"`
	Escalation int                     `json:"escalation_level"`
	Completed  calendar.Date           `json:"completed,omitzero"`
	OnTime     bool                    `json:"on_time"`
	Score      int                     `json:"score,omitempty"`
	History    []Step                  `json:"history"`
	// The decisions' texts, for the applicant and the desk.
	Missing    []string      `json:"missing,omitempty"`   // while materials are awaited (一次性告知)
	Asked      []string      `json:"asked_for,omitempty"` // what the last 一次性告知 asked for, kept after they came
	Reason     string        `json:"reason,omitempty"`    // when rejected
	Basis      string        `json:"basis,omitempty"`     // the refusal's legal basis
	Note       string        `json:"note,omitempty"`      // when approved
	Extensions []Extension   `json:"extensions,omitempty"`
	Legal      calendar.Date `json:"legal_deadline,omitzero"` // 法定时限
	LegalUnit  calendar.Unit `json:"legal_unit,omitempty"`
	AcceptBy   calendar.Date `json:"accept_by,omitzero"` // an online application's promised acceptance
	Ready      bool          `json:"ready_for_collection,omitempty"`
	Where      string        `json:"collect_at,omitempty"`
	Collected  calendar.Date `json:"collected,omitzero"`
}

// Extension is a deadline extended by a manager, with why.
type Extension struct {
	Days     int           `json:"days"`
	Reason   string        `json:"reason"`
	Deadline calendar.Date `json:"deadline"`
}

// Open says whether a clock can still run out: the deadline's, or an online
// application's promised acceptance.
func (a AppView) Open() bool {
	return a.Status == domain.Accepted || a.Status == domain.Supplying || (a.Status == domain.Submitted && !a.AcceptBy.IsZero())
}

// Due is the date the running clock aims at: the promised acceptance while
// an online application waits, else the deadline.
func (a AppView) Due() calendar.Date {
	if a.Status == domain.Submitted {
		return a.AcceptBy
	}
	return a.Deadline
}

// SLA is the application's standing at today: on_track, warning or overdue.
func (a AppView) SLA(today calendar.Date, cal *calendar.Calendar, rule domain.Escalation) (state string, daysLeft int) {
	if a.Paused {
		return "paused", a.Left
	}
	due, unit := a.Due(), a.Unit
	if a.Status == domain.Submitted {
		unit = calendar.WorkingDays
	}
	left := cal.Between(today, due, unit)
	switch {
	case today.After(due):
		return "overdue", left
	case cal.WorkingDaysBetween(today, due) <= rule.WarnAt:
		return "warning", left
	}
	return "on_track", left
}

// Applications keeps every application with its deadline and history.
type Applications struct{}

func (Applications) Name() string { return "applications" }

func (Applications) Apply(v *View, r eventstore.Record, e domain.Event) error {
	if x, ok := e.(domain.ResidentErased); ok {
		return forget(v, "apps", x.Ref, func(a *AppView) { a.Applicant = a.Applicant.Forget() })
	}
	id, ok := domain.StreamID("application", r.Stream)
	if !ok {
		return nil
	}
	a, _, err := Get[AppView](v, "apps", id)
	if err != nil {
		return err
	}
	switch e := e.(type) {
	case domain.ApplicationSubmitted:
		a = AppView{ID: e.ID, Station: e.StationID, Service: e.ServiceID, Channel: e.Channel, Applicant: e.Applicant, Owner: e.Owner, Status: domain.Submitted, Unit: e.Unit,
			AcceptBy: e.AcceptBy, LegalUnit: e.LegalUnit}
		owner := e.Owner
		if owner == "" {
			owner = e.Applicant.Ref
		}
		v.Add("by-resident", owner+"/"+e.ID, e.ID)
		if err := remember(v, e.Applicant.Ref, id); err != nil {
			return err
		}
	case domain.ApplicationAccepted:
		a.Status, a.Accepted, a.Deadline, a.Legal = domain.Accepted, e.Date, e.Deadline, e.LegalDeadline
	case domain.SupplementRequested:
		a.Status, a.Paused, a.Left, a.Missing, a.Asked = domain.Supplying, true, e.Left, e.Missing, e.Missing
	case domain.SupplementReceived:
		a.Status, a.Paused, a.Deadline, a.Legal, a.Missing = domain.Accepted, false, e.Deadline, e.LegalDeadline, nil
	case domain.DeadlineExtended:
		a.Deadline, a.Warned = e.Deadline, false
		a.Extensions = append(a.Extensions, Extension{e.Days, e.Reason, e.Deadline})
		if a.Paused {
			a.Left += e.Days
		}
	case domain.DeadlineRecomputed:
		a.Deadline, a.Warned = e.Deadline, false
		if !e.LegalDeadline.IsZero() {
			a.Legal = e.LegalDeadline
		}
	case domain.ApplicationApproved:
		a.Status, a.Note = domain.Approved, e.Note
	case domain.ApplicationRejected:
		a.Status, a.Reason, a.Basis = domain.Rejected, e.Reason, e.Basis
	case domain.ApplicationReady:
		a.Ready, a.Where = true, e.Where
		v.Add("ready", id, id) // until the applicant is told
	case domain.ApplicationNoticed:
		if e.Kind == domain.NoticeReady {
			v.Delete("ready", id)
		}
	case domain.ApplicationCollected:
		a.Ready, a.Collected = false, e.Date
	case domain.ApplicationCompleted:
		a.Status, a.Completed, a.OnTime = domain.Completed, e.Date, e.OnTime
	case domain.ApplicationWithdrawn:
		a.Status = domain.Withdrawn
	case domain.ApplicationWarned:
		a.Warned = true
	case domain.ApplicationOverdue:
		a.Overdue = true
	case domain.ApplicationEscalated:
		a.Escalation = e.Level
	case domain.ApplicationRated:
		a.Score = e.Score
	}
	if a.ID == "" {
		return fmt.Errorf("application %s: %s before it was submitted", id, r.Type)
	}
	a.History = append(a.History, Step{r.Type, r.OccurredAt, r.Actor.ID, r.Actor.Role})
	v.Put("apps", id, a)
	return nil
}

// Counts is the running counts of the applications due on one day at a
// station for one service (the completion view's "days" table): the first
// layout of the figures, which CompletionRates no longer reads.
type Counts struct {
	Due       int `json:"due"`
	Completed int `json:"completed"`
	OnTime    int `json:"completed_on_time"`
	Overdue   int `json:"overdue"`
	Rejected  int `json:"rejected"`
	Withdrawn int `json:"withdrawn"`
	Ratings   int `json:"ratings"`
	ScoreSum  int `json:"score_sum"`
}

// CompletionKey files counts by station, the deadline's date, and service.
func CompletionKey(station string, due calendar.Date, service string) string {
	return fmt.Sprintf("%s/%s/%s", station, due, service)
}

// Completion keeps each application as a case filed by the days it can
// count in (the "cases" table, read by CompletionRates), and the older
// running counts by station, deadline and service ("days").
type Completion struct{}

func (Completion) Name() string { return "completion" }

type dueAt struct {
	Station, Service string
	Deadline         calendar.Date
}

func (Completion) Apply(v *View, r eventstore.Record, e domain.Event) error {
	id, ok := domain.StreamID("application", r.Stream)
	if !ok {
		return nil
	}
	if err := fileCase(v, id, r, e); err != nil {
		return err
	}
	if s, ok := e.(domain.ApplicationSubmitted); ok {
		v.Put("apps", id, dueAt{Station: s.StationID, Service: s.ServiceID})
		return nil
	}
	a, ok, err := Get[dueAt](v, "apps", id)
	if err != nil || !ok {
		return orMissing(err, ok, "application", id)
	}
	bump := func(d calendar.Date, f func(*Counts)) error {
		if d.IsZero() {
			return nil
		}
		key := CompletionKey(a.Station, d, a.Service)
		c, _, err := Get[Counts](v, "days", key)
		if err != nil {
			return err
		}
		f(&c)
		v.Put("days", key, c)
		return nil
	}
	move := func(to calendar.Date) error {
		if err := bump(a.Deadline, func(c *Counts) { c.Due-- }); err != nil {
			return err
		}
		a.Deadline = to
		v.Put("apps", id, a)
		return bump(to, func(c *Counts) { c.Due++ })
	}
	switch e := e.(type) {
	case domain.ApplicationAccepted:
		return move(e.Deadline)
	case domain.SupplementReceived:
		return move(e.Deadline)
	case domain.DeadlineExtended:
		return move(e.Deadline)
	case domain.DeadlineRecomputed:
		return move(e.Deadline)
	case domain.ApplicationCompleted:
		return bump(a.Deadline, func(c *Counts) {
			c.Completed++
			if e.OnTime {
				c.OnTime++
			}
		})
	case domain.ApplicationOverdue:
		return bump(a.Deadline, func(c *Counts) { c.Overdue++ })
	case domain.ApplicationRejected:
		return bump(a.Deadline, func(c *Counts) { c.Rejected++ })
	case domain.ApplicationWithdrawn:
		return bump(a.Deadline, func(c *Counts) { c.Withdrawn++ })
	case domain.ApplicationRated:
		// A rating after a remediation replaces the earlier one: one
		// rating per application, with its latest score.
		prev, _, err := Get[int](v, "scores", id)
		if err != nil {
			return err
		}
		v.Put("scores", id, e.Score)
		return bump(a.Deadline, func(c *Counts) {
			if prev == 0 {
				c.Ratings++
			}
			c.ScoreSum += e.Score - prev
		})
	}
	return nil
}

// Case is one application as the completion figures count it: what it is
// for, when it was accepted, its deadline, who accepted it, and how and
// when it ended. The completion view keeps it in its "cases" table under
// its id ("id/{id}") and, once accepted, under each day it can count in:
// "accepted/{date}/{station}/{id}", "due/{deadline}/{station}/{id}" and
// "closed/{instant}/{station}/{id}" once concluded or withdrawn. The last
// is an instant, not a date, because an approval or a refusal carries no
// date of its own and the view knows no time zone: the query reads the
// instant in the stations' zone.
type Case struct {
	ID         string        `json:"id"`
	Station    string        `json:"station_id"`
	Service    string        `json:"service_id"`
	Channel    string        `json:"channel"`
	TicketID   string        `json:"ticket_id,omitempty"`
	Submitted  time.Time     `json:"submitted_at"`
	Accepted   calendar.Date `json:"accepted,omitzero"`
	AcceptedBy string        `json:"accepted_by,omitempty"`
	Deadline   calendar.Date `json:"deadline,omitzero"`
	Paused     bool          `json:"paused,omitempty"` // the clock stopped for a supplement (补正)
	// Outcome is approved or rejected once concluded (办结), withdrawn if
	// the applicant withdrew; empty while open.
	Outcome domain.ApplicationState `json:"outcome,omitempty"`
	Closed  time.Time               `json:"closed_at,omitzero"`
	Overdue bool                    `json:"overdue,omitempty"` // marked by the escalation job
	// Score is the applicant's latest rating: one after a remediation
	// replaces the one before.
	Score int `json:"score,omitempty"`
}

// Concluded says whether the case was decided (办结): approved or refused.
func (c Case) Concluded() bool { return c.Outcome == domain.Approved || c.Outcome == domain.Rejected }

// OnTime says whether a concluded case was decided by its deadline, on the
// stations' calendar: a decision while the clock stood still for a
// supplement is on time, whatever the deadline before the pause said.
func (c Case) OnTime(loc *time.Location) bool {
	return c.Concluded() && (c.Paused || !calendar.DateOf(c.Closed.In(loc)).After(c.Deadline))
}

// keys are the keys the case is filed under. Only an accepted case counts:
// before acceptance no clock runs, so it is due nowhere.
func (c Case) keys() []string {
	keys := []string{"id/" + c.ID}
	if c.Accepted.IsZero() {
		return keys
	}
	tail := "/" + c.Station + "/" + c.ID
	keys = append(keys, "accepted/"+c.Accepted.String()+tail, "due/"+c.Deadline.String()+tail)
	if !c.Closed.IsZero() {
		keys = append(keys, "closed/"+instantKey(c.Closed)+tail)
	}
	return keys
}

// instantKey writes t so that keys sort as the instants do.
func instantKey(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// fileCase brings the application's case up to date with e and files it
// under its keys, leaving the keys it no longer has.
func fileCase(v *View, id string, r eventstore.Record, e domain.Event) error {
	c, found, err := Get[Case](v, "cases", "id/"+id)
	if err != nil {
		return err
	}
	if s, ok := e.(domain.ApplicationSubmitted); ok {
		c, found = Case{ID: id, Station: s.StationID, Service: s.ServiceID, Channel: s.Channel, TicketID: s.TicketID, Submitted: r.OccurredAt}, true
	}
	if !found {
		// Submitted before the view kept cases: it is not counted until a
		// rebuild reads its whole life. Stopping the projection here would
		// stop every completion figure for it.
		return nil
	}
	before := c.keys()
	// conclude records the first ending: an approval concludes the case,
	// and the completion that follows it does not conclude it again.
	conclude := func(how domain.ApplicationState) {
		if c.Outcome == "" {
			c.Outcome, c.Closed = how, r.OccurredAt
		}
	}
	switch e := e.(type) {
	case domain.ApplicationSubmitted:
	case domain.ApplicationAccepted:
		c.Accepted, c.AcceptedBy, c.Deadline = e.Date, r.Actor.ID, e.Deadline
	case domain.SupplementRequested:
		c.Paused = true
	case domain.SupplementReceived:
		c.Paused, c.Deadline = false, e.Deadline
	case domain.DeadlineExtended:
		c.Deadline = e.Deadline
	case domain.DeadlineRecomputed:
		c.Deadline = e.Deadline
	case domain.ApplicationApproved:
		conclude(domain.Approved)
	case domain.ApplicationRejected:
		conclude(domain.Rejected)
	case domain.ApplicationCompleted:
		conclude(domain.Approved)
	case domain.ApplicationWithdrawn:
		conclude(domain.Withdrawn)
	case domain.ApplicationOverdue:
		c.Overdue = true
	case domain.ApplicationRated:
		c.Score = e.Score
	default:
		return nil
	}
	after := c.keys()
	for _, k := range before {
		if !slices.Contains(after, k) {
			v.Delete("cases", k)
		}
	}
	for _, k := range after {
		v.Put("cases", k, c)
	}
	return nil
}

// remember files id under the person ref, so that an erasure finds what
// the person's details are shown on.
func remember(v *View, ref, id string) error {
	ids, _, err := Get[[]string](v, "by-ref", ref)
	if err != nil || slices.Contains(ids, id) {
		return err
	}
	v.Put("by-ref", ref, append(ids, id))
	return nil
}

// forget applies erase to every document of table filed under ref.
func forget[T any](v *View, table, ref string, erase func(*T)) error {
	ids, _, err := Get[[]string](v, "by-ref", ref)
	if err != nil {
		return err
	}
	for _, id := range ids {
		doc, found, err := Get[T](v, table, id)
		if err != nil {
			return err
		}
		if found {
			erase(&doc)
			v.Put(table, id, doc)
		}
	}
	return nil
}
