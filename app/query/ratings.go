package query

import (
	"context"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/projections"
)

// Rating is the rating of a ticket or an application (kind "ticket" or
// "application"), with its remediation (ratings).
func (q *Queries) Rating(ctx context.Context, kind, id string) (projections.RatingView, bool, error) {
	return projections.RatingOf(ctx, q.v(), kind, id)
}

// TicketPlace is the station and day a ticket was issued for (ratings).
func (q *Queries) TicketPlace(ctx context.Context, ticket string) (projections.TicketPlace, bool, error) {
	return projections.PlaceOf(ctx, q.v(), ticket)
}

// Remediations lists the remediations of a station's bad ratings (every
// station's for ""), in state if given, at today (ratings).
func (q *Queries) Remediations(ctx context.Context, station string, today calendar.Date, cal *calendar.Calendar, rule domain.Escalation, state string) ([]projections.RemediationRow, error) {
	return projections.Remediations(ctx, q.v(), station, today, cal, rule, state)
}
