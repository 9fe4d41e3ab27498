package api

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
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
	if err := domain.CheckID("station_id", req.StationID); err != nil { // before comparing it with the caller's
		problem(c, err)
		return
	}
	w := who(c)
	switch {
	case w.Role == domain.RoleResident && req.Channel != "online":
		problem(c, invalid("channel", "residents apply online (群众只能网上申请)"))
		return
	case w.Role != domain.RoleResident && !ownStation(c, req.StationID):
		return
	}
	svc, err := s.service(c, req.ServiceID)
	if err != nil {
		problem(c, err)
		return
	}
	owner := s.residentID(req.Applicant.Phone)
	if w.Role == domain.RoleResident {
		owner = w.ID
	}
	id := newID(c)
	res, err := s.hall.Submit(c.Request.Context(), command.Submission{ID: id, StationID: req.StationID, Channel: req.Channel, TicketID: req.TicketID,
		Applicant: req.Applicant, Owner: owner, Service: svc}, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusCreated, res, applicationStatus{ID: id, Status: domain.Submitted})
}

// onApplication takes a step of type S on an application the caller may
// act on (its owner, the staff of its station, managers and admin; others
// are told it does not exist).
func onApplication[S command.ApplicationStep](s *Server, prepare func(*gin.Context, *S)) gin.HandlerFunc {
	return func(c *gin.Context) {
		var step S
		if raw, err := readBody(c); err != nil {
			problem(c, err)
			return
		} else if len(raw) > 0 { // every field optional: the decision says what is missing
			if err := decodeStrict(raw, &step); err != nil {
				problem(c, err)
				return
			}
		}
		if prepare != nil {
			prepare(c, &step)
		}
		cal, err := s.calendar(c)
		if err != nil {
			problem(c, err)
			return
		}
		after, res, err := s.hall.OnApplication(c.Request.Context(), c.Param("id"), step, who(c).reaches, cal, s.meta(c))
		if err != nil {
			problem(c, err)
			return
		}
		written(c, http.StatusOK, res, applicationStatus{ID: c.Param("id"), Status: after.Status, Deadline: after.Deadline})
	}
}

// application answers the contract's view of an application.
func (s *Server) application(c *gin.Context) {
	a, ok, err := s.queries.Application(c.Request.Context(), c.Param("id"))
	w := who(c)
	if err == nil && (!ok || !w.reaches(a.Owner, a.Station)) {
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
	if r, ok, err := s.ratingOf(c, projections.RatedApplication, a.ID); err != nil {
		problem(c, err)
		return
	} else if ok {
		out["rating"] = r // ratings.go
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) myApplications(c *gin.Context) {
	apps, err := s.queries.ApplicationsOf(c.Request.Context(), who(c).ID)
	if err != nil {
		problem(c, err)
		return
	}
	out := []applicationOut{}
	for _, a := range apps {
		out = append(out, applicationOut{a, s.person(c, a.Owner, a.Applicant)})
	}
	c.JSON(http.StatusOK, out)
}
