// Package estimate tells a new ticket how long it will wait, and back-tests
// that promise: it replays a day's queue, asks an estimator at each ticket
// issued what that ticket would have been told, and pairs it with the wait
// that followed (issue to first call). Like domain, it is pure.
package estimate

import (
	"math"
	"time"
)

// Default is the service time, in minutes, assumed for a service before
// one of its tickets has been served that day.
const Default = 5.0

// State is what an estimate may know when a ticket is issued: the queue as
// it stood just before. The live view and the replay both fill it.
type State struct {
	At       time.Time
	Service  string
	Ahead    int     // tickets of the service before the new one in the call order
	Counters int     // counters open for the service
	Busy     int     // of those, the ones on a ticket (called or serving)
	Mean     float64 // mean minutes from call to completion of the service today; 0 before any
	// Calls are the service's calls today (first calls, not recalls),
	// oldest first: at least those within the last Window.
	Calls  []time.Time
	Opened time.Time // when the day's first counter opened
}

// mean is the service's mean minutes, Default before any was observed.
func (s State) mean() float64 {
	if s.Mean == 0 {
		return Default
	}
	return s.Mean
}

// Estimator is one way of telling the wait, in minutes.
type Estimator interface {
	Wait(State) float64
}

// Tell is the wait a ticket is told: whole minutes, as the API answers.
func Tell(e Estimator, s State) int {
	return int(math.Floor(e.Wait(s) + 0.5))
}

// Live is the estimate the hall gave first: the tickets ahead, served at
// the service's mean observed time (Default before any), spread over the
// counters open for it (one at least).
type Live struct{}

func (Live) Wait(s State) float64 {
	return float64(s.Ahead) * s.mean() / float64(max(1, s.Counters))
}

// Free is Live that counts the counters free now. A ticket with fewer
// tickets ahead than free counters is called at once; any other waits for
// a busy counter to finish (half a service on average, the counters
// sharing the wait) and then a service, spread over the counters, for
// each ticket ahead that no free counter takes. With no counter open, the
// first to open counts as free.
type Free struct{}

func (Free) Wait(s State) float64 {
	c := max(1, s.Counters)
	free := c - min(s.Busy, c)
	if s.Ahead < free {
		return 0
	}
	return (float64(s.Ahead-free) + 0.5) * s.mean() / float64(c)
}

// Window is how far back Throughput counts calls.
const Window = time.Hour

// Throughput serves the tickets ahead at the rate the service's tickets
// were called in the last Window (or since the first counter opened, if
// that is shorter). It sees what the counters really did, lines shared
// and pauses included; with no call in the window it falls back to Live.
type Throughput struct{}

func (Throughput) Wait(s State) float64 {
	perCall, ok := s.perCall()
	if !ok {
		return Live{}.Wait(s)
	}
	return float64(s.Ahead) * perCall
}

// perCall is the minutes between calls of the service lately, and whether
// there were any calls to tell it by.
func (s State) perCall() (float64, bool) {
	from, span := s.At.Add(-Window), Window
	if s.Opened.After(from) {
		from, span = s.Opened, s.At.Sub(s.Opened)
	}
	n := 0
	for _, c := range s.Calls {
		if c.After(from) && !c.After(s.At) {
			n++
		}
	}
	if n == 0 || span <= 0 {
		return 0, false
	}
	return span.Minutes() / float64(n), true
}

// Blend is the mean of Live and Throughput, which err on opposite sides: a
// quiet hour makes calls look slow, a line shared with other services
// makes its counters look free.
type Blend struct{}

func (Blend) Wait(s State) float64 {
	return (Live{}.Wait(s) + Throughput{}.Wait(s)) / 2
}

// Named is an estimator with the name reports give it.
type Named struct {
	Name string
	Estimator
}

// All are the estimators the back-test compares, the first one first.
func All() []Named {
	return []Named{{"live", Live{}}, {"throughput", Throughput{}}, {"blend", Blend{}}, {"free", Free{}}}
}

// InUse is the estimator the hall tells new tickets by: the back-test's
// winner (servicehall bench estimates). The day's view keeps what it
// reads; Throughput's call times it does not keep.
func InUse() Named { return Named{"free", Free{}} }

// Best is the name in maes with the lowest mean absolute error, ties going
// to the first in All's order.
func Best(maes map[string]float64) string {
	best := ""
	for _, n := range All() {
		if v, ok := maes[n.Name]; ok && (best == "" || v < maes[best]) {
			best = n.Name
		}
	}
	return best
}
