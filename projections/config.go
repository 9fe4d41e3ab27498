package projections

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

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

// UserView is a login as the admin lists it: never its password or
// credential.
type UserView struct {
	Username  string    `json:"username"`
	Role      string    `json:"role"`
	StationID string    `json:"station_id,omitempty"`
	Disabled  bool      `json:"disabled"`
	Created   time.Time `json:"created_at"`
	// PasswordSet is when the password was last set by an admin, if ever.
	PasswordSet time.Time `json:"password_set_at,omitzero"`
}

// Config keeps the service catalogue, the stations, the imported holiday
// calendars and the logins; and indexes every configuration change (the
// events of the catalogue, stations, calendars, logins and webhook
// subscriptions) in log order, for the configuration's history.
type Config struct{}

func (Config) Name() string { return "config" }

func (Config) Lists() []string { return []string{"history"} }

// configChange says whether an event changes the configuration.
func configChange(e domain.Event) bool {
	switch e.(type) {
	case domain.ServiceDefined, domain.StationRegistered, domain.CounterAdded, domain.HoursSet, domain.CalendarImported,
		domain.UserCreated, domain.PasswordChanged, domain.UserDisabled, domain.UserEnabled, domain.WebhookSubscribed:
		return true
	}
	return false
}

func (Config) Apply(v *View, r eventstore.Record, e domain.Event) error {
	if configChange(e) {
		v.Append("history", "all", r.Position, r.Position)
	}
	if name, ok := domain.StreamID("user", r.Stream); ok {
		return applyUser(v, name, r, e)
	}
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

func applyUser(v *View, name string, r eventstore.Record, e domain.Event) error {
	if e, ok := e.(domain.UserCreated); ok {
		v.Put("users", name, UserView{Username: e.Username, Role: e.Role, StationID: e.StationID, Created: r.OccurredAt})
		return nil
	}
	u, ok, err := Get[UserView](v, "users", name)
	if err != nil || !ok {
		return err // a login the log never created: nothing to list
	}
	switch e := e.(type) {
	case domain.PasswordChanged:
		u.PasswordSet = e.At
	case domain.UserDisabled:
		u.Disabled = true
	case domain.UserEnabled:
		u.Disabled = false
	default:
		return nil
	}
	v.Put("users", name, u)
	return nil
}

// Users lists the logins by username.
func Users(ctx context.Context, v Views) ([]UserView, error) {
	return Scan[UserView](ctx, v.Store(), v.NS("config", "users"), "", "")
}

// ConfigHistory is the configuration's changes, the latest first, at most
// limit of them: the config view's index, read from the log.
func ConfigHistory(ctx context.Context, v Views, log eventstore.Store, limit int) ([]Entry, error) {
	batches, err := Scan[[]uint64](ctx, v.Store(), v.NS("config", "history"), "all/", PrefixEnd("all/"))
	if err != nil {
		return nil, err
	}
	var marks []Mark
	for i := len(batches) - 1; i >= 0 && len(marks) < limit; i-- {
		for j := len(batches[i]) - 1; j >= 0 && len(marks) < limit; j-- {
			marks = append(marks, Mark{Position: batches[i][j]})
		}
	}
	out, err := readMarks(ctx, log, marks)
	slices.Reverse(out)
	return out, err
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
