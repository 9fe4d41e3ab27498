package domain_test

import (
	"encoding/json"
	"testing"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
)

// No hours document panics; a refused one decides nothing, and an accepted
// one gives slots that lie inside their hours, each within a day.
func FuzzSetHours(f *testing.F) {
	f.Add([]byte(`{"weekly":[{"weekday":1,"start":"09:00","end":"12:00","service_ids":["birth"],"slot_minutes":30,"capacity":4,"walk_in":1}],"weekend_windows":[{"weekday":6,"start":"09:00","end":"11:00","service_ids":["birth"],"slot_minutes":60,"capacity":2}]}`))
	f.Add([]byte(`{"weekly":[{"weekday":9,"start":"09:00","end":"08:00"}]}`))
	f.Add([]byte(`{"weekly":[{"weekday":1,"start":"23:55","end":"24:00","service_ids":["birth"],"slot_minutes":5,"capacity":1000}]}`))
	f.Add([]byte(`{"weekend_windows":[{"weekday":3,"start":"09:00","end":"12:00","service_ids":["x"],"slot_minutes":30,"capacity":1}]}`))
	cat := map[string]domain.Service{"birth": {ID: "birth", Name: "Birth", NameZh: "出生登记", Category: domain.Household, TimeLimitDays: 20}}
	notices, err := calendar.Official()
	if err != nil {
		f.Fatal(err)
	}
	cal := calendar.New(notices...)
	f.Fuzz(func(t *testing.T, b []byte) {
		var req struct {
			Weekly  []domain.Hours `json:"weekly"`
			Weekend []domain.Hours `json:"weekend_windows"`
		}
		if json.Unmarshal(b, &req) != nil {
			return
		}
		var st domain.Station
		st.Apply(domain.StationRegistered{ID: "gulou", Name: "鼓楼派出所"})
		evs, err := st.SetHours(req.Weekly, req.Weekend, cat)
		if err != nil {
			if len(evs) != 0 {
				t.Fatalf("refused with %v, yet decided %v", err, evs)
			}
			return
		}
		for _, e := range evs {
			st.Apply(e)
		}
		first, last := calendar.Date{Year: 2025, Month: 9, Day: 27}, calendar.Date{Year: 2025, Month: 10, Day: 12}
		for d := first; !d.After(last); d = d.AddDays(1) {
			for _, s := range st.SlotsOn(d, cal) {
				if s.Start >= s.End || s.End > 24*60 || s.Capacity < 1 || s.WalkIn > s.Capacity || s.Date != d {
					t.Fatalf("slot %+v from hours %s", s, b)
				}
			}
		}
	})
}
