package estimate_test

import (
	"slices"
	"testing"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/estimate"
)

// at is 2025-09-15 at hh:mm.
func at(clock string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", "2025-09-15 "+clock)
	if err != nil {
		panic(err)
	}
	return t
}

// day writes a day's events as a station's log keeps them.
type day []estimate.Stamped

func (d *day) open(clock, counter string, services ...string) *day {
	*d = append(*d, estimate.Stamped{At: at(clock), Event: domain.CounterOpened{CounterID: counter, ServiceIDs: services}})
	return d
}

func (d *day) pause(clock, counter string) *day {
	*d = append(*d, estimate.Stamped{At: at(clock), Event: domain.CounterPaused{CounterID: counter}})
	return d
}

func (d *day) issue(clock, ticket, service string, priority domain.Priority) *day {
	seq := 1
	for _, s := range *d {
		if _, ok := s.Event.(domain.TicketIssued); ok {
			seq++
		}
	}
	*d = append(*d, estimate.Stamped{At: at(clock), Event: domain.TicketIssued{TicketID: ticket, Number: "A" + ticket, ServiceID: service, Priority: priority, Seq: seq, At: at(clock)}})
	return d
}

func (d *day) call(clock, ticket, counter string) *day {
	*d = append(*d, estimate.Stamped{At: at(clock), Event: domain.TicketCalled{TicketID: ticket, CounterID: counter, At: at(clock)}})
	return d
}

func (d *day) complete(clock, ticket, counter string) *day {
	*d = append(*d, estimate.Stamped{At: at(clock), Event: domain.TicketCompleted{TicketID: ticket, CounterID: counter, At: at(clock)}})
	return d
}

// morning is one counter's morning: t1 and t2 arrive together, the
// counter serves t1 for 10 minutes and t2 for 6 while t3 arrives; t4
// comes too late to be called.
func morning() day {
	var d day
	d.open("09:00", "w1", "birth").
		issue("09:00", "t1", "birth", domain.Normal). // nobody ahead
		issue("09:01", "t2", "birth", domain.Normal). // t1 ahead, nothing served yet
		call("09:02", "t1", "w1").                    // t1 waited 2 minutes
		complete("09:12", "t1", "w1").                // a birth service takes 10
		issue("09:13", "t3", "birth", domain.Normal). // t2 ahead, the counter free
		call("09:14", "t2", "w1").                    // t2 waited 13
		complete("09:20", "t2", "w1").
		call("09:21", "t3", "w1"). // t3 waited 8
		issue("09:22", "t4", "birth", domain.Normal)
	return d
}

func told(r estimate.Result) map[string][2]float64 {
	out := map[string][2]float64{}
	for _, p := range r.Pairs {
		out[p.TicketID] = [2]float64{float64(p.Told), p.Waited}
	}
	return out
}

func TestReplayPairsEachCalledTicketWithItsWait(t *testing.T) {
	// Given the morning, when the live estimator is replayed on it:
	r := estimate.Replay(morning(), estimate.Live{})
	// then t1 was told 0 and waited 2; t2 one ahead at the default 5
	// minutes, waited 13; t3 one ahead at the 10 minutes observed, waited
	// 8; t4 was never called.
	want := map[string][2]float64{"t1": {0, 2}, "t2": {5, 13}, "t3": {10, 8}}
	if got := told(r); !equal(got, want) || r.Uncalled != 1 {
		t.Fatalf("told and waited %v, %d uncalled; want %v, 1 uncalled", got, r.Uncalled, want)
	}
	// Errors 2, 8 and 2: a mean of 4, the 90th percentile the largest.
	if s := estimate.Summarize(r); s.N != 3 || s.MAE != 4 || s.P90 != 8 || s.Bias != -2.67 || s.Uncalled != 1 {
		t.Errorf("summary %+v, want n 3, MAE 4, p90 8, bias -2.67, 1 uncalled", s)
	}
}

func TestReplayOrdersSeededHistoryByTime(t *testing.T) {
	// Given the morning written as the demo seeds history, every ticket
	// first and the counter's work after:
	var seeded day
	for _, s := range morning() {
		if _, ok := s.Event.(domain.TicketIssued); ok {
			seeded = append(seeded, s)
		}
	}
	for _, s := range morning() {
		if _, ok := s.Event.(domain.TicketIssued); !ok {
			seeded = append(seeded, s)
		}
	}
	// when it is replayed, then each ticket is told what it was told live.
	if got, want := told(estimate.Replay(seeded, estimate.Live{})), told(estimate.Replay(morning(), estimate.Live{})); !equal(got, want) {
		t.Errorf("seeded history told %v, want %v", got, want)
	}
	// An event stamped before its ticket's issue (two requests racing)
	// still comes after it.
	raced := morning()
	raced[3].At = at("08:59") // t1's call
	if r := estimate.Replay(raced, estimate.Live{}); len(r.Pairs) != 3 {
		t.Errorf("raced day: %+v", r)
	}
}

func TestFreeCountsTheCountersFreeWhenTheTicketIsIssued(t *testing.T) {
	// Given the morning, when the free-counter estimator is replayed:
	r := estimate.Replay(morning(), estimate.Free{})
	// then t1 goes to the free counter at once; t2 waits for t1's counter,
	// half a default service (2.5, told 3); t3, with the counter free but
	// t2 taking it, half an observed one (5).
	want := map[string][2]float64{"t1": {0, 2}, "t2": {3, 13}, "t3": {5, 8}}
	if got := told(r); !equal(got, want) {
		t.Errorf("told and waited %v, want %v", got, want)
	}
}

func TestOnlyCountersOpenForTheServiceCount(t *testing.T) {
	// Given two counters, one for permits and one paused, and three birth
	// tickets:
	var d day
	d.open("09:00", "w1", "birth").open("09:00", "w2", "permit").open("09:00", "w3", "birth").pause("09:01", "w3").
		issue("09:02", "t1", "birth", domain.Normal).issue("09:03", "t2", "birth", domain.Normal).issue("09:04", "t3", "birth", domain.Normal).
		call("09:10", "t3", "w1")
	// when the live estimator is replayed, then one counter serves births:
	// t3 has two ahead at 5 minutes each.
	if got := told(estimate.Replay(d, estimate.Live{})); got["t3"][0] != 10 {
		t.Errorf("t3 told %v minutes, want 10 (one birth counter open)", got["t3"][0])
	}
}

func TestAheadFollowsTheCallOrder(t *testing.T) {
	// Given two ordinary tickets waiting, when an elderly resident takes a
	// ticket, then nobody goes before them.
	var d day
	d.open("09:00", "w1", "birth").
		issue("09:01", "t1", "birth", domain.Normal).issue("09:02", "t2", "birth", domain.Normal).
		issue("09:03", "t3", "birth", domain.Elderly).call("09:04", "t3", "w1")
	r := estimate.Replay(d, estimate.Live{})
	if len(r.Pairs) != 1 || r.Pairs[0].Ahead != 0 || r.Pairs[0].Told != 0 || r.Uncalled != 2 {
		t.Errorf("replay %+v, want the elderly ticket with nobody ahead and two uncalled", r)
	}
}

func TestEstimators(t *testing.T) {
	calls := []time.Time{at("09:10"), at("09:20"), at("09:30"), at("09:40"), at("10:20")}
	for _, tc := range []struct {
		name  string
		given estimate.State
		e     estimate.Estimator
		want  float64
	}{
		{"live: none served yet, the default", estimate.State{Ahead: 3, Counters: 1}, estimate.Live{}, 15},
		{"live: the mean over two counters", estimate.State{Ahead: 3, Counters: 2, Mean: 8}, estimate.Live{}, 12},
		{"live: no counter open counts as one", estimate.State{Ahead: 2, Mean: 8}, estimate.Live{}, 16},
		{"free: fewer ahead than counters free", estimate.State{Ahead: 1, Counters: 3, Busy: 1, Mean: 8}, estimate.Free{}, 0},
		{"free: all busy, half a service then one per ticket ahead", estimate.State{Ahead: 2, Counters: 2, Busy: 2, Mean: 8}, estimate.Free{}, 10},
		{"free: one free counter takes the first ahead", estimate.State{Ahead: 2, Counters: 2, Busy: 1, Mean: 8}, estimate.Free{}, 6},
		{"free: no counter open, the first to open is free", estimate.State{Ahead: 0}, estimate.Free{}, 0},
		// Four calls in the 40 minutes since the counters opened: 10 minutes a call.
		{"throughput: since the counters opened", estimate.State{At: at("09:40"), Ahead: 2, Opened: at("09:00"), Calls: calls}, estimate.Throughput{}, 20},
		// In the hour before 10:30: the calls of 09:40 and 10:20, 30 minutes a call.
		{"throughput: the last hour", estimate.State{At: at("10:30"), Ahead: 1, Opened: at("09:00"), Calls: calls}, estimate.Throughput{}, 30},
		{"throughput: no call, live", estimate.State{At: at("12:00"), Ahead: 1, Counters: 1, Mean: 7, Opened: at("09:00"), Calls: calls}, estimate.Throughput{}, 7},
		{"blend: the mean of live and throughput", estimate.State{At: at("10:30"), Ahead: 1, Counters: 1, Mean: 10, Opened: at("09:00"), Calls: calls}, estimate.Blend{}, 20},
	} {
		if got := tc.e.Wait(tc.given); got != tc.want {
			t.Errorf("%s: %v minutes, want %v", tc.name, got, tc.want)
		}
	}
	// Told in whole minutes, halves up.
	if n := estimate.Tell(estimate.Free{}, estimate.State{Ahead: 1}); n != 3 {
		t.Errorf("2.5 minutes told as %d", n)
	}
}

func TestSummarizeAcrossDays(t *testing.T) {
	pairs := func(errs ...float64) estimate.Result {
		var r estimate.Result
		for _, e := range errs {
			r.Pairs = append(r.Pairs, estimate.Pair{Told: 10, Waited: 10 - e})
		}
		return r
	}
	a, b := pairs(1, -2, 3, -4, 5), pairs(6, -7, 8, -9, 10)
	b.Uncalled = 2
	// Ten errors of 1 to 10 minutes: a mean of 5.5; the 9th of ten by rank
	// is the 90th percentile.
	if s := estimate.Summarize(a, b); s.N != 10 || s.MAE != 5.5 || s.P90 != 9 || s.Bias != 1.1 || s.Uncalled != 2 {
		t.Errorf("summary %+v", s)
	}
	if s := estimate.Summarize(); s != (estimate.Summary{}) {
		t.Errorf("nothing replayed: %+v", s)
	}
	if best := estimate.Best(map[string]float64{"live": 4, "free": 3, "blend": 3}); best != "blend" {
		t.Errorf("best %q: want the first of the lowest in All's order", best)
	}
	if !slices.ContainsFunc(estimate.All(), func(n estimate.Named) bool { return n.Name == estimate.InUse().Name }) {
		t.Errorf("the estimator in use, %q, is not back-tested", estimate.InUse().Name)
	}
}

func equal(a, b map[string][2]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
