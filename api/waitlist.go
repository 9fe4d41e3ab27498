package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
)

type waitlistOut struct {
	StationID string        `json:"station_id"`
	ServiceID string        `json:"service_id"`
	Date      calendar.Date `json:"date"`
	Start     domain.Clock  `json:"start"`
	Status    string        `json:"status" description:"waiting: a freed place is held for the first person waiting and they are told by text"`
}

// joinWaitlist puts a resident on a full slot's waitlist (候补).
func (s *Server) joinWaitlist(c *gin.Context) {
	var req bookRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	d, start, err := slotOf(req.Date, req.Start)
	if err != nil {
		problem(c, err)
		return
	}
	if who(c).Role != domain.RoleResident && !ownStation(c, req.StationID) {
		return
	}
	res, err := s.hall.JoinWaitlist(c.Request.Context(), command.Booking{StationID: req.StationID, ServiceID: req.ServiceID,
		Date: d, Start: start, Resident: req.Resident}, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusCreated, res, waitlistOut{req.StationID, req.ServiceID, d, start, "waiting"})
}
