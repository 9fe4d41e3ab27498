package api

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/projections"
)

// Ratings (好差评) of visits: a served ticket is rated by the resident who
// holds its appointment, or at the hall's kiosk on the resident's behalf
// (a walk-in's only way); an application's by its resident
// (applications.go). A bad rating's remediation is the station's desk's,
// and its list the managers'.

type (
	// ratingOut is a rating with its remediation's standing today.
	ratingOut struct {
		projections.RatingView
		Remediation *remediationOut `json:"remediation,omitempty"`
	}
	remediationOut struct {
		projections.RemediationView
		State    string `json:"state" description:"on_track, warning, overdue, or closed once followed up (回访)"`
		DaysLeft *int   `json:"working_days_left,omitempty" description:"while open; below 0 when overdue"`
	}
	// ticketOut is a ticket as its resident and its station see it, with
	// its rating once rated.
	ticketOut struct {
		ID          string             `json:"id"`
		Number      string             `json:"number"`
		StationID   string             `json:"station_id"`
		Date        calendar.Date      `json:"date"`
		ServiceID   string             `json:"service_id"`
		State       domain.TicketState `json:"state"`
		CounterID   string             `json:"counter_id,omitempty"`
		Appointment string             `json:"appointment_id,omitempty"`
		Rating      *ratingOut         `json:"rating,omitempty"`
	}
	remediationsQuery struct {
		StationID string `query:"station_id"`
		State     string `query:"state" enum:"open,on_track,warning,overdue,closed" description:"open (the default): every remediation not yet followed up"`
	}
)

// ratingOf answers the rating of a ticket or an application with its
// remediation's standing today, and whether there is one.
func (s *Server) ratingOf(c *gin.Context, kind, id string) (*ratingOut, bool, error) {
	r, ok, err := s.queries.Rating(c.Request.Context(), kind, id)
	if err != nil || !ok {
		return nil, false, err
	}
	out := &ratingOut{RatingView: r}
	out.Owner = "" // a login's id is nobody else's business
	if m := r.Remediation; m != nil {
		cal, err := s.calendar(c)
		if err != nil {
			return nil, false, err
		}
		out.Remediation = &remediationOut{RemediationView: *m}
		out.Remediation.State, out.Remediation.DaysLeft = m.Standing(s.today(), cal, s.escalation)
	}
	return out, true, nil
}

// ticketPlace finds the station and day of the ticket the path names; an
// id that cannot be a ticket's is not found.
func (s *Server) ticketPlace(c *gin.Context) (projections.TicketPlace, error) {
	id := c.Param("id")
	if domain.CheckID("id", id) != nil {
		return projections.TicketPlace{}, fmt.Errorf("%w: ticket (无此号)", domain.ErrNotFound)
	}
	p, ok, err := s.queries.TicketPlace(c.Request.Context(), id)
	if err == nil && !ok {
		err = fmt.Errorf("%w: ticket (无此号)", domain.ErrNotFound)
	}
	return p, err
}

// rateTicket records a rating of a served ticket: by the resident who
// holds its appointment, or at the station's kiosk.
func (s *Server) rateTicket(c *gin.Context) {
	var req command.Rate
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	p, err := s.ticketPlace(c)
	if err != nil {
		problem(c, err)
		return
	}
	cal, err := s.calendar(c)
	if err != nil {
		problem(c, err)
		return
	}
	after, res, err := s.hall.RateTicket(c.Request.Context(), c.Param("id"), p.Station, p.Date, req, who(c).reaches, cal, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusOK, res, ratedOut(c.Param("id"), after))
}

// ratingStatus is a ticket's rating as a command left it (the view may
// not have it yet).
type ratingStatus struct {
	ID             string        `json:"ticket_id"`
	Score          int           `json:"score"`
	Round          int           `json:"round"`
	RemediationDue calendar.Date `json:"remediation_due,omitzero" description:"a bad rating (1 or 2) opens a remediation due fifteen working days on"`
	Step           string        `json:"remediation_step,omitempty" description:"opened, verify, rectify, or reply once followed up"`
}

func ratedOut(id string, t domain.TicketRating) ratingStatus {
	out := ratingStatus{ID: id, Score: t.Ticket.Score, Round: t.Feedback.Rounds, Step: t.Feedback.Remedy}
	if out.Step != "" {
		out.RemediationDue = t.Feedback.Due
	}
	return out
}

// ticket answers a ticket with its rating, to its resident and its
// station.
func (s *Server) ticket(c *gin.Context) {
	ctx := c.Request.Context()
	p, err := s.ticketPlace(c)
	if err != nil {
		problem(c, err)
		return
	}
	day, err := s.queries.Day(ctx, p.Station, p.Date)
	if err != nil {
		problem(c, err)
		return
	}
	t, owner := day.Tickets[c.Param("id")], ""
	if t != nil && t.Appointment != "" {
		a, ok, err := s.queries.AppointmentView(ctx, t.Appointment)
		if err != nil {
			problem(c, err)
			return
		}
		if ok {
			owner = a.Owner
		}
	}
	if t == nil || !who(c).reaches(owner, p.Station) {
		problem(c, fmt.Errorf("%w: ticket (无此号)", domain.ErrNotFound))
		return
	}
	out := ticketOut{ID: t.ID, Number: t.Number, StationID: p.Station, Date: p.Date, ServiceID: t.Service, State: t.State, CounterID: t.Counter, Appointment: t.Appointment}
	if out.Rating, _, err = s.ratingOf(c, projections.RatedTicket, t.ID); err != nil {
		problem(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// ticketRemediation takes a remediation step of a ticket's bad rating.
func (s *Server) ticketRemediation(step, summary string) route {
	return route{method: http.MethodPost, path: "/api/v1/tickets/:id/remediation/" + step, summary: summary, roles: desk,
		in: command.Remediate{}, out: ratingStatus{}, handle: func(c *gin.Context) {
			var req command.Remediate
			if err := bind(c, &req); err != nil {
				problem(c, err)
				return
			}
			req.Step = step
			if domain.CheckID("id", c.Param("id")) != nil { // no stream is named after it
				problem(c, fmt.Errorf("%w: rating (该号尚无评价)", domain.ErrNotFound))
				return
			}
			after, res, err := s.hall.RemediateTicket(c.Request.Context(), c.Param("id"), req, who(c).reaches, s.meta(c))
			if err != nil {
				problem(c, err)
				return
			}
			written(c, http.StatusOK, res, ratedOut(c.Param("id"), after))
		}}
}

// remediations lists the remediations of bad ratings, of visits and
// applications, for the station's managers, the most urgent first.
func (s *Server) remediations(c *gin.Context) {
	station, ok := scope(c, false)
	if !ok {
		return
	}
	state := c.DefaultQuery("state", "open")
	switch state {
	case "open", "on_track", "warning", "overdue", "closed":
	default:
		problem(c, invalid("state", "open, on_track, warning, overdue or closed (状态不正确)"))
		return
	}
	cal, err := s.calendar(c)
	if err != nil {
		problem(c, err)
		return
	}
	rows, err := s.queries.Remediations(c.Request.Context(), station, s.today(), cal, s.escalation, state)
	if err != nil {
		problem(c, err)
		return
	}
	c.JSON(http.StatusOK, rows)
}
