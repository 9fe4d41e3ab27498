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

type applyRequest struct {
	StationID string           `json:"station_id"`
	ServiceID string           `json:"service_id"`
	Applicant domain.Applicant `json:"applicant"`
	Channel   string           `json:"channel"`
	TicketID  string           `json:"ticket_id"`
}

// apply opens an application: online by the resident, or at the counter
// by the station's staff.
func (s *Server) apply(c *gin.Context) {
	var req applyRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	if err := domain.CheckID("station_id", req.StationID); err != nil {
		problem(c, err)
		return
	}
	w := who(c)
	switch {
	case w.Role == domain.RoleResident && req.Channel != "online":
		problem(c, invalid("channel", "residents apply online (群众只能网上申请)"))
		return
	case w.Role == domain.RoleStaff && w.Station != req.StationID:
		write(c, Problem{Type: "/problems/forbidden", Title: "Not your station (非本所业务)", Status: http.StatusForbidden})
		return
	}
	checked, err := req.Applicant.Check(s.now().In(s.loc))
	if err != nil {
		problem(c, err)
		return
	}
	if st, _, err := command.Load[domain.Station](c.Request.Context(), s.h.Store(), domain.StationStream(req.StationID)); err != nil || !st.Registered() {
		if err == nil {
			err = invalid("station_id", "unknown station (派出所不存在)")
		}
		problem(c, err)
		return
	}
	svc, err := s.service(c, req.ServiceID)
	if err != nil {
		problem(c, err)
		return
	}
	owner := s.residentID(checked.Phone)
	if w.Role == domain.RoleResident {
		owner = w.ID
	}
	id := newID(c)
	person, err := s.hall.Person(checked)
	if err != nil {
		problem(c, err)
		return
	}
	res, err := command.Execute(c.Request.Context(), s.h, domain.ApplicationStream(id), s.meta(c), func(a *domain.Application) ([]domain.Event, error) {
		return a.Submit(domain.ApplicationSubmitted{ID: id, StationID: req.StationID, Channel: req.Channel, TicketID: req.TicketID,
			Applicant: person, Owner: owner}, svc)
	})
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusCreated, res, applicationStatus{ID: id, Status: domain.Submitted})
}

// onApplication loads an application the caller may act on (its owner, the
// staff of its station, managers and admin; others are told it does not
// exist) and appends what decide makes of it.
func (s *Server) onApplication(decide func(c *gin.Context, a *domain.Application, by string, today calendar.Date, cal *calendar.Calendar) ([]domain.Event, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		stream := domain.ApplicationStream(c.Param("id"))
		a, _, err := command.Load[domain.Application](ctx, s.h.Store(), stream)
		w := who(c)
		if err == nil && (!a.Exists() || !mayAccess(w, a.Owner, a.StationID)) {
			err = fmt.Errorf("%w: application (申请不存在)", domain.ErrNotFound)
		}
		if err != nil {
			problem(c, err)
			return
		}
		cal, err := s.calendar(c)
		if err != nil {
			problem(c, err)
			return
		}
		raw, err := readBody(c)
		if err != nil {
			problem(c, err)
			return
		}
		c.Set("body", raw)
		today := s.today()
		var after domain.Application // the state decided on, then its events: the answer
		res, err := command.Execute(ctx, s.h, stream, s.meta(c), func(a *domain.Application) ([]domain.Event, error) {
			after = *a
			return decide(c, a, w.ID, today, cal)
		})
		if err != nil {
			problem(c, err)
			return
		}
		for _, e := range res.Events {
			after.Apply(e)
		}
		written(c, http.StatusOK, res, applicationStatus{ID: c.Param("id"), Status: after.Status, Deadline: after.Deadline})
	}
}

// body decodes the request body the handler read before deciding.
func body(c *gin.Context, v any) error {
	raw, _ := c.Get("body")
	b, _ := raw.([]byte)
	if len(b) == 0 {
		return nil // every field optional: the decision says what is missing
	}
	return decodeStrict(b, v)
}

// applicationStep is an application command whose decision takes a body
// of type B (noBody for none).
func applicationStep[B any](s *Server, decide func(b B, a *domain.Application, by string, today calendar.Date, cal *calendar.Calendar) ([]domain.Event, error)) gin.HandlerFunc {
	return s.onApplication(func(c *gin.Context, a *domain.Application, by string, today calendar.Date, cal *calendar.Calendar) ([]domain.Event, error) {
		var b B
		if _, none := any(b).(noBody); !none {
			if err := body(c, &b); err != nil {
				return nil, err
			}
		}
		return decide(b, a, by, today, cal)
	})
}

// application answers the contract's view of an application.
func (s *Server) application(c *gin.Context) {
	a, ok, err := projections.ApplicationOf(c.Request.Context(), s.views, c.Param("id"))
	w := who(c)
	if err == nil && (!ok || !mayAccess(w, a.Owner, a.Station)) {
		err = fmt.Errorf("%w: application (申请不存在)", domain.ErrNotFound)
	}
	if err != nil {
		problem(c, err)
		return
	}
	cal, err := s.calendar(c)
	if err != nil {
		problem(c, err)
		return
	}
	out := gin.H{"id": a.ID, "status": a.Status, "station_id": a.Station, "service_id": a.Service, "escalation_level": a.Escalation,
		"history": a.History, "applicant": s.person(c, a.Owner, a.Applicant)}
	if !a.Deadline.IsZero() {
		_, left := a.SLA(s.today(), cal, s.escalation)
		out["deadline"], out["working_days_left"] = a.Deadline, left
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) myApplications(c *gin.Context) {
	ids, err := projections.Scan[string](c.Request.Context(), s.views.Store(), s.views.NS("applications", "by-resident"), who(c).ID+"/", projections.PrefixEnd(who(c).ID+"/"))
	if err != nil {
		problem(c, err)
		return
	}
	out := []applicationOut{}
	for _, id := range ids {
		if a, ok, err := projections.ApplicationOf(c.Request.Context(), s.views, id); err == nil && ok {
			out = append(out, applicationOut{a, s.person(c, a.Owner, a.Applicant)})
		}
	}
	c.JSON(http.StatusOK, out)
}
