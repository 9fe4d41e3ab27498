package domain

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Priority is a ticket's group: priority groups go before ordinary arrivals.
type Priority string

const (
	Normal   Priority = "normal"
	Elderly  Priority = "elderly"
	Disabled Priority = "disabled"
	Green    Priority = "green" // 绿色通道
)

// TicketState is where a ticket is in its day.
type TicketState string

const (
	Waiting TicketState = "waiting"
	Called  TicketState = "called"
	Serving TicketState = "serving"
	Parked  TicketState = "parked"
	Done    TicketState = "done"
	Skipped TicketState = "no_show"
	Dropped TicketState = "cancelled"
)

// CounterState is whether a counter serves.
type CounterState string

const (
	Open   CounterState = "open"
	Paused CounterState = "paused"
	Closed CounterState = "closed"
)

// Events of a station's day (stream "queue-{station}-{date}").
type (
	TicketIssued struct {
		TicketID      string    `json:"TicketID"`
		Number        string    `json:"Number"`
		ServiceID     string    `json:"ServiceID"`
		Priority      Priority  `json:"Priority"`
		AppointmentID string    `json:"AppointmentID,omitempty"`
		InSlot        bool      `json:"InSlot,omitempty"`
		Seq           int       `json:"Seq"`
		At            time.Time `json:"At"`
	}
	CounterOpened struct {
		CounterID  string   `json:"CounterID"`
		ServiceIDs []string `json:"ServiceIDs"`
	}
	CounterPaused struct {
		CounterID string `json:"CounterID"`
	}
	CounterClosed struct {
		CounterID string `json:"CounterID"`
	}
	TicketCalled struct {
		TicketID  string    `json:"TicketID"`
		CounterID string    `json:"CounterID"`
		At        time.Time `json:"At"`
	}
	TicketRecalled struct {
		TicketID  string    `json:"TicketID"`
		CounterID string    `json:"CounterID"`
		Count     int       `json:"Count"`
		At        time.Time `json:"At"`
	}
	ServiceStarted struct {
		TicketID  string    `json:"TicketID"`
		CounterID string    `json:"CounterID"`
		At        time.Time `json:"At"`
	}
	TicketCompleted struct {
		TicketID  string    `json:"TicketID"`
		CounterID string    `json:"CounterID"`
		At        time.Time `json:"At"`
	}
	TicketNoShow struct {
		TicketID  string    `json:"TicketID"`
		CounterID string    `json:"CounterID"`
		Recalls   int       `json:"Recalls"`
		At        time.Time `json:"At"`
	}
	TicketParked struct {
		TicketID  string    `json:"TicketID"`
		CounterID string    `json:"CounterID"`
		At        time.Time `json:"At"`
	}
	TicketResumed struct {
		TicketID  string    `json:"TicketID"`
		CounterID string    `json:"CounterID"`
		At        time.Time `json:"At"`
	}
	TicketTransferred struct {
		TicketID  string    `json:"TicketID"`
		CounterID string    `json:"CounterID"`
		From      string    `json:"From"`
		To        string    `json:"To"`
		At        time.Time `json:"At"`
	}
	// WalkInsStopped ends walk-in tickets for the rest of the day;
	// checked-in appointments still get theirs.
	WalkInsStopped struct {
		Reason string    `json:"Reason"`
		At     time.Time `json:"At"`
	}
	DayClosed struct {
		Cancelled []string  `json:"Cancelled"`
		Reason    string    `json:"Reason"`
		At        time.Time `json:"At"`
		// The day's figures as the queue saw them when it closed.
		Issued    int `json:"Issued"`
		Completed int `json:"Completed"`
		NoShows   int `json:"NoShows"`
	}
)

// MaxRecalls is how often a called ticket is called again before the
// counter marks it a no-show (the sweep does, if the counter does not).
const MaxRecalls = 2

type Ticket struct {
	TicketIssued
	State    TicketState
	Counter  string
	Recalls  int
	CalledAt time.Time // the last call or recall
}

// SortCallOrder sorts tickets in the order they are called: appointments
// checked in within their slot, then priority groups, then everyone else;
// arrival order within each. key gives a ticket's slot, priority and
// arrival number.
func SortCallOrder[T any](ts []T, key func(T) (inSlot bool, priority Priority, seq int)) {
	slices.SortStableFunc(ts, func(a, b T) int {
		ia, pa, sa := key(a)
		ib, pb, sb := key(b)
		return cmp.Or(callRank(ia, pa)-callRank(ib, pb), sa-sb)
	})
}

// callRank is a ticket's group in the call order.
func callRank(inSlot bool, priority Priority) int {
	switch {
	case inSlot:
		return 0
	case priority != Normal && priority != "":
		return 1
	}
	return 2
}

func (t *Ticket) callKey() (bool, Priority, int) { return t.InSlot, t.Priority, t.Seq }

type QueueCounter struct {
	ID       string
	Services []string
	State    CounterState
	Current  string // the ticket called or being served
}

// Queue is one station's day: tickets and counters.
type Queue struct {
	tickets  map[string]*Ticket
	counters map[string]*QueueCounter
	numbers  map[string]int // last number per prefix
	Seq      int
	Closed   bool
	NoWalkIn string // why walk-ins stopped, if they did
}

// Ticket returns a copy of one of the day's tickets: a decision reads the
// queue, it never changes it.
func (q *Queue) Ticket(id string) (Ticket, bool) {
	t, ok := q.tickets[id]
	if !ok {
		return Ticket{}, false
	}
	return *t, true
}

// Counter returns a copy of a counter's state for the day.
func (q *Queue) Counter(id string) (QueueCounter, bool) {
	k, ok := q.counters[id]
	if !ok {
		return QueueCounter{}, false
	}
	c := *k
	c.Services = slices.Clone(k.Services)
	return c, true
}

// Tickets returns copies of the day's tickets in the order they were issued.
func (q *Queue) Tickets() []Ticket {
	out := make([]Ticket, 0, len(q.tickets))
	for _, t := range q.tickets {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b Ticket) int { return a.Seq - b.Seq })
	return out
}

func (q *Queue) Apply(e Event) {
	if q.tickets == nil {
		q.tickets, q.counters, q.numbers = map[string]*Ticket{}, map[string]*QueueCounter{}, map[string]int{}
	}
	switch e := e.(type) {
	case TicketIssued:
		q.tickets[e.TicketID] = &Ticket{TicketIssued: e, State: Waiting}
		q.Seq = e.Seq
		var n int
		fmt.Sscanf(e.Number[1:], "%d", &n)
		q.numbers[e.Number[:1]] = n
	case CounterOpened:
		q.counters[e.CounterID] = &QueueCounter{ID: e.CounterID, Services: e.ServiceIDs, State: Open, Current: q.current(e.CounterID)}
	case CounterPaused:
		q.counters[e.CounterID].State = Paused
	case CounterClosed:
		q.counters[e.CounterID].State = Closed
	case TicketCalled:
		t := q.tickets[e.TicketID]
		t.State, t.Counter, t.Recalls, t.CalledAt = Called, e.CounterID, 0, e.At
		q.counters[e.CounterID].Current = e.TicketID
	case TicketRecalled:
		t := q.tickets[e.TicketID]
		t.Recalls, t.CalledAt = e.Count, e.At
	case ServiceStarted:
		q.tickets[e.TicketID].State = Serving
	case TicketCompleted:
		q.finish(e.TicketID, e.CounterID, Done)
	case TicketNoShow:
		q.finish(e.TicketID, e.CounterID, Skipped)
	case TicketParked:
		q.finish(e.TicketID, e.CounterID, Parked)
	case TicketResumed:
		t := q.tickets[e.TicketID]
		t.State, t.Counter = Serving, e.CounterID
		q.counters[e.CounterID].Current = e.TicketID
	case TicketTransferred:
		q.finish(e.TicketID, e.CounterID, Waiting)
		t := q.tickets[e.TicketID]
		t.ServiceID, t.Counter = e.To, ""
	case WalkInsStopped:
		q.NoWalkIn = e.Reason
	case DayClosed:
		for _, id := range e.Cancelled {
			q.tickets[id].State = Dropped
		}
		q.Closed = true
	}
}

func (q *Queue) current(counter string) string {
	if c, ok := q.counters[counter]; ok {
		return c.Current
	}
	return ""
}

func (q *Queue) finish(ticket, counter string, state TicketState) {
	q.tickets[ticket].State = state
	if c := q.counters[counter]; c != nil && c.Current == ticket {
		c.Current = ""
	}
}

func (q *Queue) open() error {
	if q.Closed {
		return illegal("the day is closed (今日已结束办理)")
	}
	return nil
}

// Issue gives a ticket for a service: a walk-in or a checked-in appointment.
func (q *Queue) Issue(ticketID, service, prefix string, priority Priority, appointmentID string, inSlot bool, at time.Time) ([]Event, error) {
	if err := q.open(); err != nil {
		return nil, err
	}
	if t, ok := q.tickets[ticketID]; ok {
		if t.ServiceID == service {
			return nil, nil
		}
		return nil, illegal("ticket %s exists", ticketID)
	}
	if appointmentID == "" && q.NoWalkIn != "" {
		return nil, illegal("no more walk-in tickets today: %s (今日现场取号已停止：%s)", q.NoWalkIn, q.NoWalkIn)
	}
	switch priority {
	case "":
		priority = Normal
	case Normal, Elderly, Disabled, Green:
	default:
		return nil, &FieldError{"priority", invalid("normal, elderly, disabled or green (优先类别不正确)")}
	}
	number := fmt.Sprintf("%s%03d", prefix, q.numbers[prefix]+1)
	return []Event{TicketIssued{ticketID, number, service, priority, appointmentID, inSlot, q.Seq + 1, at}}, nil
}

// Waiting lists the waiting tickets in call order; with services given,
// only those of these services.
func (q *Queue) Waiting(services ...string) []Ticket {
	w := q.waiting(services...)
	out := make([]Ticket, len(w))
	for i, t := range w {
		out[i] = *t
	}
	return out
}

// waiting is Waiting on the queue's own tickets, for its decisions.
func (q *Queue) waiting(services ...string) []*Ticket {
	var out []*Ticket
	for _, t := range q.tickets {
		if t.State == Waiting && (len(services) == 0 || slices.Contains(services, t.ServiceID)) {
			out = append(out, t)
		}
	}
	SortCallOrder(out, (*Ticket).callKey)
	return out
}

// Ahead counts the waiting tickets of a service that go before a new
// ticket with this priority, in its slot or not.
func (q *Queue) Ahead(service string, priority Priority, inSlot bool) int {
	n := 0
	for _, t := range q.waiting(service) {
		if callRank(t.InSlot, t.Priority) <= callRank(inSlot, priority) {
			n++
		}
	}
	return n
}

// Position is how many tickets of the same service go before this one.
func (q *Queue) Position(ticketID string) int {
	t, ok := q.tickets[ticketID]
	if !ok || t.State != Waiting {
		return 0
	}
	for i, w := range q.waiting(t.ServiceID) {
		if w.TicketID == ticketID {
			return i
		}
	}
	return 0
}

// StopWalkIns stops walk-in tickets for the rest of the day; stopping them
// again changes nothing.
func (q *Queue) StopWalkIns(reason string, at time.Time) ([]Event, error) {
	if err := q.open(); err != nil {
		return nil, err
	}
	if q.NoWalkIn != "" {
		return nil, nil
	}
	if err := CheckReason(reason); err != nil {
		return nil, err
	}
	return []Event{WalkInsStopped{reason, at}}, nil
}

// OpenCounter opens (or reopens) a counter for some of the service lines
// it is configured for.
func (q *Queue) OpenCounter(counter string, services, configured []string) ([]Event, error) {
	if err := q.open(); err != nil {
		return nil, err
	}
	if len(services) == 0 {
		return nil, &FieldError{"service_ids", invalid("at least one service (至少一项业务)")}
	}
	for _, s := range services {
		if !slices.Contains(configured, s) {
			return nil, &FieldError{"service_ids", invalid("counter %s is not configured for %s, only for %v (该窗口未配置业务 %s)", counter, s, configured, s)}
		}
	}
	if c, ok := q.counters[counter]; ok && c.State == Open && slices.Equal(c.Services, services) {
		return nil, nil
	}
	return []Event{CounterOpened{counter, services}}, nil
}

func (q *Queue) counter(id string) (*QueueCounter, error) {
	c, ok := q.counters[id]
	if !ok || c.State == Closed {
		return nil, illegal("counter %s is not open (窗口未开启)", id)
	}
	return c, nil
}

// free returns a counter that may take a ticket.
func (q *Queue) free(id string) (*QueueCounter, error) {
	if err := q.open(); err != nil {
		return nil, err
	}
	c, err := q.counter(id)
	if err != nil {
		return nil, err
	}
	if c.State == Paused {
		return nil, illegal("counter %s is paused (窗口已暂停)", id)
	}
	if c.Current != "" {
		return nil, illegal("counter %s is still on ticket %s (请先办结当前号)", id, q.tickets[c.Current].Number)
	}
	return c, nil
}

// busy returns a counter's current ticket.
func (q *Queue) busy(id string) (*QueueCounter, *Ticket, error) {
	c, err := q.counter(id)
	if err != nil {
		return nil, nil, err
	}
	if c.Current == "" {
		return nil, nil, illegal("counter %s has no current ticket (当前无叫号)", id)
	}
	return c, q.tickets[c.Current], nil
}

// CallNext calls the first waiting ticket the counter serves; none waiting
// is no events and no error.
func (q *Queue) CallNext(counter string, at time.Time) ([]Event, error) {
	c, err := q.free(counter)
	if err != nil {
		return nil, err
	}
	w := q.waiting(c.Services...)
	if len(w) == 0 {
		return nil, nil
	}
	return []Event{TicketCalled{w[0].TicketID, counter, at}}, nil
}

// Call calls a given number out of turn, if it is waiting.
func (q *Queue) Call(counter, number string, at time.Time) ([]Event, error) {
	if _, err := q.free(counter); err != nil {
		return nil, err
	}
	for _, t := range q.tickets {
		if t.Number == number {
			if t.State != Waiting {
				return nil, illegal("ticket %s is %s (该号状态为 %s)", number, t.State, t.State)
			}
			return []Event{TicketCalled{t.TicketID, counter, at}}, nil
		}
	}
	return nil, fmt.Errorf("%w: ticket %s (无此号)", ErrNotFound, number)
}

// Recall calls the current ticket again, up to max times.
func (q *Queue) Recall(counter string, max int, at time.Time) ([]Event, error) {
	_, t, err := q.busy(counter)
	if err != nil {
		return nil, err
	}
	if t.State != Called {
		return nil, illegal("ticket %s is being served (该号已在办理)", t.Number)
	}
	if t.Recalls >= max {
		return nil, illegal("ticket %s was recalled %d times; mark it a no-show (已重呼%d次，请标记过号)", t.Number, max, max)
	}
	return []Event{TicketRecalled{t.TicketID, counter, t.Recalls + 1, at}}, nil
}

// Start records that the resident came to the counter.
func (q *Queue) Start(counter string, at time.Time) ([]Event, error) {
	_, t, err := q.busy(counter)
	if err != nil {
		return nil, err
	}
	if t.State == Serving {
		return nil, nil
	}
	return []Event{ServiceStarted{t.TicketID, counter, at}}, nil
}

func (q *Queue) Complete(counter string, at time.Time) ([]Event, error) {
	_, t, err := q.busy(counter)
	if err != nil {
		return nil, err
	}
	return []Event{TicketCompleted{t.TicketID, counter, at}}, nil
}

// NoShow skips a called ticket whose resident did not come.
func (q *Queue) NoShow(counter string, at time.Time) ([]Event, error) {
	_, t, err := q.busy(counter)
	if err != nil {
		return nil, err
	}
	if t.State != Called {
		return nil, illegal("ticket %s is being served (该号已在办理)", t.Number)
	}
	return []Event{TicketNoShow{t.TicketID, counter, t.Recalls, at}}, nil
}

// Park sets the current ticket aside while the resident fetches a document.
func (q *Queue) Park(counter string, at time.Time) ([]Event, error) {
	_, t, err := q.busy(counter)
	if err != nil {
		return nil, err
	}
	return []Event{TicketParked{t.TicketID, counter, at}}, nil
}

// Resume takes a parked ticket back at a free counter.
func (q *Queue) Resume(counter, ticketID string, at time.Time) ([]Event, error) {
	if _, err := q.free(counter); err != nil {
		return nil, err
	}
	t, ok := q.tickets[ticketID]
	if !ok {
		return nil, fmt.Errorf("%w: ticket (无此号)", ErrNotFound)
	}
	if t.State != Parked {
		return nil, illegal("ticket %s is not parked (该号未暂挂)", t.Number)
	}
	return []Event{TicketResumed{ticketID, counter, at}}, nil
}

// Transfer sends the current ticket to another service line's queue, where
// it keeps its place by arrival.
func (q *Queue) Transfer(counter, service string, at time.Time) ([]Event, error) {
	_, t, err := q.busy(counter)
	if err != nil {
		return nil, err
	}
	if t.ServiceID == service {
		return nil, illegal("ticket %s is already for %s (已是该业务)", t.Number, service)
	}
	return []Event{TicketTransferred{t.TicketID, counter, t.ServiceID, service, at}}, nil
}

func (q *Queue) Pause(counter string) ([]Event, error) {
	c, err := q.counter(counter)
	if err != nil {
		return nil, err
	}
	if c.State == Paused {
		return nil, nil
	}
	if c.Current != "" {
		return nil, illegal("finish ticket %s first (请先办结当前号)", q.tickets[c.Current].Number)
	}
	return []Event{CounterPaused{counter}}, nil
}

func (q *Queue) CloseCounter(counter string) ([]Event, error) {
	c, ok := q.counters[counter]
	if !ok || c.State == Closed {
		return nil, nil
	}
	if c.Current != "" {
		return nil, illegal("finish ticket %s first (请先办结当前号)", q.tickets[c.Current].Number)
	}
	return []Event{CounterClosed{counter}}, nil
}

// CloseDay ends the day: tickets still waiting or parked are cancelled with
// the reason, never dropped silently.
func (q *Queue) CloseDay(reason string, at time.Time) ([]Event, error) {
	if q.Closed {
		return nil, nil
	}
	var cancelled []string
	for _, t := range q.waiting() {
		cancelled = append(cancelled, t.TicketID)
	}
	for _, t := range q.tickets {
		if t.State == Parked || t.State == Called || t.State == Serving {
			cancelled = append(cancelled, t.TicketID)
		}
	}
	slices.Sort(cancelled)
	closed := DayClosed{Cancelled: cancelled, Reason: reason, At: at}
	for _, t := range q.tickets {
		closed.Issued++
		switch t.State {
		case Done:
			closed.Completed++
		case Skipped:
			closed.NoShows++
		}
	}
	return []Event{closed}, nil
}

// Abandoned lists the counters whose called ticket was recalls times
// recalled and nobody came within wait of the last call: the no-show sweep
// closes them, so a counter is not held by someone who left.
func (q *Queue) Abandoned(recalls int, wait time.Duration, now time.Time) []string {
	var out []string
	for id, c := range q.counters {
		t := q.tickets[c.Current]
		if t != nil && t.State == Called && t.Recalls >= recalls && !now.Before(t.CalledAt.Add(wait)) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func init() {
	register(map[string]Event{
		"TicketIssued":      TicketIssued{},
		"CounterOpened":     CounterOpened{},
		"CounterPaused":     CounterPaused{},
		"CounterClosed":     CounterClosed{},
		"TicketCalled":      TicketCalled{},
		"TicketRecalled":    TicketRecalled{},
		"ServiceStarted":    ServiceStarted{},
		"TicketCompleted":   TicketCompleted{},
		"TicketNoShow":      TicketNoShow{},
		"TicketParked":      TicketParked{},
		"TicketResumed":     TicketResumed{},
		"TicketTransferred": TicketTransferred{},
		"DayClosed":         DayClosed{},
		"WalkInsStopped":    WalkInsStopped{},
	})
}
