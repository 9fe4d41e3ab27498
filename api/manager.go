package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/domain/estimate"
	"github.com/servicehall/servicehall/jobs"
	"github.com/servicehall/servicehall/projections"
)

// scope is the station a read of a station's applications is about: the
// station_id asked for, which a caller tied to a station may only leave
// out or set to their own (another station's objects are not found); ""
// (every station) only for the admin and a bureau manager, where required
// allows it.
func scope(c *gin.Context, required bool) (string, bool) {
	w, station := who(c), c.Query("station_id")
	if station == "" {
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

// asOf reads as_of: a date D (the view at the end of D) or an instant
// (RFC 3339; the view just after it). It answers the end of the events to
// read (those before it), the day the view is read on, and whether as_of
// was given at all.
func (s *Server) asOf(c *gin.Context) (end time.Time, day calendar.Date, given bool, err error) {
	raw := c.Query("as_of")
	if raw == "" {
		return time.Time{}, calendar.Date{}, false, nil
	}
	now := s.now()
	if d, derr := calendar.ParseDate(raw); derr == nil {
		if d.After(calendar.DateOf(now.In(s.loc))) {
			return end, d, true, invalid("as_of", "not in the future (不能晚于今天)")
		}
		return d.AddDays(1).In(s.loc), d, true, nil
	}
	t, terr := time.Parse(time.RFC3339, raw)
	if terr != nil {
		return end, day, true, invalid("as_of", "a date (YYYY-MM-DD) or an instant (RFC 3339, 2025-10-16T12:00:00+08:00) (应为日期或时间)")
	}
	if t.After(now) {
		return end, day, true, invalid("as_of", "not in the future (不能晚于现在)")
	}
	// Events at the instant itself had happened by then.
	return t.Add(time.Nanosecond), calendar.DateOf(t.In(s.loc)), true, nil
}

// viewsAsOf answers from the live views, or with as_of from the named
// projections rebuilt in memory from the events before as_of's end, with
// the day the view is read on.
func (s *Server) viewsAsOf(c *gin.Context, ps ...projections.Projection) (projections.Views, calendar.Date, bool) {
	end, day, given, err := s.asOf(c)
	if err != nil {
		problem(c, err)
		return nil, day, false
	}
	if !given {
		return s.views, calendar.DateOf(s.now().In(s.loc)), true
	}
	v, err := s.queries.AsOf(c.Request.Context(), end, ps...)
	if err != nil {
		problem(c, err)
		return nil, day, false
	}
	return v, day, true
}

func (s *Server) completionStats(c *gin.Context) {
	station, ok := scope(c, false)
	if !ok {
		return
	}
	from, to, err := span(c)
	if err != nil {
		problem(c, err)
		return
	}
	by := c.DefaultQuery("by", "service")
	if !slices.Contains(projections.CompletionGroups, by) {
		problem(c, invalid("by", fmt.Sprintf("by=%s: want service, day, month, station, counter or clerk (分组方式不正确)", by)))
		return
	}
	basis, err := basisOf(c)
	if err != nil {
		problem(c, err)
		return
	}
	ps := []projections.Projection{projections.Completion{}}
	if by == "counter" {
		ps = append(ps, projections.Queues{}) // the tickets applications came in on
	}
	v, _, ok := s.viewsAsOf(c, ps...)
	if !ok {
		return
	}
	rows, err := s.queries.On(v).CompletionRates(c.Request.Context(), projections.CompletionQuery{Station: station, From: from, To: to, By: by, Basis: basis, Loc: s.loc})
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

// queueStatsOut is the queue figures of some days at a station, or at
// every station, with rows when grouped.
type queueStatsOut struct {
	StationID string         `json:"station_id,omitempty" description:"none: every station"`
	Date      *calendar.Date `json:"date,omitempty" description:"the day asked for with date"`
	From      calendar.Date  `json:"from"`
	To        calendar.Date  `json:"to"`
	projections.QueueFigures
	By   string                 `json:"by,omitempty"`
	Rows []projections.QueueRow `json:"rows,omitzero"`
}

func (s *Server) queueStats(c *gin.Context) {
	station, ok := scope(c, false)
	if !ok {
		return
	}
	from, to, err := days(c)
	if err != nil {
		problem(c, err)
		return
	}
	by := c.Query("by")
	if by != "" && !slices.Contains(projections.QueueGroups, by) {
		problem(c, invalid("by", fmt.Sprintf("by=%s: want service, counter, clerk, station or hour (分组方式不正确)", by)))
		return
	}
	// Every station there is now: one closed since has its days still.
	stations, err := s.stationsOf(c, station)
	if err != nil {
		problem(c, err)
		return
	}
	v, _, ok := s.viewsAsOf(c, projections.Queues{})
	if !ok {
		return
	}
	total, rows, err := s.queries.On(v).QueueReport(c.Request.Context(), projections.QueueQuery{Stations: stations, From: from, To: to, By: by, Loc: s.loc})
	if err != nil {
		problem(c, err)
		return
	}
	out := queueStatsOut{StationID: station, From: from, To: to, QueueFigures: total, By: by}
	if c.Query("date") != "" {
		out.Date = &from
	}
	if by != "" {
		out.Rows = rows
	}
	c.JSON(http.StatusOK, out)
}

// days reads one day (date) or a span of them (from and to).
func days(c *gin.Context) (calendar.Date, calendar.Date, error) {
	if c.Query("date") == "" && (c.Query("from") != "" || c.Query("to") != "") {
		return span(c)
	}
	if c.Query("from") != "" || c.Query("to") != "" {
		return calendar.Date{}, calendar.Date{}, invalid("date", "date, or from and to, not both (请提供 date，或 from 与 to，不能同时提供)")
	}
	d, err := date(c, "date")
	return d, d, err
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

// ratingStats spreads the ratings given at a station, or every station for
// the bureau, over a span of days.
func (s *Server) ratingStats(c *gin.Context) {
	station, ok := scope(c, false)
	if !ok {
		return
	}
	from, to, err := span(c)
	if err != nil {
		problem(c, err)
		return
	}
	stations, err := s.stationsOf(c, station)
	if err != nil {
		problem(c, err)
		return
	}
	v, _, ok := s.viewsAsOf(c, projections.Ratings{})
	if !ok {
		return
	}
	out, err := s.queries.On(v).RatingSpread(c.Request.Context(), stations, from, to, s.loc)
	if err != nil {
		problem(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// stationsOf is the one station asked for, or every station there is now.
func (s *Server) stationsOf(c *gin.Context, station string) ([]string, error) {
	if station != "" {
		return []string{station}, nil
	}
	all, err := s.queries.Stations(c.Request.Context())
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(all))
	for _, st := range all {
		out = append(out, st.ID)
	}
	return out, nil
}

// basisOf reads the period an application counts in: due (the default),
// accepted or completed.
func basisOf(c *gin.Context) (string, error) {
	basis := c.DefaultQuery("basis", "due")
	if !slices.Contains(projections.CompletionBases, basis) {
		return "", invalid("basis", fmt.Sprintf("basis=%s: want due, accepted or completed (统计口径不正确)", basis))
	}
	return basis, nil
}
