package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/projections"
)

func (s *Server) services(c *gin.Context) {
	svcs, err := s.queries.Services(c.Request.Context())
	if err != nil {
		problem(c, err)
		return
	}
	if svcs == nil {
		svcs = []domain.Service{}
	}
	c.JSON(http.StatusOK, svcs)
}

func (s *Server) stations(c *gin.Context) {
	sts, err := s.queries.Stations(c.Request.Context())
	if err != nil {
		problem(c, err)
		return
	}
	if sts == nil {
		sts = []projections.StationView{}
	}
	c.JSON(http.StatusOK, sts)
}

func (s *Server) station(c *gin.Context) {
	st, ok, err := s.queries.Station(c.Request.Context(), c.Param("id"))
	if err == nil && !ok {
		err = fmt.Errorf("%w: station %q (派出所不存在)", domain.ErrNotFound, c.Param("id"))
	}
	if err != nil {
		problem(c, err)
		return
	}
	c.JSON(http.StatusOK, stationOut{st, s.hall.Policy().Notes()})
}

type slotRow struct {
	Date      calendar.Date `json:"date"`
	Start     domain.Clock  `json:"start"`
	End       domain.Clock  `json:"end"`
	Capacity  int           `json:"capacity"`
	Booked    int           `json:"booked"`
	Available int           `json:"available"`
}

func (s *Server) availability(c *gin.Context) {
	ctx := c.Request.Context()
	service := c.Query("service_id")
	if service == "" {
		problem(c, invalid("service_id", "required (必填)"))
		return
	}
	from, to, err := span(c)
	if err != nil {
		problem(c, err)
		return
	}
	if _, ok, err := s.queries.Station(ctx, c.Param("id")); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("%w: station %q (派出所不存在)", domain.ErrNotFound, c.Param("id"))
		}
		problem(c, err)
		return
	}
	slots, err := s.queries.FreeSlots(ctx, c.Param("id"), service, from, to)
	if err != nil {
		problem(c, err)
		return
	}
	now := s.now()
	out := make([]slotRow, 0, len(slots))
	for _, sl := range slots {
		if sl.Closed != "" || !now.Before(sl.End.On(sl.Date, s.loc)) {
			continue // closed or over: never offered
		}
		// Capacity is what residents can book: walk-in places are not offered.
		out = append(out, slotRow{sl.Date, sl.Start, sl.End, sl.Capacity - sl.WalkIn, sl.Booked, sl.Available(now)})
	}
	c.JSON(http.StatusOK, out)
}

type dayRow struct {
	Date    calendar.Date `json:"date"`
	Working bool          `json:"working"`
	Reason  string        `json:"reason"`
	Name    string        `json:"name,omitempty"`
}

func (s *Server) workingDays(c *gin.Context) {
	from, to, err := span(c)
	if err != nil {
		problem(c, err)
		return
	}
	cal, err := s.queries.Calendar(c.Request.Context())
	if err != nil {
		problem(c, err)
		return
	}
	days := []dayRow{}
	for d := from; !d.After(to); d = d.AddDays(1) {
		w, reason, name := cal.Describe(d)
		days = append(days, dayRow{d, w, reason, name})
	}
	c.JSON(http.StatusOK, gin.H{"days": days})
}

func (s *Server) deadline(c *gin.Context) {
	accepted, err := date(c, "accepted")
	if err != nil {
		problem(c, err)
		return
	}
	n, err := strconv.Atoi(c.Query("working_days"))
	if err != nil || n < 0 || n > 365 {
		problem(c, invalid("working_days", "a whole number from 0 to 365 (应为0-365的整数)"))
		return
	}
	cal, err := s.queries.Calendar(c.Request.Context())
	if err != nil {
		problem(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"deadline": cal.AddWorkingDays(accepted, n)})
}
