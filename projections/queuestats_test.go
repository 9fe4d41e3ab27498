package projections_test

import (
	"testing"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/projections"
)

// Two days at gulou and one at xicheng, ticket by ticket, with the
// appointments of those days.
func queueLog() []happened {
	li := eventstore.Actor{ID: "li.wei", Role: "staff"}
	wang := eventstore.Actor{ID: "wang.fang", Role: "staff"}
	zhou := eventstore.Actor{ID: "zhou.xc", Role: "staff"}
	sweep := eventstore.Actor{ID: "system:job-sweep-no-shows", Role: domain.RoleSystem}
	var out []happened
	on := func(station, date string) func(who eventstore.Actor, clock string, e domain.Event) {
		q := domain.QueueStream(station, day(date))
		return func(who eventstore.Actor, clock string, e domain.Event) {
			out = append(out, happened{q, who, date + " " + clock, e})
		}
	}
	issue := func(id, service, when string) domain.Event {
		return domain.TicketIssued{TicketID: id, Number: id, ServiceID: service, Priority: domain.Normal, At: at(when)}
	}
	g := on("gulou", "2025-10-13")
	g(li, "09:00", issue("t1", "birth", "2025-10-13 09:00"))
	g(li, "09:00", issue("t2", "birth", "2025-10-13 09:00"))
	g(li, "09:00", issue("t3", "birth", "2025-10-13 09:00"))
	g(li, "09:02", domain.TicketCalled{TicketID: "t1", CounterID: "w1", At: at("2025-10-13 09:02")}) // waited 2
	g(li, "09:10", issue("t4", "birth", "2025-10-13 09:10"))
	g(li, "09:10", issue("t5", "birth", "2025-10-13 09:10"))
	g(li, "09:12", domain.TicketCompleted{TicketID: "t1", CounterID: "w1", At: at("2025-10-13 09:12")}) // served 10
	g(li, "09:12", domain.TicketCalled{TicketID: "t2", CounterID: "w1", At: at("2025-10-13 09:12")})    // waited 12
	g(li, "09:13", domain.TicketRecalled{TicketID: "t2", CounterID: "w1", Count: 1, At: at("2025-10-13 09:13")})
	g(sweep, "09:15", domain.TicketNoShow{TicketID: "t2", CounterID: "w1", At: at("2025-10-13 09:15")})
	g(wang, "09:15", domain.TicketCalled{TicketID: "t3", CounterID: "w2", At: at("2025-10-13 09:15")}) // waited 15
	g(li, "09:20", issue("t6", "permit", "2025-10-13 09:20"))
	g(wang, "09:35", domain.TicketCompleted{TicketID: "t3", CounterID: "w2", At: at("2025-10-13 09:35")}) // served 20
	g(li, "09:36", domain.TicketCalled{TicketID: "t4", CounterID: "w1", At: at("2025-10-13 09:36")})      // waited 26
	g(li, "09:40", domain.TicketTransferred{TicketID: "t4", CounterID: "w1", From: "birth", To: "permit", At: at("2025-10-13 09:40")})
	g(li, "09:41", domain.TicketCalled{TicketID: "t6", CounterID: "w1", At: at("2025-10-13 09:41")})    // waited 21
	g(li, "09:46", domain.TicketCompleted{TicketID: "t6", CounterID: "w1", At: at("2025-10-13 09:46")}) // served 5
	g(wang, "09:50", domain.TicketCalled{TicketID: "t4", CounterID: "w2", At: at("2025-10-13 09:50")})
	g(wang, "10:00", domain.TicketCompleted{TicketID: "t4", CounterID: "w2", At: at("2025-10-13 10:00")}) // served 10
	g(li, "17:00", domain.DayClosed{Cancelled: []string{"t5"}, At: at("2025-10-13 17:00")})
	g = on("gulou", "2025-10-14")
	g(li, "09:00", issue("t7", "birth", "2025-10-14 09:00"))
	g(li, "09:04", domain.TicketCalled{TicketID: "t7", CounterID: "w1", At: at("2025-10-14 09:04")})    // waited 4
	g(li, "09:10", domain.TicketCompleted{TicketID: "t7", CounterID: "w1", At: at("2025-10-14 09:10")}) // served 6
	x := on("xicheng", "2025-10-13")
	x(zhou, "09:00", issue("x1", "birth", "2025-10-13 09:00"))
	x(zhou, "09:01", domain.TicketCalled{TicketID: "x1", CounterID: "w1", At: at("2025-10-13 09:01")})
	x(zhou, "09:03", domain.TicketCompleted{TicketID: "x1", CounterID: "w1", At: at("2025-10-13 09:03")})

	resident := eventstore.Actor{ID: "r-1", Role: domain.RoleResident}
	book := func(id, service, date string, then ...domain.Event) {
		s := domain.AppointmentStream(id)
		out = append(out, happened{s, resident, "2025-10-10 10:00", domain.AppointmentBooked{ID: id, StationID: "gulou", ServiceID: service, Date: day(date)}})
		for _, e := range then {
			out = append(out, happened{s, resident, "2025-10-12 10:00", e})
		}
	}
	book("ap1", "birth", "2025-10-13", domain.AppointmentCheckedIn{TicketID: "t1"})
	book("ap2", "birth", "2025-10-13", domain.AppointmentNoShow{})
	book("ap3", "birth", "2025-10-13", domain.AppointmentCancelled{Reason: "plans changed"})
	book("ap4", "permit", "2025-10-13", domain.AppointmentCancelled{Reason: "too late", Late: true})
	book("ap5", "birth", "2025-10-12", domain.AppointmentRescheduled{FromDate: day("2025-10-12"), Date: day("2025-10-14")}, domain.AppointmentNoShow{})
	book("ap6", "birth", "2025-10-15")
	return out
}

// Queue figures over days: waits to the first call with their median and
// 90th percentile, service times, no-shows of tickets and of
// appointments, by service, counter, clerk and station.
func TestQueueFigures(t *testing.T) {
	_, e := given(t, queueLog()...)
	type figures struct {
		key                                 string
		rank, tickets, served, noShows, off int
		avgWait, p50, p90, avgService       float64
	}
	type turnout struct {
		appointments, noShows, late int
		rate                        float64
	}
	fig := func(key string, rank int, f projections.QueueFigures) figures {
		return figures{key, rank, f.Tickets, f.Served, f.NoShows, f.Cancelled, f.AvgWait, f.P50Wait, f.P90Wait, f.AvgService}
	}
	turn := func(f projections.QueueFigures) *turnout {
		if f.Turnout == nil {
			return nil
		}
		return &turnout{f.Appointments, f.Turnout.NoShows, f.Late, *f.NoShowRate}
	}
	gulou := figures{"", 0, 7, 5, 1, 1, 13.3, 12, 26, 10.2}
	gulouTurnout := &turnout{4, 3, 1, 0.75}
	for _, tc := range []struct {
		name     string
		q        projections.QueueQuery
		rows     []figures
		turnouts []*turnout
	}{
		{"by service: the line a ticket ended in", projections.QueueQuery{Stations: []string{"gulou"}, By: "service"},
			[]figures{{"birth", 0, 5, 3, 1, 1, 8.3, 4, 15, 12}, {"permit", 0, 2, 2, 0, 0, 23.5, 21, 26, 7.5}},
			[]*turnout{{3, 2, 0, 0.6667}, {1, 1, 1, 1}}},
		{"by counter: the last to call or serve", projections.QueueQuery{Stations: []string{"gulou"}, By: "counter"},
			[]figures{{"none", 0, 1, 0, 0, 1, 0, 0, 0, 0}, {"w1", 0, 4, 3, 1, 0, 9.8, 4, 21, 7}, {"w2", 0, 2, 2, 0, 0, 20.5, 15, 26, 15}},
			[]*turnout{nil, nil, nil}},
		{"by clerk: the job's no-show leaves the caller", projections.QueueQuery{Stations: []string{"gulou"}, By: "clerk"},
			[]figures{{"li.wei", 0, 4, 3, 1, 0, 9.8, 4, 21, 7}, {"none", 0, 1, 0, 0, 1, 0, 0, 0, 0}, {"wang.fang", 0, 2, 2, 0, 0, 20.5, 15, 26, 15}},
			[]*turnout{nil, nil, nil}},
		{"the bureau by counter: each station's w1 its own", projections.QueueQuery{Stations: []string{"gulou", "xicheng"}, By: "counter"},
			[]figures{{"gulou/w1", 0, 4, 3, 1, 0, 9.8, 4, 21, 7}, {"gulou/w2", 0, 2, 2, 0, 0, 20.5, 15, 26, 15}, {"none", 0, 1, 0, 0, 1, 0, 0, 0, 0}, {"xicheng/w1", 0, 1, 1, 0, 0, 1, 1, 1, 2}},
			[]*turnout{nil, nil, nil, nil}},
		{"by hour: when the ticket was issued, in the stations' zone", projections.QueueQuery{Stations: []string{"gulou"}, By: "hour", Loc: loc},
			[]figures{func() figures { f := gulou; f.key = "09"; return f }()},
			[]*turnout{nil}},
		{"by hour in UTC: the same tickets, eight hours earlier", projections.QueueQuery{Stations: []string{"gulou"}, By: "hour", Loc: time.UTC},
			[]figures{func() figures { f := gulou; f.key = "01"; return f }()},
			[]*turnout{nil}},
		{"the bureau ranks stations by their average wait", projections.QueueQuery{Stations: []string{"gulou", "xicheng"}, By: "station"},
			[]figures{{"xicheng", 1, 1, 1, 0, 0, 1, 1, 1, 2}, func() figures { f := gulou; f.key, f.rank = "gulou", 2; return f }()},
			[]*turnout{{0, 0, 0, 0}, gulouTurnout}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.From, tc.q.To = day("2025-10-13"), day("2025-10-14")
			total, rows, err := projections.QueueReport(ctx, e, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.q.Stations) == 1 {
				if got := fig("", 0, total); got != gulou {
					t.Errorf("gulou in total %+v, want %+v", got, gulou)
				}
				if got := turn(total); *got != *gulouTurnout {
					t.Errorf("gulou's appointments %+v, want %+v", got, gulouTurnout)
				}
			}
			if len(rows) != len(tc.rows) {
				t.Fatalf("%d rows %+v, want %+v", len(rows), rows, tc.rows)
			}
			for i, r := range rows {
				if got := fig(r.Key, r.Rank, r.QueueFigures); got != tc.rows[i] {
					t.Errorf("row %d = %+v, want %+v", i, got, tc.rows[i])
				}
				if got, want := turn(r.QueueFigures), tc.turnouts[i]; (got == nil) != (want == nil) || (got != nil && *got != *want) {
					t.Errorf("row %d appointments %+v, want %+v", i, got, want)
				}
			}
		})
	}
	// One day, as the contract's date=D asks: the day's summary agrees on
	// what both count.
	total, _, err := projections.QueueReport(ctx, e, projections.QueueQuery{Stations: []string{"gulou"}, From: day("2025-10-14"), To: day("2025-10-14")})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := projections.DayOf(ctx, e, "gulou", day("2025-10-14"))
	if total.Tickets != d.Stats.Tickets || total.Served != d.Stats.Served || total.AvgWait != 4 || total.AvgService != d.Stats.Service.Value() || total.Appointments != 1 {
		t.Errorf("14 October: %+v, the day's summary %+v", total, d.Stats)
	}
	if _, _, err := projections.QueueReport(ctx, e, projections.QueueQuery{By: "window", From: calendar.Date{Year: 2025, Month: 10, Day: 1}, To: day("2025-10-02")}); err == nil {
		t.Error("by=window answered")
	}
}
