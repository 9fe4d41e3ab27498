package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/projections"
)

// The admin console's reads: the logins, a preview of hours, the
// configuration's history.

// userList lists the logins, without passwords (the config view).
func (s *Server) userList(c *gin.Context) {
	us, err := s.queries.Users(c.Request.Context())
	if err != nil {
		problem(c, err)
		return
	}
	if us == nil {
		us = []projections.UserView{}
	}
	c.JSON(http.StatusOK, us)
}

// previewRequest is hours as PUT .../hours takes them, and the days to
// preview.
type previewRequest struct {
	command.Hours
	From string `json:"from" format:"date" required:"true"`
	To   string `json:"to" format:"date" required:"true" description:"at most 31 days after from"`
}

// previewHours answers the slots the hours would release on each day,
// from the station's own rules, writing nothing.
func (s *Server) previewHours(c *gin.Context) {
	var req previewRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	from, err := calendar.ParseDate(req.From)
	if err != nil {
		problem(c, invalid("from", err.Error()))
		return
	}
	to, err := calendar.ParseDate(req.To)
	if err != nil {
		problem(c, invalid("to", err.Error()))
		return
	}
	if to.Before(from) || from.DaysUntil(to) > 31 {
		problem(c, invalid("to", "on or after from, at most 31 days later (结束日期应不早于开始日期，且不超过31天)"))
		return
	}
	days, err := s.hall.PreviewHours(c.Request.Context(), c.Param("id"), req.Hours, from, to, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"days": days})
}

type historyQuery struct {
	Limit int `query:"limit" description:"at most this many changes, the latest first (default 200, at most 1000)"`
}

// configHistory lists the configuration's changes, the latest first: who
// changed what, and when.
func (s *Server) configHistory(c *gin.Context) {
	limit := 200
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			problem(c, invalid("limit", "a whole number from 1 to 1000 (应为1-1000的整数)"))
			return
		}
		limit = n
	}
	out, err := s.queries.ConfigHistory(c.Request.Context(), limit)
	if err != nil {
		problem(c, err)
		return
	}
	if out == nil {
		out = []projections.Entry{}
	}
	c.JSON(http.StatusOK, out)
}

type previewOut struct {
	Days []command.PreviewDay `json:"days"`
}
