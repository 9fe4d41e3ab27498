package api

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/projections"
)

// boardsPerClient is how many board streams one address may hold open: a
// hall has a few displays behind one address, not hundreds.
const boardsPerClient = 16

// board streams a station's calls to the hall display as Server-Sent
// Events: each call once, as the queue view learns of it ("call"), and
// after each change the number waiting per service ("waiting") and what
// each counter serves with the missed tickets ("hall", projections.Hall),
// with a comment line every 15 seconds to keep proxies from closing the
// stream. It shows numbers and
// counters only, so it needs no login. However many displays watch a
// station, one reader follows its queue (boards).
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
	days, leave, ok := s.boards.join(s, station, c.ClientIP())
	if !ok {
		tooMany(c, 15*time.Second)
		return
	}
	defer leave()
	// The server's write timeout is for ordinary answers; a display stays.
	if err := http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{}); err != nil {
		s.logger.Warn("board: the stream keeps the write timeout", "error", err)
	}
	c.Header("Content-Type", "text/event-stream")
	c.Header("Cache-Control", "no-cache")
	c.Header("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	c.Writer.Flush()

	sent, day := -1, "" // the last call shown; -1: the day's calls so far
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-days:
			if d.Date != day { // a new day, a new queue
				day, sent = d.Date, -1
			}
			for _, call := range d.Calls {
				if call.Seq > sent {
					c.SSEvent("call", call)
				}
			}
			// Parked tickets are still to be served: they count.
			waiting := map[string]int{}
			for _, t := range append(d.Waiting(), d.Parked()...) {
				waiting[t.Service]++
			}
			c.SSEvent("waiting", waiting)
			c.SSEvent("hall", d.Hall())
			sent = d.CallSeq
			c.Writer.Flush()
		case <-time.After(15 * time.Second):
			fmt.Fprint(c.Writer, ": keep-alive\n\n")
			c.Writer.Flush()
		}
	}
}

// boards runs one reader per watched station and hands each change of its
// day to every display watching it.
type boards struct {
	mu       sync.Mutex
	stations map[string]*stationBoard
	clients  map[string]int // open streams by address
}

type stationBoard struct {
	displays map[chan projections.DayView]bool
	stop     context.CancelFunc
}

// join adds a display of station for client, unless the client holds too
// many; the channel carries the day as it changes (only the latest, should
// a display fall behind). leave ends the display, and the reader with the
// last one.
func (b *boards) join(s *Server, station, client string) (<-chan projections.DayView, func(), bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.clients == nil {
		b.stations, b.clients = map[string]*stationBoard{}, map[string]int{}
	}
	if b.clients[client] >= boardsPerClient {
		return nil, nil, false
	}
	b.clients[client]++
	sb := b.stations[station]
	if sb == nil {
		ctx, stop := context.WithCancel(s.life)
		sb = &stationBoard{displays: map[chan projections.DayView]bool{}, stop: stop}
		b.stations[station] = sb
		go b.follow(ctx, s, station, sb)
	}
	ch := make(chan projections.DayView, 1)
	sb.displays[ch] = true
	if len(sb.displays) > 1 { // the reader has read the day already: show it now
		go b.nudge(s, station)
	}
	leave := func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(sb.displays, ch)
		if len(sb.displays) == 0 {
			sb.stop()
			delete(b.stations, station)
		}
		if b.clients[client]--; b.clients[client] == 0 {
			delete(b.clients, client)
		}
	}
	return ch, leave, true
}

// nudge hands a new display the station's day at once.
func (b *boards) nudge(s *Server, station string) {
	d, err := s.queries.Day(s.life, station, s.today())
	if err == nil {
		b.publish(station, d)
	}
}

// follow reads the station's day, then again each time the queue view
// moves, and publishes it, until no display is left.
func (b *boards) follow(ctx context.Context, s *Server, station string, sb *stationBoard) {
	for ctx.Err() == nil {
		pos := s.views.Position("queue")
		d, err := s.queries.Day(ctx, station, s.today())
		if err != nil {
			if ctx.Err() == nil {
				s.logger.Warn("board", "station", station, "error", err)
			}
			return
		}
		b.publish(station, d)
		wait, cancel := context.WithTimeout(ctx, 15*time.Second)
		s.views.WaitFor(wait, "queue", pos+1)
		cancel()
	}
}

func (b *boards) publish(station string, d projections.DayView) {
	b.mu.Lock()
	defer b.mu.Unlock()
	sb := b.stations[station]
	if sb == nil {
		return
	}
	for ch := range sb.displays {
		select { // replace what a slow display has not taken yet
		case <-ch:
		default:
		}
		ch <- d
	}
}

// counts are the open streams and the readers behind them, for /metrics.
func (b *boards) counts() (streams, readers int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, sb := range b.stations {
		streams += len(sb.displays)
	}
	return streams, len(b.stations)
}
