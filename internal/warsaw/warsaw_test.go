package warsaw_test

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/internal/warsaw"
)

// The days rebuilt call, hour by hour, the tickets the offices recorded
// calling, with the counters they recorded open, each ticket after it was
// issued; a queue's people waiting at the end of an hour are at least the
// hour's mean queue length, rounded.
func TestRebuiltDaysKeepTheRecordedHours(t *testing.T) {
	hours, err := warsaw.Hours()
	if err != nil {
		t.Fatal(err)
	}
	if len(hours) != 6666 {
		t.Fatalf("%d rows, want 6666", len(hours))
	}
	days, err := warsaw.Days(1)
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]int{} // office/date → tickets called
	total := 0
	for _, h := range hours {
		served[h.Office+"/"+h.Date] += h.Served
		total += h.Served
	}
	withService := 0
	for _, n := range served {
		if n > 0 {
			withService++
		}
	}
	if len(days) != withService {
		t.Errorf("%d days rebuilt, want the %d office days that served anyone", len(days), withService)
	}
	type queue struct {
		issued, called []time.Time
		opened, closed []time.Time
	}
	calls, tickets := 0, 0
	byDay := map[string]warsaw.Day{}
	for _, d := range days {
		byDay[d.Office+"/"+d.Date] = d
	}
	queues := map[string]*queue{} // office/date/queue name
	for _, d := range days {
		issued := map[string]bool{}
		of := func(id string) *queue { // a ticket's or counter's queue: "q2-0001", "q2-1"
			k := d.Office + "/" + d.Date + "/" + d.Services[id[:strings.IndexByte(id, '-')]]
			if queues[k] == nil {
				queues[k] = &queue{}
			}
			return queues[k]
		}
		for _, s := range d.Events {
			switch e := s.Event.(type) {
			case domain.TicketIssued:
				issued[e.TicketID] = true
				of(e.TicketID).issued = append(of(e.TicketID).issued, e.At)
				tickets++
			case domain.TicketCalled:
				if !issued[e.TicketID] || !s.At.Equal(e.At) {
					t.Fatalf("%s %s: %s called before it was issued", d.Office, d.Date, e.TicketID)
				}
				of(e.TicketID).called = append(of(e.TicketID).called, e.At)
				calls++
			case domain.CounterOpened:
				of(e.CounterID).opened = append(of(e.CounterID).opened, s.At)
			case domain.CounterClosed:
				of(e.CounterID).closed = append(of(e.CounterID).closed, s.At)
			}
		}
	}
	before := func(ts []time.Time, t time.Time) int {
		n := 0
		for _, x := range ts {
			if x.Before(t) {
				n++
			}
		}
		return n
	}
	for _, h := range hours {
		if _, ok := byDay[h.Office+"/"+h.Date]; !ok {
			continue
		}
		q := queues[h.Office+"/"+h.Date+"/"+h.Queue]
		if q == nil {
			t.Fatalf("%s %s %s not rebuilt", h.Office, h.Date, h.Queue)
		}
		day, _ := time.Parse(time.DateOnly, h.Date)
		start, end := day.Add(time.Duration(h.Hour)*time.Hour), day.Add(time.Duration(h.Hour+1)*time.Hour)
		if n := before(q.called, end) - before(q.called, start); n != h.Served {
			t.Errorf("%s %s %s %d:00: %d called, %d recorded", h.Office, h.Date, h.Queue, h.Hour, n, h.Served)
		}
		want := int(math.Round(h.Counters))
		if h.Served > 0 {
			want = max(want, 1)
		}
		if n := before(q.opened, start.Add(time.Nanosecond)) - before(q.closed, start.Add(time.Nanosecond)); n != want {
			t.Errorf("%s %s %s %d:00: %d counters open, recorded %.2f", h.Office, h.Date, h.Queue, h.Hour, n, h.Counters)
		}
		if n := before(q.issued, end) - before(q.called, end); n < int(math.Round(h.QueueMean)) {
			t.Errorf("%s %s %s %d:00: %d waiting at the end of the hour, recorded a mean of %.2f", h.Office, h.Date, h.Queue, h.Hour, n, h.QueueMean)
		}
	}
	if calls != total || tickets < calls {
		t.Errorf("%d calls of %d tickets, recorded %d calls", calls, tickets, total)
	}
	t.Logf("%d days, %d tickets, %d called", len(days), tickets, calls)
	// The same seed, the same days.
	again, _ := warsaw.Days(1)
	if !reflect.DeepEqual(days[:3], again[:3]) {
		t.Error("two rebuilds with one seed differ")
	}
}
