package command

import (
	"context"
	"fmt"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
)

// DefineService adds a service to the catalogue, or changes it, and
// answers it as recorded.
func (hl *Hall) DefineService(ctx context.Context, svc domain.Service, m Meta) (domain.Service, Result, error) {
	res, err := Execute(ctx, hl.h, domain.CatalogueStream, m, func(cat *domain.Catalogue) ([]domain.Event, error) {
		return cat.DefineService(svc)
	})
	if e, ok := First[domain.ServiceDefined](res); ok {
		svc = e.Service
	}
	return svc, res, err
}

// RegisterStation opens a station.
func (hl *Hall) RegisterStation(ctx context.Context, r domain.StationRegistered, m Meta) (Result, error) {
	if err := domain.CheckID("id", r.ID); err != nil {
		return Result{}, err
	}
	return Execute(ctx, hl.h, domain.StationStream(r.ID), m, func(st *domain.Station) ([]domain.Event, error) {
		return st.Register(r)
	})
}

// AddCounter adds a counter to a station, serving services of the catalogue.
func (hl *Hall) AddCounter(ctx context.Context, station string, k domain.Counter, m Meta) (Result, error) {
	cat, err := hl.Catalogue(ctx)
	if err != nil {
		return Result{}, err
	}
	return Execute(ctx, hl.h, domain.StationStream(station), m, func(st *domain.Station) ([]domain.Event, error) {
		return st.AddCounter(k, cat)
	})
}

// Hours are a station's weekly hours and weekend windows.
type Hours struct {
	Weekly         []domain.Hours `json:"weekly"`
	WeekendWindows []domain.Hours `json:"weekend_windows"`
}

// SetHours replaces a station's hours and releases the slots of the next
// horizon days at once (none for 0); slots released before keep their
// hours. It answers how many slots it opened.
func (hl *Hall) SetHours(ctx context.Context, station string, h Hours, horizon int, m Meta) (int, Result, error) {
	cat, err := hl.Catalogue(ctx)
	if err != nil {
		return 0, Result{}, err
	}
	res, err := Execute(ctx, hl.h, domain.StationStream(station), m, func(st *domain.Station) ([]domain.Event, error) {
		return st.SetHours(h.Weekly, h.WeekendWindows, cat)
	})
	if err != nil {
		return 0, res, err
	}
	cal, err := hl.Calendar(ctx, m.At)
	if err != nil {
		return 0, res, err
	}
	today := calendar.DateOf(m.At.In(hl.loc))
	n, last, err := Release(ctx, hl.h, station, today, today.AddDays(horizon-1), cal, hl.loc, m)
	if last.Position > res.Position {
		res = last
	}
	return n, res, err
}

// PreviewDay is what hours would open on one day: the day's standing in
// the calendar and its slots.
type PreviewDay struct {
	Date    calendar.Date `json:"date"`
	Working bool          `json:"working"`
	Reason  string        `json:"reason"`
	Name    string        `json:"name,omitempty"`
	Slots   []PreviewSlot `json:"slots"`
}

// PreviewSlot is one time a day opens, for the services that share it.
type PreviewSlot struct {
	Start      domain.Clock `json:"start"`
	End        domain.Clock `json:"end"`
	ServiceIDs []string     `json:"service_ids"`
	Capacity   int          `json:"capacity"`
	WalkIn     int          `json:"walk_in"`
}

// PreviewHours is the slots h would open at a station on each day from
// from to to, with the calendar as the log holds it at m.At: the station's
// own decision on the hours (refusing what SetHours refuses) and the same
// slot generation the release uses, without writing anything.
func (hl *Hall) PreviewHours(ctx context.Context, station string, h Hours, from, to calendar.Date, m Meta) ([]PreviewDay, error) {
	cat, err := hl.Catalogue(ctx)
	if err != nil {
		return nil, err
	}
	st, _, err := Load[domain.Station](ctx, hl.h.Store(), domain.StationStream(station))
	if err != nil {
		return nil, err
	}
	evs, err := st.SetHours(h.Weekly, h.WeekendWindows, cat)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		st.Apply(e)
	}
	cal, err := hl.Calendar(ctx, m.At)
	if err != nil {
		return nil, err
	}
	var out []PreviewDay
	for d := from; !d.After(to); d = d.AddDays(1) {
		day := PreviewDay{Date: d, Slots: []PreviewSlot{}}
		day.Working, day.Reason, day.Name = cal.Describe(d)
		for _, s := range st.SlotsOn(d, cal) {
			if n := len(day.Slots); n > 0 {
				last := &day.Slots[n-1]
				if last.Start == s.Start && last.End == s.End && last.Capacity == s.Capacity && last.WalkIn == s.WalkIn {
					last.ServiceIDs = append(last.ServiceIDs, s.Service)
					continue
				}
			}
			day.Slots = append(day.Slots, PreviewSlot{Start: s.Start, End: s.End, ServiceIDs: []string{s.Service}, Capacity: s.Capacity, WalkIn: s.WalkIn})
		}
		out = append(out, day)
	}
	return out, nil
}

// ImportCalendar records a year's official holiday notice; it replaces the
// embedded one for that year.
func (hl *Hall) ImportCalendar(ctx context.Context, n calendar.Notice, m Meta) (Result, error) {
	return Execute(ctx, hl.h, domain.CalendarStream(n.Year), m, func(y *domain.CalendarYear) ([]domain.Event, error) {
		return y.Import(n)
	})
}

// Catalogue is the services as the log holds them now.
func (hl *Hall) Catalogue(ctx context.Context) (map[string]domain.Service, error) {
	cat, _, err := Load[domain.Catalogue](ctx, hl.h.Store(), domain.CatalogueStream)
	if err != nil {
		return nil, err
	}
	return cat.Services, nil
}

// Service is one service of the catalogue; an unknown id is invalid input.
func (hl *Hall) Service(ctx context.Context, id string) (domain.Service, error) {
	cat, err := hl.Catalogue(ctx)
	if err != nil {
		return domain.Service{}, err
	}
	svc, ok := cat[id]
	if !ok {
		return svc, &domain.FieldError{Field: "service_id", Err: fmt.Errorf("%w: unknown service (业务不存在)", domain.ErrInvalid)}
	}
	return svc, nil
}

// Calendar is the working-day calendar as the log holds it at, for the
// years around it: the embedded notices, each replaced by the one imported
// for its year. It reads the log rather than a view, so that a write right
// after an import uses it.
func (hl *Hall) Calendar(ctx context.Context, at time.Time) (*calendar.Calendar, error) {
	base, err := calendar.Official()
	if err != nil {
		return nil, err
	}
	cal := calendar.New(base...)
	year := at.In(hl.loc).Year()
	for y := year - 1; y <= year+2; y++ {
		imported, _, err := Load[domain.CalendarYear](ctx, hl.h.Store(), domain.CalendarStream(y))
		if err != nil {
			return nil, err
		}
		if imported.Imported {
			cal = cal.With(imported.Notice)
		}
	}
	return cal, nil
}

// Setup is what a station needs before it opens: the services it offers,
// its counters and its hours.
type Setup struct {
	Services []domain.Service
	domain.StationRegistered
	Counters []domain.Counter
	Hours
}

// SetUp defines the setup's services, registers the station, adds its
// counters, sets its hours and releases horizon days of slots, each step
// one command under m (with m.CommandID, if set, extended per step so that
// running the setup again writes nothing new).
func (hl *Hall) SetUp(ctx context.Context, s Setup, horizon int, m Meta) (Result, error) {
	step := func(name string) Meta {
		if m.CommandID != "" {
			m := m
			m.CommandID += "/" + name
			return m
		}
		return m
	}
	var last Result
	keep := func(res Result, err error) error {
		if res.Position > last.Position {
			last = res
		}
		return err
	}
	for _, svc := range s.Services {
		_, res, err := hl.DefineService(ctx, svc, step("service-"+svc.ID))
		if err := keep(res, err); err != nil {
			return last, fmt.Errorf("service %s: %w", svc.ID, err)
		}
	}
	if err := keep(hl.RegisterStation(ctx, s.StationRegistered, step("station"))); err != nil {
		return last, fmt.Errorf("station %s: %w", s.ID, err)
	}
	for _, k := range s.Counters {
		if err := keep(hl.AddCounter(ctx, s.ID, k, step("counter-"+k.ID))); err != nil {
			return last, fmt.Errorf("counter %s: %w", k.ID, err)
		}
	}
	_, res, err := hl.SetHours(ctx, s.ID, s.Hours, horizon, step("hours"))
	if err := keep(res, err); err != nil {
		return last, fmt.Errorf("hours of %s: %w", s.ID, err)
	}
	return last, nil
}
