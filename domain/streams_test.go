package domain_test

import (
	"testing"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
)

func TestStationOfStream(t *testing.T) {
	d := calendar.Date{Year: 2026, Month: 12, Day: 5}
	for _, c := range []struct {
		stream, station string
		ok              bool
	}{
		{domain.StationStream("gulou"), "gulou", true},
		{domain.QueueStream("west-gate", d), "west-gate", true},
		{domain.SlotStream("west-gate", d, 9*60+30, "idcard-temp"), "west-gate", true},
		{domain.AppointmentStream("a1"), "", false}, // in its events
		{domain.CatalogueStream, "", false},
		{domain.CalendarStream(2026), "", false},
	} {
		if st, ok := domain.StationOfStream(c.stream); st != c.station || ok != c.ok {
			t.Errorf("StationOfStream(%q) = %q, %v; want %q, %v", c.stream, st, ok, c.station, c.ok)
		}
	}
}
