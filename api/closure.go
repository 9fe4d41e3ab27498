package api

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
)

type closureRequest struct {
	Date   calendar.Date `json:"date"`
	From   *domain.Clock `json:"from,omitempty" description:"HH:MM; the day's start when left out"`
	To     *domain.Clock `json:"to,omitempty" description:"HH:MM; the day's end when left out"`
	Reason string        `json:"reason"`
}

type closureOut struct {
	Date      calendar.Date `json:"date"`
	Slots     int           `json:"slots_closed"`
	Cancelled []string      `json:"cancelled"`
}

// closeSlots closes a station's released slots on a day, or part of it
// (临时闭厅): each slot with its bookings cancelled in one write, the
// residents sent notice by the send-notices job.
func (s *Server) closeSlots(c *gin.Context) {
	station := c.Param("id")
	if !ownStation(c, station) {
		return
	}
	var req closureRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	from, to := domain.Clock(0), domain.Clock(24*60)
	if req.From != nil {
		from = *req.From
	}
	if req.To != nil {
		to = *req.To
	}
	switch {
	case req.Date.IsZero():
		problem(c, invalid("date", "a date is required (请选择日期)"))
		return
	case req.Date.Before(s.today()):
		problem(c, invalid("date", "the day is over (该日期已过)"))
		return
	case to <= from:
		problem(c, invalid("to", "the end must come after the start (结束时间须晚于开始时间)"))
		return
	}
	if err := domain.CheckReason(req.Reason); err != nil { // also when no slot is open that day
		problem(c, err)
		return
	}
	ctx := c.Request.Context()
	if _, ok, err := s.queries.Station(ctx, station); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("%w: station %q (派出所不存在)", domain.ErrNotFound, station)
		}
		problem(c, err)
		return
	}
	services, err := s.hall.Catalogue(ctx)
	if err != nil {
		problem(c, err)
		return
	}
	out := closureOut{Date: req.Date, Cancelled: []string{}}
	var last command.Result
	for svc := range services {
		slots, err := s.queries.FreeSlots(ctx, station, svc, req.Date, req.Date)
		if err != nil {
			problem(c, err)
			return
		}
		for _, sl := range slots {
			if sl.Closed != "" || sl.End <= from || sl.Start >= to {
				continue
			}
			m := s.meta(c)
			if m.CommandID != "" { // a retry closes each slot once
				m.CommandID += "/" + domain.SlotStream(station, sl.Date, sl.Start, svc)
			}
			cancelled, res, err := s.hall.CloseSlot(ctx, station, sl.Date, sl.Start, svc, req.Reason, m)
			if err != nil {
				problem(c, err)
				return
			}
			if res.Position > last.Position {
				last = res
			}
			out.Slots++
			out.Cancelled = append(out.Cancelled, cancelled...)
		}
	}
	written(c, http.StatusOK, last, out)
}

type stopRequest struct {
	Reason string `json:"reason"`
}

// stopWalkIns ends walk-in tickets at the staff's station for the rest of
// the day; appointments still check in.
func (s *Server) stopWalkIns(c *gin.Context) {
	station := c.Param("id")
	if !ownStation(c, station) {
		return
	}
	var req stopRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	res, err := s.hall.StopWalkIns(c.Request.Context(), station, req.Reason, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusOK, res, gin.H{"walk_ins": "stopped", "reason": req.Reason})
}
