package query

import (
	"context"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/projections"
)

// Reads of the views. Each names the projection it reads; On reads the
// same from other views (those rebuilt as of a past day).

// On returns the queries reading views v instead of the live ones.
func (q *Queries) On(v projections.Views) *Queries {
	return &Queries{log: q.log, views: q.views, read: v}
}

func (q *Queries) v() projections.Views {
	if q.read != nil {
		return q.read
	}
	return q.views
}

// Services is the catalogue (projection config).
func (q *Queries) Services(ctx context.Context) ([]domain.Service, error) {
	return projections.Services(ctx, q.v())
}

// Stations are the stations (config).
func (q *Queries) Stations(ctx context.Context) ([]projections.StationView, error) {
	return projections.Stations(ctx, q.v())
}

// Station is one station with its counters and hours (config).
func (q *Queries) Station(ctx context.Context, id string) (projections.StationView, bool, error) {
	return projections.StationOf(ctx, q.v(), id)
}

// Calendar is the working-day calendar with the notices imported (config).
func (q *Queries) Calendar(ctx context.Context) (*calendar.Calendar, error) {
	return projections.Calendar(ctx, q.v())
}

// Users are the logins, without their passwords (config).
func (q *Queries) Users(ctx context.Context) ([]projections.UserView, error) {
	return projections.Users(ctx, q.v())
}

// ConfigHistory is the configuration's changes, the latest first, at most
// limit (config, and the log).
func (q *Queries) ConfigHistory(ctx context.Context, limit int) ([]projections.Entry, error) {
	return projections.ConfigHistory(ctx, q.v(), q.log, limit)
}

// FreeSlots are a service's slots at a station between two days
// (availability).
func (q *Queries) FreeSlots(ctx context.Context, station, service string, from, to calendar.Date) ([]projections.SlotView, error) {
	return projections.FreeSlots(ctx, q.v(), station, service, from, to)
}

// Application is one application with its deadline and history
// (applications).
func (q *Queries) Application(ctx context.Context, id string) (projections.AppView, bool, error) {
	return projections.ApplicationOf(ctx, q.v(), id)
}

// ApplicationsOf are a resident login's applications (applications).
func (q *Queries) ApplicationsOf(ctx context.Context, owner string) ([]projections.AppView, error) {
	v := q.v()
	ids, err := projections.Scan[string](ctx, v.Store(), v.NS("applications", "by-resident"), owner+"/", projections.PrefixEnd(owner+"/"))
	if err != nil {
		return nil, err
	}
	var out []projections.AppView
	for _, id := range ids {
		if a, ok, err := projections.ApplicationOf(ctx, v, id); err != nil {
			return nil, err
		} else if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// SLA lists open applications with their deadlines and escalation, in
// state if given (applications).
func (q *Queries) SLA(ctx context.Context, today calendar.Date, cal *calendar.Calendar, rule domain.Escalation, state string) ([]projections.SLARow, error) {
	return projections.SLA(ctx, q.v(), today, cal, rule, state)
}

// CompletionRates are completion, on-time and approval rates grouped as
// cq says (completion; by counter, the queue view too).
func (q *Queries) CompletionRates(ctx context.Context, cq projections.CompletionQuery) ([]projections.Rate, error) {
	return projections.CompletionRates(ctx, q.v(), cq)
}

// Day is a station's queue on one day (queue).
func (q *Queries) Day(ctx context.Context, station string, d calendar.Date) (projections.DayView, error) {
	return projections.DayOf(ctx, q.v(), station, d)
}

// RatingSpread is how residents rated stations' visits and applications
// over days.
func (q *Queries) RatingSpread(ctx context.Context, stations []string, from, to calendar.Date, loc *time.Location) (projections.RatingFigures, error) {
	return projections.RatingSpread(ctx, q.v(), stations, from, to, loc)
}

// QueueReport is the queue figures of stations over days, in total and
// grouped as qq says (queue).
func (q *Queries) QueueReport(ctx context.Context, qq projections.QueueQuery) (projections.QueueFigures, []projections.QueueRow, error) {
	return projections.QueueReport(ctx, q.v(), qq)
}

// Days are the summaries (without tickets) of a station's queue days before to (queue).
func (q *Queries) Days(ctx context.Context, station string, to calendar.Date) ([]projections.DayView, error) {
	v := q.v()
	return projections.Scan[projections.DayView](ctx, v.Store(), v.NS("queue", "days"), station+"/", station+"/"+to.String())
}

// AuditByActor is who did what, for one actor (audit, and the log).
func (q *Queries) AuditByActor(ctx context.Context, actor string) ([]projections.Entry, error) {
	return projections.AuditByActor(ctx, q.v(), q.log, actor)
}

// AuditByStation is what was done at one station (audit, and the log).
func (q *Queries) AuditByStation(ctx context.Context, station string) ([]projections.Entry, error) {
	return projections.AuditByStation(ctx, q.v(), q.log, station)
}

// AppointmentView is one appointment as residents and staff see it
// (residents).
func (q *Queries) AppointmentView(ctx context.Context, id string) (projections.AppointmentView, bool, error) {
	return projections.AppointmentOf(ctx, q.v(), id)
}

// AppointmentsOf are a resident login's appointments (residents).
func (q *Queries) AppointmentsOf(ctx context.Context, owner string) ([]projections.AppointmentView, error) {
	return projections.AppointmentsOf(ctx, q.v(), owner)
}

// BookedBetween are the appointments still booked on days in [from, to]
// (residents).
func (q *Queries) BookedBetween(ctx context.Context, from, to calendar.Date) ([]projections.AppointmentView, error) {
	return projections.BookedBetween(ctx, q.v(), from, to)
}

// NoticesDue are the hall's cancellations whose notice is still to be sent
// (residents).
func (q *Queries) NoticesDue(ctx context.Context) ([]projections.AppointmentView, error) {
	return projections.NoticesDue(ctx, q.v())
}

// Offers are the places held for people from waitlists (availability).
func (q *Queries) Offers(ctx context.Context) ([]projections.OfferView, error) {
	return projections.Offers(ctx, q.v())
}

// Worklist is a station's applications in one desk state (applications).
func (q *Queries) Worklist(ctx context.Context, station, state string, today calendar.Date, cal *calendar.Calendar, rule domain.Escalation) ([]projections.AppView, error) {
	return projections.Worklist(ctx, q.v(), station, state, today, cal, rule)
}

// ReadyToTell are the applications ready to collect whose applicant is
// still to be told (applications).
func (q *Queries) ReadyToTell(ctx context.Context) ([]projections.AppView, error) {
	return projections.ReadyToTell(ctx, q.v())
}

// AppointmentsOfRef are the appointments booked for the person a resident
// reference names (residents).
func (q *Queries) AppointmentsOfRef(ctx context.Context, ref string) ([]projections.AppointmentView, error) {
	return projections.AppointmentsOfRef(ctx, q.v(), ref)
}

// AppointmentArrived is the appointment checked in at a station on a day
// with a code (residents).
func (q *Queries) AppointmentArrived(ctx context.Context, station string, d calendar.Date, code string) (projections.AppointmentView, bool, error) {
	return projections.AppointmentArrived(ctx, q.v(), station, d, code)
}

// AppointmentByCode is the live appointment a station's check-in code names
// (residents).
func (q *Queries) AppointmentByCode(ctx context.Context, station, code string) (projections.AppointmentView, bool, error) {
	return projections.AppointmentByCode(ctx, q.v(), station, code)
}
