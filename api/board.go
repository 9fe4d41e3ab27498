package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/servicehall/servicehall/domain"
)

// board streams a station's calls to the hall display as Server-Sent
// Events: each call once, as the queue view learns of it, and the number
// waiting per service after each change, with a comment
// line every 15 seconds to keep proxies from closing the stream. It shows
// numbers and counters only, so it needs no login.
func (s *Server) board(c *gin.Context) {
	station := c.Param("id")
	ctx, cancel := context.WithCancel(c.Request.Context())
	defer cancel()
	defer context.AfterFunc(s.life, cancel)() // Close ends the stream
	if _, ok, err := s.queries.Station(ctx, station); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("%w: station %q (派出所不存在)", domain.ErrNotFound, station)
		}
		problem(c, err)
		return
	}
	// The server's write timeout is for ordinary answers; a display stays.
	if err := http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{}); err != nil {
		s.logger.Warn("board: the stream keeps the write timeout", "error", err)
	}
	c.Header("Content-Type", "text/event-stream")
	c.Header("Cache-Control", "no-cache")
	c.Header("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	c.Writer.Flush()

	sent := -1 // the sequence of the last call shown; -1: show the day's latest first
	day := s.today()
	for {
		d, err := s.queries.Day(ctx, station, day)
		if err != nil {
			return
		}
		for _, call := range d.Calls {
			if call.Seq > sent {
				c.SSEvent("call", call)
			}
		}
		waiting := map[string]int{}
		for _, t := range d.Waiting() {
			waiting[t.Service]++
		}
		c.SSEvent("waiting", waiting)
		sent = d.CallSeq
		c.Writer.Flush()
		pos := s.views.Position("queue")
		wait, cancel := context.WithTimeout(ctx, 15*time.Second)
		err = s.views.WaitFor(wait, "queue", pos+1)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil { // fifteen quiet seconds
			fmt.Fprint(c.Writer, ": keep-alive\n\n")
		}
		if today := s.today(); today != day { // a new day, a new queue
			day, sent = today, 0
		}
	}
}
