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
	if req.TicketID != "" {
		// The ticket the applicant came in on: one of this station's, or the
		// figures by counter would file the case under another's.
		p, ok, err := s.queries.TicketPlace(c.Request.Context(), req.TicketID)
		if err == nil && (!ok || p.Station != req.StationID) {
			err = invalid("ticket_id", "not a ticket of this station (非本所号票)")
		}
		if err != nil {
			problem(c, err)
			return
		}
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

// application answers the contract's view of an application; with as_of,
// as it stood then, read from its stream, its deadline counted on that day.
func (s *Server) application(c *gin.Context) {
	ctx := c.Request.Context()
	a, ok, err := s.queries.Application(ctx, c.Param("id"))
	w := who(c)
	if err == nil && (!ok || !w.reaches(a.Owner, a.Station)) {
		err = fmt.Errorf("%w: application (申请不存在)", domain.ErrNotFound)
	}
	if err != nil {
		problem(c, err)
		return
	}
	today := s.today()
	end, day, past, err := s.asOf(c)
	if err == nil && past {
		var then projections.AppView
		then, ok, err = s.queries.ApplicationAsOf(ctx, a.ID, end)
		if err == nil && !ok {
			err = fmt.Errorf("%w: application not yet submitted then (当时申请尚未提交)", domain.ErrNotFound)
		}
		// The applicant as the live view shows them now: an erasure since
		// holds for the past too.
		then.Applicant, then.Owner = a.Applicant, a.Owner
		a, today = then, day
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
	out := gin.H{"id": a.ID, "status": a.Status, "station_id": a.Station, "service_id": a.Service, "channel": a.Channel, "escalation_level": a.Escalation,
		"history": a.History, "applicant": s.person(c, a.Owner, a.Applicant), "time_limit_unit": a.Unit}
	if !a.Deadline.IsZero() {
		_, left := a.SLA(today, cal, s.escalation)
		out["deadline"], out["working_days_left"] = a.Deadline, left
	}
	// The decisions' texts: what is missing (一次性告知), why refused, why
	// extended, where to collect.
	for k, v := range map[string]string{"reason": a.Reason, "basis": a.Basis, "note": a.Note, "collect_at": a.Where} {
		if v != "" {
			out[k] = v
		}
	}
	for k, v := range map[string]calendar.Date{"legal_deadline": a.Legal, "accept_by": a.AcceptBy, "collected": a.Collected} {
		if !v.IsZero() {
			out[k] = v
		}
	}
	if len(a.Missing) > 0 {
		out["missing"] = a.Missing
	}
	if len(a.Asked) > 0 {
		out["asked_for"] = a.Asked // the notice printed again, once they came
	}
	if len(a.Extensions) > 0 {
		out["extensions"] = a.Extensions
	}
	out["ready_for_collection"] = a.Ready
	for k, v := range map[string]calendar.Date{"accepted": a.Accepted, "completed": a.Completed} {
		if !v.IsZero() {
			out[k] = v // the dates a receipt and a decision carry
		}
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
	cal, err := s.calendar(c)
	if err != nil {
		problem(c, err)
		return
	}
	out := []applicationOut{}
	for _, a := range apps {
		o := applicationOut{AppView: a, Applicant: s.person(c, a.Owner, a.Applicant)}
		if a.Status == domain.Accepted {
			_, left := a.SLA(s.today(), cal, s.escalation)
			o.DaysLeft = &left
		}
		out = append(out, o)
	}
	c.JSON(http.StatusOK, out)
}

type worklistQuery struct {
	StationID string `query:"station_id" description:"the caller's station when left out"`
	State     string `query:"state" description:"submitted (待受理), accepted, supplement (待补正), warning (临期), overdue (逾期), approved (待办结), ready (待领取) or completed (办结)"`
}

// worklistRow is an application on the desk's worklist.
type worklistRow struct {
	ID        string                  `json:"id"`
	ServiceID string                  `json:"service_id"`
	Channel   string                  `json:"channel"`
	Status    domain.ApplicationState `json:"status"`
	Due       calendar.Date           `json:"due,omitzero" description:"the deadline, or an online application's promised acceptance"`
	DaysLeft  int                     `json:"days_left" description:"in unit"`
	Unit      calendar.Unit           `json:"time_limit_unit"`
	SLA       string                  `json:"sla,omitempty"`
	Missing   []string                `json:"missing,omitempty"`
	Applicant personOut               `json:"applicant"`
}

// worklist is the desk's list of a station's applications in one state.
func (s *Server) worklist(c *gin.Context) {
	station, ok := scope(c, true)
	if !ok {
		return
	}
	state := c.Query("state")
	if state == "" {
		problem(c, invalid("state", "required: submitted, accepted, supplement, warning, overdue or completed (必填)"))
		return
	}
	cal, err := s.queries.Calendar(c.Request.Context())
	if err != nil {
		problem(c, err)
		return
	}
	today := s.today()
	apps, err := s.queries.Worklist(c.Request.Context(), station, state, today, cal, s.escalation)
	if err != nil {
		problem(c, err)
		return
	}
	out := []worklistRow{}
	for _, a := range apps {
		r := worklistRow{ID: a.ID, ServiceID: a.Service, Channel: a.Channel, Status: a.Status, Due: a.Due(), Missing: a.Missing,
			Applicant: s.person(c, a.Owner, a.Applicant), Unit: a.Unit}
		if a.Status == domain.Submitted {
			r.Unit = calendar.WorkingDays // the promised acceptance counts working days
		}
		if a.Open() {
			r.SLA, r.DaysLeft = a.SLA(today, cal, s.escalation)
		}
		out = append(out, r)
	}
	c.JSON(http.StatusOK, out)
}
