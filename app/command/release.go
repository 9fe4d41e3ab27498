package command

import (
	"context"
	"fmt"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
)

// Release opens a station's slots for every date in [from, to] from its
// hours and the calendar. A slot already open is left as it is, so changing
// hours affects only slots not yet released, and running it twice writes
// nothing twice. It returns the number of slots it opened.
func Release(ctx context.Context, h *Handler, stationID string, from, to calendar.Date, cal *calendar.Calendar, loc *time.Location, m Meta) (int, Result, error) {
	st, _, err := Load[domain.Station](ctx, h.Store(), domain.StationStream(stationID))
	if err != nil {
		return 0, Result{}, err
	}
	if !st.Registered() {
		return 0, Result{}, fmt.Errorf("%w: station %q (派出所不存在)", domain.ErrNotFound, stationID)
	}
	opened := 0
	var last Result
	for d := from; !d.After(to); d = d.AddDays(1) {
		for _, spec := range st.SlotsOn(d, cal) {
			mm := m
			mm.CommandID = "release-" + spec.Stream()
			res, err := Execute(ctx, h, spec.Stream(), mm, func(s *domain.Slot) ([]domain.Event, error) { return s.Release(spec, loc) })
			if err != nil {
				return opened, last, err
			}
			if len(res.Events) > 0 {
				opened++
				last = res
			}
		}
	}
	return opened, last, nil
}
