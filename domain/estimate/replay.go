package estimate

import (
	"math"
	"slices"
	"time"

	"github.com/servicehall/servicehall/domain"
)

// Stamped is one event of a day's queue and when it happened.
type Stamped struct {
	At    time.Time
	Event domain.Event
}

// Pair is one ticket's estimate against the wait that followed.
type Pair struct {
	TicketID string
	Service  string
	Issued   time.Time
	Ahead    int
	Told     int     // minutes
	Waited   float64 // minutes, from issue to the first call
}

// Error is how much longer the ticket was told than it waited (negative:
// it waited longer).
func (p Pair) Error() float64 { return float64(p.Told) - p.Waited }

// Result is a replay: the tickets called, and those never called (left
// out of the pairs).
type Result struct {
	Pairs    []Pair
	Uncalled int
}

// Replay replays one day's queue and pairs, for each ticket called, what e
// would have told it at issue with the wait that followed. It counts what
// the estimator sees as the day's view does for the live estimate: the
// counters open by the lines they were opened for, service from a
// ticket's latest call to its completion.
func Replay(events []Stamped, e Estimator) Result {
	type mean struct {
		n       int
		minutes float64
	}
	var (
		q       domain.Queue
		opened  time.Time
		lines   = map[string][]string{}  // open counter → its services
		called  = map[string]time.Time{} // ticket → its latest call
		served  = map[string]mean{}      // service → time from call to completion
		calls   = map[string][]time.Time{}
		pending = map[string]Pair{} // tickets issued, not called yet
		out     Result
	)
	for _, s := range inOrder(events) {
		switch ev := s.Event.(type) {
		case domain.TicketIssued:
			st := State{At: ev.At, Service: ev.ServiceID, Ahead: q.Ahead(ev.ServiceID, ev.Priority, ev.InSlot), Calls: calls[ev.ServiceID], Opened: opened}
			for id, svcs := range lines {
				if slices.Contains(svcs, ev.ServiceID) {
					st.Counters++
					if k, _ := q.Counter(id); k.Current != "" {
						st.Busy++
					}
				}
			}
			if m := served[ev.ServiceID]; m.n > 0 {
				st.Mean = m.minutes / float64(m.n)
			}
			pending[ev.TicketID] = Pair{TicketID: ev.TicketID, Service: ev.ServiceID, Issued: ev.At, Ahead: st.Ahead, Told: Tell(e, st)}
		case domain.CounterOpened:
			lines[ev.CounterID] = ev.ServiceIDs
			if opened.IsZero() {
				opened = s.At
			}
		case domain.CounterPaused:
			delete(lines, ev.CounterID)
		case domain.CounterClosed:
			delete(lines, ev.CounterID)
		case domain.TicketCalled:
			t, _ := q.Ticket(ev.TicketID)
			called[ev.TicketID] = ev.At
			calls[t.ServiceID] = append(calls[t.ServiceID], ev.At)
			if p, ok := pending[ev.TicketID]; ok {
				p.Waited = ev.At.Sub(p.Issued).Minutes()
				out.Pairs = append(out.Pairs, p)
				delete(pending, ev.TicketID)
			}
		case domain.TicketCompleted:
			t, _ := q.Ticket(ev.TicketID)
			m := served[t.ServiceID]
			served[t.ServiceID] = mean{m.n + 1, m.minutes + ev.At.Sub(called[ev.TicketID]).Minutes()}
		}
		q.Apply(s.Event)
	}
	out.Uncalled = len(pending)
	return out
}

// inOrder sorts a day's events by the time they happened. Written live, a
// stream's order is time order; seeded history (the demo) writes a day's
// tickets first and their calls after. An event never moves before an
// earlier event of its ticket or counter, so that the queue can apply it,
// and ties keep the stream's order.
func inOrder(events []Stamped) []Stamped {
	last := map[string]time.Time{}
	var latest time.Time
	out := make([]Stamped, len(events))
	for i, s := range events {
		at := s.At
		keys := entities(s.Event)
		if _, ok := s.Event.(domain.DayClosed); ok {
			at = later(at, latest)
		}
		for _, k := range keys {
			at = later(at, last[k])
		}
		for _, k := range keys {
			last[k] = at
		}
		latest = later(latest, at)
		out[i] = Stamped{at, s.Event}
	}
	slices.SortStableFunc(out, func(a, b Stamped) int { return a.At.Compare(b.At) })
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// entities names the ticket and the counter an event is about.
func entities(e domain.Event) []string {
	t := func(id string) string { return "ticket " + id }
	c := func(id string) string { return "counter " + id }
	switch e := e.(type) {
	case domain.TicketIssued:
		return []string{t(e.TicketID)}
	case domain.CounterOpened:
		return []string{c(e.CounterID)}
	case domain.CounterPaused:
		return []string{c(e.CounterID)}
	case domain.CounterClosed:
		return []string{c(e.CounterID)}
	case domain.TicketCalled:
		return []string{t(e.TicketID), c(e.CounterID)}
	case domain.TicketRecalled:
		return []string{t(e.TicketID), c(e.CounterID)}
	case domain.ServiceStarted:
		return []string{t(e.TicketID), c(e.CounterID)}
	case domain.TicketCompleted:
		return []string{t(e.TicketID), c(e.CounterID)}
	case domain.TicketNoShow:
		return []string{t(e.TicketID), c(e.CounterID)}
	case domain.TicketParked:
		return []string{t(e.TicketID), c(e.CounterID)}
	case domain.TicketResumed:
		return []string{t(e.TicketID), c(e.CounterID)}
	case domain.TicketTransferred:
		return []string{t(e.TicketID), c(e.CounterID)}
	}
	return nil
}

// Summary is how far the estimates were from the waits.
type Summary struct {
	N        int     `json:"n"`                     // tickets called
	MAE      float64 `json:"mae_minutes"`           // mean absolute error
	P90      float64 `json:"p90_abs_error_minutes"` // 90th percentile of the absolute error
	Bias     float64 `json:"mean_error_minutes"`    // mean of told − waited: > 0 told too long
	Uncalled int     `json:"uncalled"`              // tickets never called, left out
}

// Summarize sums up replays; figures are rounded to hundredths of a minute.
func Summarize(results ...Result) Summary {
	var s Summary
	var abs []float64
	var sum, signed float64
	for _, r := range results {
		s.Uncalled += r.Uncalled
		for _, p := range r.Pairs {
			abs = append(abs, math.Abs(p.Error()))
			sum += math.Abs(p.Error())
			signed += p.Error()
		}
	}
	s.N = len(abs)
	if s.N == 0 {
		return s
	}
	slices.Sort(abs)
	s.MAE = round2(sum / float64(s.N))
	s.Bias = round2(signed / float64(s.N))
	s.P90 = round2(abs[int(math.Ceil(0.9*float64(s.N)))-1]) // nearest rank
	return s
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
