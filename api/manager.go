package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/domain/estimate"
	"github.com/servicehall/servicehall/jobs"
	"github.com/servicehall/servicehall/projections"
)

// scope is the station a manager's read is about: the station_id asked
// for, which a manager tied to a station may only leave out or set to
// their own (another station is not found).
func scope(c *gin.Context, required bool) (string, bool) {
	w, station := who(c), c.Query("station_id")
	if station == "" && w.Role != domain.RoleAdmin {
		station = w.Station
	}
	if station != "" && !ownStation(c, station) {
		return "", false
	}
	if required && station == "" {
		problem(c, invalid("station_id", "required (必填)"))
		return "", false
	}
	return station, true
}

// viewsAsOf answers from the live views, or with as_of=D from the named
// projections rebuilt in memory from the events before the end of day D.
func (s *Server) viewsAsOf(c *gin.Context, ps ...projections.Projection) (projections.Views, calendar.Date, bool) {
	today := calendar.DateOf(s.now().In(s.loc))
	if c.Query("as_of") == "" {
		return s.views, today, true
	}
	d, err := date(c, "as_of")
	if err == nil && d.After(today) {
		err = invalid("as_of", "not in the future (不能晚于今天)")
	}
	if err != nil {
		problem(c, err)
		return nil, d, false
	}
	v, err := s.queries.AsOf(c.Request.Context(), d.AddDays(1).In(s.loc), ps...)
	if err != nil {
		problem(c, err)
		return nil, d, false
	}
	return v, d, true
}

func (s *Server) completionStats(c *gin.Context) {
	station, ok := scope(c, true)
	if !ok {
		return
	}
	from, to, err := span(c)
	if err != nil {
		problem(c, err)
		return
	}
	by := c.DefaultQuery("by", "service")
	if by != "service" && by != "day" && by != "month" {
		problem(c, invalid("by", "service, day or month (应为 service、day 或 month)"))
		return
	}
	v, _, ok := s.viewsAsOf(c, projections.Completion{})
	if !ok {
		return
	}
	rows, err := s.queries.On(v).CompletionRates(c.Request.Context(), projections.CompletionQuery{Station: station, From: from, To: to, By: by, Loc: s.loc})
	if err != nil {
		problem(c, err)
		return
	}
	c.JSON(http.StatusOK, rows)
}

func (s *Server) sla(c *gin.Context) {
	station, ok := scope(c, false)
	if !ok {
		return
	}
	state := c.Query("state")
	switch state {
	case "", "on_track", "warning", "overdue", "paused":
	default:
		problem(c, invalid("state", "on_track, warning, overdue or paused (状态不正确)"))
		return
	}
	v, today, ok := s.viewsAsOf(c, projections.Applications{})
	if !ok {
		return
	}
	cal, err := s.queries.Calendar(c.Request.Context())
	if err != nil {
		problem(c, err)
		return
	}
	rows, err := s.queries.On(v).SLA(c.Request.Context(), today, cal, s.escalation, state)
	if err != nil {
		problem(c, err)
		return
	}
	out := []projections.SLARow{}
	for _, r := range rows {
		if station == "" || r.Station == station {
			out = append(out, r)
		}
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) queueStats(c *gin.Context) {
	station, ok := scope(c, true)
	if !ok {
		return
	}
	d, err := date(c, "date")
	if err != nil {
		problem(c, err)
		return
	}
	v, _, ok := s.viewsAsOf(c, projections.Queues{})
	if !ok {
		return
	}
	day, err := s.queries.On(v).Day(c.Request.Context(), station, d)
	if err != nil {
		problem(c, err)
		return
	}
	st := day.Stats
	c.JSON(http.StatusOK, gin.H{
		"station_id": station, "date": d, "tickets": st.Tickets, "served": st.Served, "no_shows": st.NoShows, "cancelled": st.Cancelled,
		"avg_wait_minutes": round1(st.Wait.Value()), "avg_service_minutes": round1(st.Service.Value()),
	})
}

// estimateStats replays the station's queue days from the log with the
// estimator the hall tells new tickets by, and sums up how far each
// ticket's estimate at issue was from its wait until the first call.
func (s *Server) estimateStats(c *gin.Context) {
	station, ok := scope(c, true)
	if !ok {
		return
	}
	from, to, err := span(c)
	if err != nil {
		problem(c, err)
		return
	}
	e := estimate.InUse()
	sum, err := s.queries.WaitEstimates(c.Request.Context(), station, from, to, e.Estimator)
	if err != nil {
		problem(c, err)
		return
	}
	c.JSON(http.StatusOK, estimatesOut{StationID: station, From: from, To: to, Estimator: e.Name,
		N: sum.N, MAE: sum.MAE, P90: sum.P90, Bias: sum.Bias, Uncalled: sum.Uncalled})
}

func round1(x float64) float64 { return float64(int(x*10+0.5)) / 10 }

// audit reads a stream's history (from the log), or an actor's decisions
// or a station's events (the audit view's index, then the log).
func (s *Server) audit(c *gin.Context) {
	stream, actor, station := c.Query("stream"), c.Query("actor"), c.Query("station_id")
	if given := btoi(stream != "") + btoi(actor != "") + btoi(station != ""); given != 1 {
		problem(c, invalid("stream", "give one of stream, actor or station_id (请提供 stream、actor 或 station_id 之一)"))
		return
	}
	ctx, w := c.Request.Context(), who(c)
	var (
		out []projections.Entry
		err error
	)
	switch {
	case stream != "":
		out, err = s.queries.History(ctx, stream)
		if err == nil && len(out) > 0 {
			var st string
			if st, err = s.queries.StationOf(ctx, stream); err == nil && !w.reaches("", st) {
				out = nil // another station's stream is not found
			}
		}
		if err == nil && len(out) == 0 {
			err = fmt.Errorf("%w: stream %q (记录不存在)", domain.ErrNotFound, stream)
		}
	case station != "":
		if !w.reaches("", station) {
			err = fmt.Errorf("%w: station %q (派出所不存在)", domain.ErrNotFound, station)
			break
		}
		out, err = s.queries.AuditByStation(ctx, station)
	default:
		// An actor's decisions at other stations are left out.
		out, err = s.queries.AuditByActor(ctx, actor)
		out = slices.DeleteFunc(out, func(e projections.Entry) bool { return !w.reaches("", e.Station) })
	}
	if err != nil {
		problem(c, err)
		return
	}
	if out == nil {
		out = []projections.Entry{}
	}
	c.JSON(http.StatusOK, out)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rebuilds tracks the rebuilds the admin started over HTTP.
type rebuilds struct {
	mu    sync.Mutex
	state map[string]*rebuildState
}

type rebuildState struct {
	Running  bool   `json:"running"`
	Position uint64 `json:"position"`
	Head     uint64 `json:"head"`
	Error    string `json:"error,omitempty"`
}

func (s *Server) projectionList(c *gin.Context) {
	type row struct {
		Name     string        `json:"name"`
		Position uint64        `json:"position"`
		Lag      uint64        `json:"lag"`
		Error    string        `json:"error,omitempty"`
		Rebuild  *rebuildState `json:"rebuild,omitempty"`
	}
	out := []row{}
	s.rebuilds.mu.Lock()
	defer s.rebuilds.mu.Unlock()
	for _, name := range s.views.Names() {
		r := row{Name: name, Position: s.views.Position(name)}
		lag, err := s.views.Lag(c.Request.Context(), name)
		if err != nil {
			problem(c, err)
			return
		}
		r.Lag = lag
		if err := s.views.Err(name); err != nil {
			r.Error = err.Error()
		}
		if st := s.rebuilds.state[name]; st != nil {
			cp := *st
			r.Rebuild = &cp
		}
		out = append(out, r)
	}
	c.JSON(http.StatusOK, out)
}

// rebuild starts a blue/green rebuild of one projection and answers 202;
// the live view keeps serving, and GET /admin/projections shows progress.
func (s *Server) rebuild(c *gin.Context) {
	name := c.Param("name")
	if !slices.Contains(s.views.Names(), name) {
		problem(c, fmt.Errorf("%w: projection %q (投影不存在)", domain.ErrNotFound, name))
		return
	}
	s.rebuilds.mu.Lock()
	defer s.rebuilds.mu.Unlock()
	if s.rebuilds.state == nil {
		s.rebuilds.state = map[string]*rebuildState{}
	}
	if st := s.rebuilds.state[name]; st != nil && st.Running {
		problem(c, fmt.Errorf("%w: projection %q is being rebuilt (正在重建)", domain.ErrState, name))
		return
	}
	st := &rebuildState{Running: true}
	s.rebuilds.state[name] = st
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		rebuild := s.views.Rebuild
		if ahead, err := s.views.Ahead(s.life, name); err == nil && ahead { // past the log's head: end at it
			rebuild = s.views.Reset
		}
		err := rebuild(s.life, []string{name}, func(pos, head uint64) {
			s.rebuilds.mu.Lock()
			st.Position, st.Head = pos, head
			s.rebuilds.mu.Unlock()
		})
		s.rebuilds.mu.Lock()
		defer s.rebuilds.mu.Unlock()
		st.Running = false
		if err != nil {
			st.Error = err.Error()
			s.logger.Error("rebuild", "projection", name, "error", err)
		}
	}()
	c.JSON(http.StatusAccepted, gin.H{"name": name, "status": "rebuilding"})
}

func (s *Server) jobList(c *gin.Context) {
	if s.jobs == nil {
		c.JSON(http.StatusOK, []jobs.Status{})
		return
	}
	c.JSON(http.StatusOK, s.jobs.Status())
}

// runJob runs a job now and answers with its result.
func (s *Server) runJob(c *gin.Context) {
	if s.jobs == nil {
		problem(c, fmt.Errorf("%w: no jobs run in this process (本进程未运行定时任务)", domain.ErrNotFound))
		return
	}
	result, err := s.jobs.Run(c.Request.Context(), c.Param("name"), s.now())
	if err != nil {
		problem(c, err)
		return
	}
	h, _ := s.queries.Head(c.Request.Context())
	c.Header("X-Position", strconv.FormatUint(h, 10))
	c.JSON(http.StatusOK, gin.H{"name": c.Param("name"), "result": result})
}
