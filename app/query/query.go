// Package query holds the reads of the application. Each says what it reads:
// the log itself (a stream, fresh after a write) or one of the views.
package query

import (
	"context"
	"fmt"
	"time"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/domain/estimate"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/projections"
)

// Queries reads the log and the views.
type Queries struct {
	log   eventstore.Store
	views *projections.Engine
	read  projections.Views // other views to read, if not the live ones
}

// New returns the queries over a log and its views.
func New(log eventstore.Store, views *projections.Engine) *Queries {
	return &Queries{log: log, views: views}
}

// Appointment reads an appointment from its stream in the log.
func (q *Queries) Appointment(ctx context.Context, id string) (*domain.Appointment, error) {
	a, _, err := command.Load[domain.Appointment](ctx, q.log, domain.AppointmentStream(id))
	return a, err
}

// User reads a login from its stream in the log.
func (q *Queries) User(ctx context.Context, name string) (*domain.User, error) {
	u, _, err := command.Load[domain.User](ctx, q.log, domain.UserStream(name))
	return u, err
}

// Head is the position of the last event in the log.
func (q *Queries) Head(ctx context.Context) (uint64, error) { return q.log.Head(ctx) }

// AsOf rebuilds the named projections in memory from the log's events
// before at: the views as they stood then.
func (q *Queries) AsOf(ctx context.Context, at time.Time, ps ...projections.Projection) (projections.Views, error) {
	return projections.AsOf(ctx, q.log, at, ps...)
}

// ApplicationAsOf is one application as it stood before end, read from its
// stream in the log (applications, rebuilt for it alone).
func (q *Queries) ApplicationAsOf(ctx context.Context, id string, end time.Time) (projections.AppView, bool, error) {
	v, err := projections.AsOfStream(ctx, q.log, domain.ApplicationStream(id), end, projections.Applications{})
	if err != nil {
		return projections.AppView{}, false, err
	}
	return projections.ApplicationOf(ctx, v, id)
}

// History is a stream's events with their actors, read from the log.
func (q *Queries) History(ctx context.Context, stream string) ([]projections.Entry, error) {
	return projections.AuditByStream(ctx, q.log, stream)
}

// Since is up to limit events of the log after position after.
func (q *Queries) Since(ctx context.Context, after uint64, limit int) ([]eventstore.Record, error) {
	return q.log.ReadAll(ctx, after, limit)
}

// Views are the live views, for the reads that name one.
func (q *Queries) Views() *projections.Engine { return q.views }

// StationOf is the station a stream belongs to, read from its name or its
// events (appointments, applications, users, ticket ratings); "" for
// streams of no one station (the catalogue, the calendars, residents, the
// admin's logins).
func (q *Queries) StationOf(ctx context.Context, stream string) (string, error) {
	if st, ok := domain.StationOfStream(stream); ok {
		return st, nil
	}
	if _, ok := domain.StreamID("appointment", stream); ok {
		a, _, err := command.Load[domain.Appointment](ctx, q.log, stream)
		return a.StationID, err
	}
	if _, ok := domain.StreamID("application", stream); ok {
		a, _, err := command.Load[domain.Application](ctx, q.log, stream)
		return a.StationID, err
	}
	if _, ok := domain.StreamID("rating", stream); ok {
		r, _, err := command.Load[domain.TicketRating](ctx, q.log, stream)
		return r.Ticket.StationID, err
	}
	if _, ok := domain.StreamID("user", stream); ok {
		u, _, err := command.Load[domain.User](ctx, q.log, stream)
		return u.StationID, err
	}
	return "", nil
}

// Events is a stream's events decoded, each with the time it happened,
// read from the log.
func (q *Queries) Events(ctx context.Context, stream string) ([]estimate.Stamped, error) {
	recs, err := q.log.ReadStream(ctx, stream, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	out := make([]estimate.Stamped, len(recs))
	for i, r := range recs {
		e, err := domain.DecodeSchema(r.Type, r.Schema, r.Data)
		if err != nil {
			return nil, fmt.Errorf("read %s at version %d: %w", stream, r.Version, err)
		}
		out[i] = estimate.Stamped{At: r.OccurredAt, Event: e}
	}
	return out, nil
}

// WaitEstimates replays a station's queue days from one day to another
// from the log, and sums up how far e's estimates at each ticket's issue
// were from the waits that followed.
func (q *Queries) WaitEstimates(ctx context.Context, station string, from, to calendar.Date, e estimate.Estimator) (estimate.Summary, error) {
	var days []estimate.Result
	for d := from; !d.After(to); d = d.AddDays(1) {
		evs, err := q.Events(ctx, domain.QueueStream(station, d))
		if err != nil {
			return estimate.Summary{}, err
		}
		if len(evs) > 0 {
			days = append(days, estimate.Replay(evs, e))
		}
	}
	return estimate.Summarize(days...), nil
}
