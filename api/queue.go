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

// ticketView is a ticket as a counter or a resident sees it.
type ticketView struct {
	ID       string             `json:"id"`
	Number   string             `json:"number"`
	Service  string             `json:"service_id"`
	Priority domain.Priority    `json:"priority"`
	State    domain.TicketState `json:"state"`
	Counter  string             `json:"counter_id,omitempty"`
}

func viewOf(t domain.Ticket) ticketView {
	return ticketView{t.TicketID, t.Number, t.ServiceID, t.Priority, t.State, t.Counter}
}

func (s *Server) today() calendar.Date { return calendar.DateOf(s.now().In(s.loc)) }

type ticketRequest struct {
	ServiceID string          `json:"service_id"`
	Priority  domain.Priority `json:"priority"`
}

// issueTicket gives a walk-in a ticket for one of the station's services.
func (s *Server) issueTicket(c *gin.Context) {
	station := c.Param("id")
	if !ownStation(c, station) {
		return
	}
	var req ticketRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	svc, err := s.service(c, req.ServiceID)
	if err != nil {
		problem(c, err)
		return
	}
	t, res, err := s.hall.IssueTicket(c.Request.Context(), command.WalkIn{TicketID: newID(c), Station: station, Service: svc, Priority: req.Priority}, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusCreated, res, issuedOut{ID: t.ID, Number: t.Number, Position: t.Position, EstimatedWait: s.estimate(c, station, svc.ID, t.Position), follow: s.follow(t.ID)})
}

// estimate is the wait, in minutes, of a ticket for service with ahead
// tickets before it, as the command that issued it counted them in the
// call order; the day's view gives the service times and the counters
// open and busy. It is 0 when the view cannot be read (the ticket stands).
func (s *Server) estimate(c *gin.Context, station, service string, ahead int) int {
	day, err := s.queries.Day(c.Request.Context(), station, s.today())
	if err != nil {
		s.logger.Warn("wait estimate", "station", station, "error", err)
		return 0
	}
	return day.EstimatedWait(service, ahead, s.counters(c, station))
}

// counters maps a station's counters to the services they are configured
// for: the estimate's lines of a counter whose opening the day's view did
// not record.
func (s *Server) counters(c *gin.Context, station string) map[string][]string {
	st, _, err := s.queries.Station(c.Request.Context(), station)
	out := map[string][]string{}
	if err == nil {
		for _, k := range st.Counters {
			out[k.ID] = k.ServiceIDs
		}
	}
	return out
}

type servingRow struct {
	Counter string                  `json:"counter_id"`
	Ticket  *projections.TicketView `json:"ticket"`
}

func (s *Server) queue(c *gin.Context) {
	station := c.Param("id")
	if !ownStation(c, station) {
		return
	}
	day, err := s.queries.Day(c.Request.Context(), station, s.today())
	if err != nil {
		problem(c, err)
		return
	}
	counters := s.counters(c, station)
	// Each waiting ticket with its place among its service's tickets and
	// the wait that place gives; per service, the wait of a new ticket.
	waiting := []waitingRow{}
	places, waits := map[string]int{}, map[string]int{}
	for _, t := range day.Waiting() {
		ahead := places[t.Service]
		places[t.Service]++
		waiting = append(waiting, waitingRow{t, ahead, day.EstimatedWait(t.Service, ahead, counters)})
	}
	for service, n := range places {
		waits[service] = day.EstimatedWait(service, n, counters)
	}
	parked := day.Parked()
	if parked == nil {
		parked = []*projections.TicketView{}
	}
	serving := []servingRow{}
	for counter, t := range day.Serving() {
		serving = append(serving, servingRow{counter, t})
	}
	// Each counter's state (open, paused, closed; absent before it opens)
	// and the service lines it was opened for.
	c.JSON(http.StatusOK, gin.H{"date": day.Date, "waiting": waiting, "parked": parked, "serving": serving, "estimated_wait_minutes": waits, "stats": day.Stats,
		"counters": day.Counters, "lines": day.Lines})
}

// waitingRow is a waiting ticket with the tickets of its service before it
// and the wait they give.
type waitingRow struct {
	*projections.TicketView
	Ahead         int `json:"ahead"`
	EstimatedWait int `json:"estimated_wait_minutes"`
}

// atCounter answers a counter's step of type S at the staff's own station,
// with the ticket it concerns, or 204 when there is none.
func atCounter[S command.CounterStep](s *Server) gin.HandlerFunc {
	return func(c *gin.Context) {
		var step S
		if raw, err := readBody(c); err != nil {
			problem(c, err)
			return
		} else if len(raw) > 0 {
			if err := decodeStrict(raw, &step); err != nil {
				problem(c, err)
				return
			}
		}
		ticket, found, res, err := s.hall.AtCounter(c.Request.Context(), who(c).Station, c.Param("id"), step, s.meta(c))
		if err != nil {
			problem(c, err)
			return
		}
		if !found {
			c.Header("X-Position", fmt.Sprint(res.Position))
			c.Status(http.StatusNoContent)
			return
		}
		t := viewOf(ticket)
		if len(res.Events) > 0 { // the state after the event, as the response shows it
			t.State, t.Counter = stateAfter(res.Events[0], t)
		}
		written(c, http.StatusOK, res, counterOut{t})
	}
}

func stateAfter(e domain.Event, t ticketView) (domain.TicketState, string) {
	switch e := e.(type) {
	case domain.TicketCalled:
		return domain.Called, e.CounterID
	case domain.ServiceStarted, domain.TicketResumed:
		return domain.Serving, t.Counter
	case domain.TicketCompleted:
		return domain.Done, t.Counter
	case domain.TicketNoShow:
		return domain.Skipped, t.Counter
	case domain.TicketParked:
		return domain.Parked, t.Counter
	case domain.TicketTransferred:
		return domain.Waiting, ""
	}
	return t.State, t.Counter
}
