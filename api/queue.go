package api

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/servicehall/servicehall/app"
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

// ownStation admits the staff of the station in the path, and managers and
// admin; anyone else is told it does not exist.
func ownStation(c *gin.Context, station string) bool {
	if w := who(c); w.Role == domain.RoleStaff && w.Station != station {
		problem(c, fmt.Errorf("%w: station %q (派出所不存在)", domain.ErrNotFound, station))
		return false
	}
	return true
}

func (s *Server) today() calendar.Date { return calendar.DateOf(s.now().In(s.loc)) }

func (s *Server) queueStream(station string) string {
	return domain.QueueStream(station, s.today())
}

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
	var t app.Ticket
	id := newID(c)
	res, err := app.Execute(c.Request.Context(), s.h, s.queueStream(station), s.meta(c), func(q *domain.Queue) ([]domain.Event, error) {
		evs, err := q.Issue(id, svc.ID, svc.Prefix(), req.Priority, "", false, s.now())
		if err == nil && len(evs) > 0 {
			issued := evs[0].(domain.TicketIssued)
			t = app.Ticket{ID: id, Number: issued.Number, Position: q.Ahead(svc.ID, issued.Priority, false)}
		}
		return evs, err
	})
	if err != nil {
		problem(c, err)
		return
	}
	day, err := projections.DayOf(c.Request.Context(), s.views, station, s.today())
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusCreated, res, issuedOut{ID: t.ID, Number: t.Number, Position: t.Position,
		EstimatedWait: day.EstimatedWait(svc.ID, openFor(day, svc.ID, s.counters(c, station)))})
}

// counters maps a station's counters to the services they may serve.
func (s *Server) counters(c *gin.Context, station string) map[string][]string {
	st, _, err := projections.StationOf(c.Request.Context(), s.views, station)
	out := map[string][]string{}
	if err == nil {
		for _, k := range st.Counters {
			out[k.ID] = k.ServiceIDs
		}
	}
	return out
}

// openFor counts the open counters that serve a service.
func openFor(d projections.DayView, service string, counters map[string][]string) int {
	n := 0
	for id, state := range d.Counters {
		for _, sv := range counters[id] {
			if state == domain.Open && sv == service {
				n++
			}
		}
	}
	return n
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
	day, err := projections.DayOf(c.Request.Context(), s.views, station, s.today())
	if err != nil {
		problem(c, err)
		return
	}
	waiting := day.Waiting()
	if waiting == nil {
		waiting = []*projections.TicketView{}
	}
	serving := []servingRow{}
	for counter, t := range day.Serving() {
		serving = append(serving, servingRow{counter, t})
	}
	counters := s.counters(c, station)
	waits := map[string]int{}
	for _, t := range waiting {
		if _, done := waits[t.Service]; !done {
			waits[t.Service] = day.EstimatedWait(t.Service, openFor(day, t.Service, counters))
		}
	}
	c.JSON(http.StatusOK, gin.H{"date": day.Date, "waiting": waiting, "serving": serving, "estimated_wait_minutes": waits, "stats": day.Stats})
}

// counterAction runs one counter command for the staff's own station and
// answers with the ticket it concerns.
func (s *Server) counterAction(decide func(body binder, q *domain.Queue, counter string, at time.Time) ([]domain.Event, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		w := who(c)
		counter := c.Param("id")
		// The station from the handler's cache: read once, not at every call;
		// a counter missing from it is looked for again in the log.
		if _, err := app.Execute(c.Request.Context(), s.h, domain.StationStream(w.Station), s.meta(c), func(st *domain.Station) ([]domain.Event, error) {
			if _, ok := st.Counter(counter); !ok {
				return nil, fmt.Errorf("%w: counter %q at your station (本所无此窗口)", domain.ErrNotFound, counter)
			}
			return nil, nil
		}); err != nil {
			problem(c, err)
			return
		}
		raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20))
		if err != nil {
			problem(c, invalid("body", "larger than 1 MiB (请求体过大)"))
			return
		}
		// A decision may run again after a conflict: it decodes the body
		// from these bytes each time.
		body := func(v any) error { return decodeStrict(raw, v) }
		var ticket domain.Ticket
		var found bool
		res, err := app.Execute(c.Request.Context(), s.h, s.queueStream(w.Station), s.meta(c), func(q *domain.Queue) ([]domain.Event, error) {
			evs, err := decide(body, q, counter, s.now())
			if err == nil {
				ticket, found = concerned(q, counter, evs)
			}
			return evs, err
		})
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

// concerned finds (a copy of) the ticket a counter command is about.
func concerned(q *domain.Queue, counter string, evs []domain.Event) (domain.Ticket, bool) {
	for _, e := range evs {
		switch e := e.(type) {
		case domain.TicketCalled:
			return q.Ticket(e.TicketID)
		case domain.TicketResumed:
			return q.Ticket(e.TicketID)
		}
	}
	if k, ok := q.Counter(counter); ok && k.Current != "" {
		return q.Ticket(k.Current)
	}
	return domain.Ticket{}, false
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

// counterStep is a counter action whose decision takes a body of type B
// (noBody for none).
func counterStep[B any](s *Server, decide func(b B, q *domain.Queue, counter string, at time.Time) ([]domain.Event, error)) gin.HandlerFunc {
	return s.counterAction(func(body binder, q *domain.Queue, counter string, at time.Time) ([]domain.Event, error) {
		var b B
		if _, none := any(b).(noBody); !none {
			if err := body(&b); err != nil {
				return nil, err
			}
		}
		return decide(b, q, counter, at)
	})
}

// binder decodes a request body into v.
type binder func(v any) error
