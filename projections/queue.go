package projections

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/domain/estimate"
	"github.com/servicehall/servicehall/eventstore"
)

// TicketView is a ticket as the hall sees it.
type TicketView struct {
	ID       string          `json:"id"`
	Number   string          `json:"number"`
	Service  string          `json:"service_id"`
	Priority domain.Priority `json:"priority"`
	InSlot   bool            `json:"in_slot,omitempty"`
	// Appointment is the checked-in appointment the ticket serves, if any.
	Appointment string             `json:"appointment_id,omitempty"`
	Seq         int                `json:"seq"` // arrival order: kept, or ties would fall to map order
	State       domain.TicketState `json:"state"`
	Counter     string             `json:"counter_id,omitempty"`
	Issued      time.Time          `json:"issued_at"`
	Called      time.Time          `json:"called_at,omitzero"`
	Recalls     int                `json:"recalls,omitempty"`
	Transfers   int                `json:"transfers,omitempty"`
	// FirstCalled ends the ticket's wait: a transferred ticket is called
	// again, but its holder stopped waiting at the first call.
	FirstCalled time.Time `json:"first_called_at,omitzero"`
	Done        time.Time `json:"done_at,omitzero"`
	// Missed is when the ticket was last marked a no-show (过号).
	Missed time.Time `json:"missed_at,omitzero"`
	// Clerk is who last called, resumed or completed the ticket at
	// Counter (the events' actor; a job's call leaves it as it was).
	Clerk string `json:"clerk,omitempty"`
}

// Call is one line of the hall board: a number sent to a counter.
type Call struct {
	Seq     int       `json:"seq"` // the day's call count, from 1
	Number  string    `json:"number"`
	Counter string    `json:"counter_id"`
	At      time.Time `json:"at"`
	Recall  bool      `json:"recall,omitempty"`
}

// DayView is a station's queue on one day, with its statistics. The view
// keeps it as a small summary (this, without Tickets) and one document per
// ticket, so that an event writes what it changed; DayOf puts them together.
type DayView struct {
	Station  string                         `json:"station_id"`
	Date     string                         `json:"date"`
	Tickets  map[string]*TicketView         `json:"tickets,omitempty"`
	Counters map[string]domain.CounterState `json:"counters"`        // counter → state
	Lines    map[string][]string            `json:"lines,omitempty"` // counter → the services it was last opened for
	Calls    []Call                         `json:"calls"`           // the latest, newest last
	CallSeq  int                            `json:"call_seq"`        // calls made today
	Stats    QueueStats                     `json:"stats"`
	// Observed service minutes per service line, for estimated waits.
	ServiceMinutes map[string]Mean `json:"service_minutes"`
	Closed         bool            `json:"closed"`
}

// Mean is a running mean.
type Mean struct {
	N   int     `json:"n"`
	Sum float64 `json:"sum"`
}

func (m *Mean) Add(x float64) { m.N++; m.Sum += x }

func (m Mean) Value() float64 {
	if m.N == 0 {
		return 0
	}
	return m.Sum / float64(m.N)
}

// QueueStats is one day's counts and times.
type QueueStats struct {
	Tickets   int  `json:"tickets"`
	Served    int  `json:"served"`
	NoShows   int  `json:"no_shows"`
	Cancelled int  `json:"cancelled"`
	Wait      Mean `json:"wait_minutes"`
	Service   Mean `json:"service_minutes"`
}

// Waiting lists waiting tickets in call order (the domain's order).
func (d DayView) Waiting() []*TicketView {
	var out []*TicketView
	for _, t := range d.Tickets {
		if t.State == domain.Waiting {
			out = append(out, t)
		}
	}
	domain.SortCallOrder(out, func(t *TicketView) (bool, domain.Priority, int) { return t.InSlot, t.Priority, t.Seq })
	return out
}

// Parked lists the tickets set aside while their resident fetches a
// document, in arrival order: they are still the hall's to serve.
func (d DayView) Parked() []*TicketView {
	var out []*TicketView
	for _, t := range d.Tickets {
		if t.State == domain.Parked {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *TicketView) int { return a.Seq - b.Seq })
	return out
}

// Ahead counts the waiting tickets of service: as many go before a new
// ordinary ticket.
func (d DayView) Ahead(service string) int {
	n := 0
	for _, t := range d.Tickets {
		if t.State == domain.Waiting && t.Service == service {
			n++
		}
	}
	return n
}

// WaitState is what an estimate knows of the day for a new ticket of
// service with ahead tickets before it in the call order: the service's
// mean observed minutes, and the open counters serving it, by the lines
// they were opened for (configured gives the lines of counters opened
// before the view kept them), with those of them on a ticket. The view
// keeps no call times: an estimator that reads them needs them kept here.
func (d DayView) WaitState(service string, ahead int, configured map[string][]string) estimate.State {
	s := estimate.State{Service: service, Ahead: ahead, Mean: d.ServiceMinutes[service].Value()}
	serving := d.Serving()
	for id, state := range d.Counters {
		lines, ok := d.Lines[id]
		if !ok {
			lines = configured[id]
		}
		if state != domain.Open || !slices.Contains(lines, service) {
			continue
		}
		s.Counters++
		if serving[id] != nil {
			s.Busy++
		}
	}
	return s
}

// EstimatedWait is the wait, in whole minutes, the hall tells a ticket of
// service with ahead tickets before it: the back-tested estimator in use
// (estimate.InUse) on the day's state.
func (d DayView) EstimatedWait(service string, ahead int, configured map[string][]string) int {
	return estimate.Tell(estimate.InUse(), d.WaitState(service, ahead, configured))
}

// Queues keeps each station's day: tickets, counters, calls and statistics;
// and how each day's appointments turned out.
type Queues struct{}

func (Queues) Name() string { return "queue" }

const boardLines = 20

func (Queues) Apply(v *View, r eventstore.Record, e domain.Event) error {
	station, date, ok := domain.ParseQueueStream(r.Stream)
	if !ok {
		return turnout(v, r, e)
	}
	// clerk is who acted on a ticket at a counter, if a person did.
	clerk := func(t *TicketView) {
		if r.Actor.Role != domain.RoleSystem && r.Actor.ID != "" {
			t.Clerk = r.Actor.ID
		}
	}
	key := station + "/" + date
	d, found, err := Get[DayView](v, "days", key)
	if err != nil {
		return err
	}
	if !found {
		d = DayView{Station: station, Date: date, Counters: map[string]domain.CounterState{}, ServiceMinutes: map[string]Mean{}}
	}
	// ticket reads a ticket of the day; put writes it back.
	ticket := func(id string) (TicketView, error) {
		t, ok, err := Get[TicketView](v, "tickets", key+"/"+id)
		if err == nil && !ok {
			err = fmt.Errorf("ticket %s not in the view of %s", id, key)
		}
		return t, err
	}
	put := func(t TicketView) { v.Put("tickets", key+"/"+t.ID, t) }
	call := func(id, counter string, at time.Time, recall bool, recalls int) error {
		t, err := ticket(id)
		if err != nil {
			return err
		}
		t.Recalls = recalls
		if !recall {
			t.State, t.Counter, t.Called = domain.Called, counter, at
			if t.FirstCalled.IsZero() {
				t.FirstCalled = at
			}
			clerk(&t)
			d.Stats.Wait.Add(at.Sub(t.Issued).Minutes())
		}
		d.CallSeq++
		d.Calls = append(d.Calls, Call{d.CallSeq, t.Number, counter, at, recall})
		if len(d.Calls) > boardLines {
			d.Calls = d.Calls[len(d.Calls)-boardLines:]
		}
		put(t)
		return nil
	}
	// set moves a ticket to state, then lets change amend it.
	set := func(id string, state domain.TicketState, change func(t *TicketView)) error {
		t, err := ticket(id)
		if err != nil {
			return err
		}
		t.State = state
		if change != nil {
			change(&t)
		}
		put(t)
		return nil
	}
	switch e := e.(type) {
	case domain.TicketIssued:
		put(TicketView{ID: e.TicketID, Number: e.Number, Service: e.ServiceID, Priority: e.Priority, Appointment: e.AppointmentID,
			InSlot: e.InSlot, Seq: e.Seq, State: domain.Waiting, Issued: e.At})
		d.Stats.Tickets++
	case domain.CounterOpened:
		d.Counters[e.CounterID] = domain.Open
		if d.Lines == nil {
			d.Lines = map[string][]string{}
		}
		d.Lines[e.CounterID] = e.ServiceIDs
	case domain.CounterPaused:
		d.Counters[e.CounterID] = domain.Paused
	case domain.CounterClosed:
		d.Counters[e.CounterID] = domain.Closed
	case domain.TicketCalled:
		err = call(e.TicketID, e.CounterID, e.At, false, 0)
	case domain.TicketRecalled:
		err = call(e.TicketID, e.CounterID, e.At, true, e.Count)
	case domain.ServiceStarted:
		return set(e.TicketID, domain.Serving, nil) // the day's summary is unchanged
	case domain.TicketCompleted:
		err = set(e.TicketID, domain.Done, func(t *TicketView) {
			t.Done = e.At
			clerk(t)
			minutes := e.At.Sub(t.Called).Minutes()
			d.Stats.Served++
			d.Stats.Service.Add(minutes)
			m := d.ServiceMinutes[t.Service]
			m.Add(minutes)
			d.ServiceMinutes[t.Service] = m
		})
	case domain.TicketNoShow:
		if err = set(e.TicketID, domain.Skipped, func(t *TicketView) { t.Missed = e.At }); err == nil {
			d.Stats.NoShows++
		}
	case domain.TicketParked:
		return set(e.TicketID, domain.Parked, nil)
	case domain.TicketResumed:
		return set(e.TicketID, domain.Serving, func(t *TicketView) {
			t.Counter = e.CounterID
			clerk(t)
		})
	case domain.TicketTransferred:
		return set(e.TicketID, domain.Waiting, func(t *TicketView) {
			t.Service, t.Counter, t.Clerk = e.To, "", ""
			t.Transfers++
		})
	case domain.DayClosed:
		for _, id := range e.Cancelled {
			if err = set(id, domain.Dropped, nil); err != nil {
				break
			}
			d.Stats.Cancelled++
		}
		d.Closed = true
	}
	if err != nil {
		return err
	}
	v.Put("days", key, d)
	return nil
}

// Serving lists who is at which counter.
func (d DayView) Serving() map[string]*TicketView {
	out := map[string]*TicketView{}
	for _, t := range d.Tickets {
		if t.State == domain.Called || t.State == domain.Serving {
			out[t.Counter] = t
		}
	}
	return out
}

// CounterNow is a counter as the hall board shows it: open, paused or
// closed, and the number it calls or serves, if any.
type CounterNow struct {
	State  domain.CounterState `json:"state"`
	Number string              `json:"number,omitempty"`
}

// Hall is what the hall board shows besides the calls: each counter of
// the day (those never opened are not in it) and the missed tickets (过号),
// the latest missed first, whose holders may still go to the desk. A
// missed ticket called again leaves the list.
type Hall struct {
	Date     string                `json:"date"`
	Counters map[string]CounterNow `json:"counters"`
	Missed   []string              `json:"missed"`
}

// Hall is the day as the hall board shows it.
func (d DayView) Hall() Hall {
	h := Hall{Date: d.Date, Counters: map[string]CounterNow{}, Missed: []string{}}
	for id, state := range d.Counters {
		h.Counters[id] = CounterNow{State: state}
	}
	for id, t := range d.Serving() {
		c := h.Counters[id]
		if c.State == "" { // a counter the view saw no opening of
			c.State = domain.Open
		}
		c.Number = t.Number
		h.Counters[id] = c
	}
	var missed []*TicketView
	for _, t := range d.Tickets {
		if t.State == domain.Skipped {
			missed = append(missed, t)
		}
	}
	slices.SortFunc(missed, func(a, b *TicketView) int {
		return cmp.Or(b.Missed.Compare(a.Missed), b.Called.Compare(a.Called), b.Seq-a.Seq)
	})
	for _, t := range missed {
		h.Missed = append(h.Missed, t.Number)
	}
	return h
}

// Turnout is how the appointments of a day turned out, at one station for
// one service (the queue view's "turnout" table, keyed
// "{station}/{date}/{service}").
type Turnout struct {
	// Appointments is those booked for the day, less those cancelled in
	// time: the appointments due.
	Appointments int `json:"appointments"`
	// NoShows is those marked no-show, and those cancelled after the
	// cut-off, which count as no-shows.
	NoShows int `json:"appointment_no_shows"`
	Late    int `json:"late_cancellations"` // of the no-shows, those cancelled late
}

// visit is where and when a live appointment is due (the "visits" table):
// what the turnout of its day needs to know when it ends. It leaves the
// table once checked in, missed or cancelled.
type visit struct {
	Station string        `json:"station_id"`
	Service string        `json:"service_id"`
	Date    calendar.Date `json:"date"`
}

func (w visit) key() string { return w.Station + "/" + w.Date.String() + "/" + w.Service }

// turnout counts an appointment's event into the turnout of its day.
func turnout(v *View, r eventstore.Record, e domain.Event) error {
	id, ok := domain.StreamID("appointment", r.Stream)
	if !ok {
		return nil
	}
	bump := func(w visit, f func(*Turnout)) error {
		t, _, err := Get[Turnout](v, "turnout", w.key())
		if err != nil {
			return err
		}
		f(&t)
		v.Put("turnout", w.key(), t)
		return nil
	}
	if b, ok := e.(domain.AppointmentBooked); ok {
		w := visit{b.StationID, b.ServiceID, b.Date}
		v.Put("visits", id, w)
		return bump(w, func(t *Turnout) { t.Appointments++ })
	}
	w, found, err := Get[visit](v, "visits", id)
	if err != nil || !found {
		// Ended, or booked before the view kept visits: nothing to count.
		// (Stopping here would stop the live queue of the hall; a rebuild
		// counts the older ones.)
		return err
	}
	switch e := e.(type) {
	case domain.AppointmentRescheduled:
		if err := bump(w, func(t *Turnout) { t.Appointments-- }); err != nil {
			return err
		}
		w.Date = e.Date
		v.Put("visits", id, w)
		return bump(w, func(t *Turnout) { t.Appointments++ })
	case domain.AppointmentCancelled:
		v.Delete("visits", id)
		if e.Late {
			return bump(w, func(t *Turnout) { t.NoShows++; t.Late++ })
		}
		return bump(w, func(t *Turnout) { t.Appointments-- })
	case domain.AppointmentNoShow:
		v.Delete("visits", id)
		return bump(w, func(t *Turnout) { t.NoShows++ })
	case domain.AppointmentCheckedIn:
		v.Delete("visits", id)
	}
	return nil
}
