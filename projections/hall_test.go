package projections_test

import (
	"reflect"
	"testing"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/projections"
)

// The hall board's view of a day: what each counter serves now, and the
// missed tickets, the latest missed first, until one is called again.
func TestHall(t *testing.T) {
	li := eventstore.Actor{ID: "li.wei", Role: "staff"}
	q := domain.QueueStream("gulou", day("2025-10-13"))
	var log []happened
	g := func(clock string, e domain.Event) { log = append(log, happened{q, li, "2025-10-13 " + clock, e}) }
	for _, id := range []string{"A001", "A002", "A003", "A004", "A005"} {
		g("09:00", domain.TicketIssued{TicketID: id, Number: id, ServiceID: "birth", Priority: domain.Normal, At: at("2025-10-13 09:00")})
	}
	g("09:00", domain.CounterOpened{CounterID: "w1", ServiceIDs: []string{"birth"}})
	g("09:00", domain.CounterOpened{CounterID: "w2", ServiceIDs: []string{"birth"}})
	g("09:00", domain.CounterOpened{CounterID: "w3", ServiceIDs: []string{"birth"}})
	g("09:01", domain.TicketCalled{TicketID: "A001", CounterID: "w1", At: at("2025-10-13 09:01")})
	g("09:02", domain.TicketNoShow{TicketID: "A001", CounterID: "w1", At: at("2025-10-13 09:02")})
	g("09:03", domain.TicketCalled{TicketID: "A002", CounterID: "w1", At: at("2025-10-13 09:03")})
	g("09:04", domain.TicketNoShow{TicketID: "A002", CounterID: "w1", At: at("2025-10-13 09:04")})
	g("09:05", domain.TicketCalled{TicketID: "A003", CounterID: "w2", At: at("2025-10-13 09:05")})
	g("09:06", domain.TicketNoShow{TicketID: "A003", CounterID: "w2", At: at("2025-10-13 09:06")})
	g("09:07", domain.TicketCalled{TicketID: "A004", CounterID: "w1", At: at("2025-10-13 09:07")})
	g("09:08", domain.ServiceStarted{TicketID: "A004", CounterID: "w1", At: at("2025-10-13 09:08")})
	g("09:09", domain.TicketCalled{TicketID: "A002", CounterID: "w2", At: at("2025-10-13 09:09")}) // came back to the desk
	g("09:10", domain.CounterPaused{CounterID: "w3"})

	_, e := given(t, log...)
	d, err := projections.DayOf(ctx, e, "gulou", day("2025-10-13"))
	if err != nil {
		t.Fatal(err)
	}
	want := projections.Hall{
		Date: "2025-10-13",
		Counters: map[string]projections.CounterNow{
			"w1": {State: domain.Open, Number: "A004"},
			"w2": {State: domain.Open, Number: "A002"},
			"w3": {State: domain.Paused},
		},
		Missed: []string{"A003", "A001"},
	}
	if got := d.Hall(); !reflect.DeepEqual(got, want) {
		t.Errorf("hall %+v, want %+v", got, want)
	}
	// A quiet day: no counters, nobody missed, and a list, not null.
	if got := (projections.DayView{Date: "2025-10-14"}).Hall(); got.Missed == nil || len(got.Counters) != 0 {
		t.Errorf("an empty day's hall %+v", got)
	}
}
