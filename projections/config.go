package projections

import (
	"context"
	"fmt"
	"strconv"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore"
)

// StationView is a station's configuration as anyone may read it.
type StationView struct {
	ID             string           `json:"id"`
	Name           string           `json:"name"`
	NameEn         string           `json:"name_en,omitempty"`
	Address        string           `json:"address,omitempty"`
	Phone          string           `json:"phone,omitempty"`
	Counters       []domain.Counter `json:"counters"`
	Hours          HoursView        `json:"hours"`
	WeekendWindows []domain.Hours   `json:"weekend_windows"`
}

// HoursView holds the weekly hours.
type HoursView struct {
	Weekly []domain.Hours `json:"weekly"`
}

// Config keeps the service catalogue, the stations and the imported
// holiday calendars.
type Config struct{}

func (Config) Name() string { return "config" }

func (Config) Apply(v *View, r eventstore.Record, e domain.Event) error {
	switch e := e.(type) {
	case domain.ServiceDefined:
		v.Put("services", e.Service.ID, e.Service)
	case domain.CalendarImported:
		v.Put("calendars", strconv.Itoa(e.Notice.Year), e.Notice)
	case domain.StationRegistered:
		v.Put("stations", e.ID, StationView{ID: e.ID, Name: e.Name, NameEn: e.NameEn, Address: e.Address, Phone: e.Phone, Counters: []domain.Counter{}, Hours: HoursView{Weekly: []domain.Hours{}}, WeekendWindows: []domain.Hours{}})
	case domain.CounterAdded, domain.HoursSet:
		id, _ := domain.StreamID("station", r.Stream)
		s, ok, err := Get[StationView](v, "stations", id)
		if err != nil || !ok {
			return orMissing(err, ok, "station", id)
		}
		if c, ok := e.(domain.CounterAdded); ok {
			s.Counters = append(s.Counters, c.Counter)
		} else {
			h := e.(domain.HoursSet)
			s.Hours.Weekly, s.WeekendWindows = nonNil(h.Weekly), nonNil(h.Weekend)
		}
		v.Put("stations", id, s)
	}
	return nil
}

func nonNil(h []domain.Hours) []domain.Hours {
	if h == nil {
		return []domain.Hours{}
	}
	return h
}

// Services lists the catalogue by id.
func Services(ctx context.Context, v Views) ([]domain.Service, error) {
	return Scan[domain.Service](ctx, v.Store(), v.NS("config", "services"), "", "")
}

// Stations lists the stations by id.
func Stations(ctx context.Context, v Views) ([]StationView, error) {
	return Scan[StationView](ctx, v.Store(), v.NS("config", "stations"), "", "")
}

// StationOf reads one station.
func StationOf(ctx context.Context, v Views, id string) (StationView, bool, error) {
	return getDoc[StationView](ctx, v, "config", "stations", id)
}

// Calendar is the official notices shipped with servicehall, each year
// replaced by the notice imported for it, if any.
func Calendar(ctx context.Context, v Views) (*calendar.Calendar, error) {
	base, err := calendar.Official()
	if err != nil {
		return nil, err
	}
	imported, err := Scan[calendar.Notice](ctx, v.Store(), v.NS("config", "calendars"), "", "")
	if err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	return calendar.New(base...).With(imported...), nil
}
