// Package warsaw rebuilds service-hall days ticket by ticket from the
// hourly queue figures of Warsaw's district offices (SOURCES.md): a
// recorded hall's traffic, for back-testing the wait estimates.
package warsaw

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/estimate"
)

//go:embed warsaw_queues_id_residence_passport_hourly.csv
var data string

// Hour is one row of the data: a queue's figures for an hour of a day.
type Hour struct {
	Office    string
	Category  string
	Queue     string // nazwaGrupy: the queue's name at its office
	Date      string
	Hour      int
	Snapshots int
	Served    int     // tickets called
	QueueMean float64 // people waiting, mean of the hour's snapshots
	Counters  float64 // counters open, mean of the hour's snapshots
}

// Hours reads the data.
func Hours() ([]Hour, error) {
	r := csv.NewReader(strings.NewReader(data))
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("warsaw data: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, want := range []string{"name", "category", "nazwaGrupy", "date", "hour", "snapshots", "served", "queue_len_mean", "counters_open_mean"} {
		if _, ok := col[want]; !ok {
			return nil, fmt.Errorf("warsaw data: no column %q", want)
		}
	}
	var out []Hour
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("warsaw data: %w", err)
		}
		h := Hour{Office: rec[col["name"]], Category: rec[col["category"]], Queue: rec[col["nazwaGrupy"]], Date: rec[col["date"]]}
		var errs [5]error
		h.Hour, errs[0] = strconv.Atoi(rec[col["hour"]])
		h.Snapshots, errs[1] = strconv.Atoi(rec[col["snapshots"]])
		h.Served, errs[2] = strconv.Atoi(rec[col["served"]])
		h.QueueMean, errs[3] = strconv.ParseFloat(rec[col["queue_len_mean"]], 64)
		h.Counters, errs[4] = strconv.ParseFloat(rec[col["counters_open_mean"]], 64)
		for _, err := range errs {
			if err != nil {
				return nil, fmt.Errorf("warsaw data line %d: %w", line, err)
			}
		}
		out = append(out, h)
	}
}

// Day is one office's day rebuilt: its queue's events, each queue a
// service line of its own with counters of its own.
type Day struct {
	Office   string
	Date     string
	Services map[string]string // service id → the queue's name
	Events   []estimate.Stamped
}

// Days rebuilds every office's day on which something was served, the same
// for the same seed.
func Days(seed uint64) ([]Day, error) {
	hours, err := Hours()
	if err != nil {
		return nil, err
	}
	type key struct{ office, date string }
	byDay := map[key][]Hour{}
	for _, h := range hours {
		byDay[key{h.Office, h.Date}] = append(byDay[key{h.Office, h.Date}], h)
	}
	keys := make([]key, 0, len(byDay))
	for k := range byDay {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int { return strings.Compare(a.office+a.date, b.office+b.date) })
	var out []Day
	for _, k := range keys {
		if d, ok := rebuild(k.office, k.date, byDay[k], seed); ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// rebuild makes one office's day: each queue in turn, then all its events
// in time order, numbered in the order of arrival.
func rebuild(office, date string, hours []Hour, seed uint64) (Day, bool) {
	day := Day{Office: office, Date: date, Services: map[string]string{}}
	var queues []string
	for _, h := range hours {
		if !slices.Contains(queues, h.Queue) {
			queues = append(queues, h.Queue)
		}
	}
	slices.Sort(queues)
	served := 0
	for i, name := range queues {
		var mine []Hour
		for _, h := range hours {
			if h.Queue == name {
				mine = append(mine, h)
				served += h.Served
			}
		}
		id := fmt.Sprintf("q%d", i+1)
		day.Services[id] = name
		f := fnv.New64a()
		f.Write([]byte(office + "/" + date + "/" + name))
		day.Events = append(day.Events, simulate(id, string(rune('A'+i)), date, mine, rand.New(rand.NewPCG(seed, f.Sum64())))...)
	}
	if served == 0 {
		return Day{}, false
	}
	slices.SortStableFunc(day.Events, func(a, b estimate.Stamped) int { return a.At.Compare(b.At) })
	seq := 0
	for i, s := range day.Events {
		if t, ok := s.Event.(domain.TicketIssued); ok {
			seq++
			t.Seq = seq
			day.Events[i].Event = t
		}
	}
	return day, true
}

// simulate plays one queue's day. The people waiting at the end of an hour
// are that hour's mean queue length, so arrivals in an hour are its calls
// plus the change of that length, spread at random over the hour. The
// counters open in an hour are its mean rounded (one at least when it
// served anyone); the hour's recorded calls are shared among them and
// planned over the hour at uneven gaps. Tickets are called first come
// first served, each by the counter planned for the call: as soon as that
// counter is free and the ticket waits, at the latest at the planned time
// (cutting a long service short), never before the hour, so that every
// hour keeps its recorded calls. A service lasts the hour's counters × 60
// minutes / calls, give or take half.
func simulate(service, prefix, date string, hours []Hour, rng *rand.Rand) []estimate.Stamped {
	slices.SortFunc(hours, func(a, b Hour) int { return a.Hour - b.Hour })
	first, last := hours[0].Hour, hours[len(hours)-1].Hour
	byHour := map[int]Hour{}
	for _, h := range hours {
		byHour[h.Hour] = h
	}
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return nil
	}
	at := func(hour int, frac float64) time.Time {
		return d.Add(time.Duration((float64(hour) + frac) * float64(time.Hour))).Truncate(time.Second)
	}
	var (
		out       []estimate.Stamped
		arrivals  []time.Time
		calls     []call
		arrived   int // tickets issued so far
		calledCum int // calls so far
		queue     float64
		open      int // counters open
	)
	emit := func(t time.Time, e domain.Event) { out = append(out, estimate.Stamped{At: t, Event: e}) }
	counter := func(j int) string { return fmt.Sprintf("%s-%d", service, j+1) }
	for hour := first; hour <= last; hour++ {
		h, ok := byHour[hour]
		if ok {
			queue = h.QueueMean
		} else {
			h = Hour{Hour: hour} // no snapshot: nobody served, nobody counted
		}
		calledCum += h.Served
		// Arrivals: enough to keep everyone called so far, and the hour's
		// queue waiting at its end.
		target := max(arrived, calledCum, int(math.Round(float64(calledCum)+queue)))
		var fresh []time.Time
		for range target - arrived {
			fresh = append(fresh, at(hour, rng.Float64()))
		}
		slices.SortFunc(fresh, time.Time.Compare)
		arrivals = append(arrivals, fresh...)
		arrived = target
		// Counters.
		counters := int(math.Round(h.Counters))
		if h.Served > 0 {
			counters = max(counters, 1)
		}
		for j := open; j < counters; j++ {
			emit(at(hour, 0), domain.CounterOpened{CounterID: counter(j), ServiceIDs: []string{service}})
		}
		for j := counters; j < open; j++ {
			calls = append(calls, call{at: at(hour, 0), counter: j, close: true})
		}
		open = counters
		// Calls: the hour's served, shared among the counters.
		var hourCalls []call
		for j := range counters {
			n := h.Served / counters
			if (j+hour)%counters < h.Served%counters {
				n++
			}
			if n == 0 {
				continue
			}
			gaps := make([]float64, n+1)
			total := 0.0
			for i := range gaps {
				gaps[i] = 0.5 + rng.Float64()
				total += gaps[i]
			}
			sum := 0.0
			for i := range n {
				sum += gaps[i]
				hourCalls = append(hourCalls, call{at: at(hour, sum/total), hour: at(hour, 0), counter: j, mean: time.Duration(float64(counters) / float64(h.Served) * float64(time.Hour))})
			}
		}
		slices.SortStableFunc(hourCalls, func(a, b call) int { return a.at.Compare(b.at) })
		calls = append(calls, hourCalls...)
	}
	for j := range open {
		calls = append(calls, call{at: at(last+1, 0), counter: j, close: true})
	}
	// First come first served: the k-th call takes the k-th ticket.
	issued := make([]string, len(arrivals))
	for i, a := range arrivals {
		issued[i] = fmt.Sprintf("%s-%04d", service, i+1)
		emit(a, domain.TicketIssued{TicketID: issued[i], Number: fmt.Sprintf("%s%03d", prefix, i+1), ServiceID: service, Priority: domain.Normal, At: a})
	}
	k := 0
	var prev time.Time
	current := map[int]*call{} // counter → its ticket in service
	finish := func(j int, by time.Time) {
		c := current[j]
		if c == nil {
			return
		}
		end := c.at.Add(c.service)
		if by.Before(end) {
			end = by
		}
		emit(end, domain.TicketCompleted{TicketID: c.ticket, CounterID: counter(c.counter), At: end})
		delete(current, j)
	}
	for i := range calls {
		c := &calls[i]
		if c.close {
			finish(c.counter, c.at)
			emit(later(c.at, prev), domain.CounterClosed{CounterID: counter(c.counter)})
			continue
		}
		ready := c.at
		if busy := current[c.counter]; busy == nil {
			ready = c.hour
		} else if free := busy.at.Add(busy.service); free.Before(ready) {
			ready = free
		}
		c.at = later(later(later(ready, c.hour), arrivals[k]), prev)
		c.ticket = issued[k]
		c.service = time.Duration((0.5 + rng.Float64()) * float64(c.mean)).Truncate(time.Second)
		finish(c.counter, c.at)
		emit(c.at, domain.TicketCalled{TicketID: c.ticket, CounterID: counter(c.counter), At: c.at})
		current[c.counter] = c
		prev = c.at
		k++
	}
	return out
}

// call is a counter's call (or, with close, its closing) in the day's plan.
type call struct {
	at      time.Time
	hour    time.Time // the start of the hour it belongs to
	counter int
	mean    time.Duration // the hour's service time: counters × 60 min / calls
	service time.Duration // the ticket's
	ticket  string
	close   bool
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
