// Package api is servicehall's HTTP interface (gin): the contract's
// routes, problem+json errors, operations endpoints.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/servicehall/servicehall/answers"
	"github.com/servicehall/servicehall/app"
	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/app/query"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/jobs"
	"github.com/servicehall/servicehall/logins"
	"github.com/servicehall/servicehall/projections"
	"github.com/servicehall/servicehall/web"
)

// Server serves the API over a log and its projections.
type Server struct {
	life  context.Context // ends with Close
	close context.CancelFunc
	// publicURL is where phones reach the server, for the tickets' QR codes.
	publicURL string
	app       *app.Application
	hall      *command.Hall
	queries   *query.Queries
	jobs      Jobs
	notifier  Notifier
	demoOTP   bool
	codes     logins.Store
	tokens    *keyring
	boards    boards
	users     users
	horizon   int
	views     *projections.Engine
	loc       *time.Location
	now       func() time.Time
	logger    *slog.Logger
	reg       *prometheus.Registry
	reqs      *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	// escalation is the rule the SLA view judges applications by.
	escalation domain.Escalation
	rebuilds   rebuilds
	background sync.WaitGroup // rebuilds started over HTTP
	answers    answers.Store
	trusted    []string
	docOnce    sync.Once
	doc        []byte
	docErr     error
	limits     limits
	hooks      *http.Client
}

// Config is what a Server needs; Now defaults to the wall clock.
type Config struct {
	// App is every way in: its commands and queries.
	App *app.Application
	// TokenKeys sign and verify login tokens (32 bytes or more each): the
	// first signs, any verifies. ReloadTokenKeys, if given, reads them
	// again when a token names a key not known yet (rotated in by another
	// process).
	TokenKeys       [][]byte
	ReloadTokenKeys func() ([][]byte, error)
	Horizon         int // days of slots released ahead
	// Notifier sends residents their login codes. Without one, codes are
	// only shown in responses with DemoOTP, and otherwise login by code
	// answers 503.
	Notifier Notifier
	// Logins keeps residents' login codes where every process finds them
	// (nil: in memory, for one process).
	Logins logins.Store
	// Buckets, when given, keeps the abuse limits' counts where every
	// process counts them; without, each process counts its own.
	Buckets Buckets
	// Hooks delivers dead letters again on replay (default: 10 s timeout).
	Hooks *http.Client
	// DemoOTP returns login codes in responses: demo and tests only.
	DemoOTP bool
	Loc     *time.Location
	Now     func() time.Time
	Logger  *slog.Logger
	// Jobs, when given, are listed and run on demand by the admin.
	Jobs Jobs
	// Escalation is the rule the SLA view judges by (the jobs' rule).
	Escalation domain.Escalation
	// Answers keeps the answers to requests with an Idempotency-Key
	// (default: in memory, for this process only).
	Answers answers.Store
	// TrustedProxies are the addresses or CIDRs whose X-Forwarded-For and
	// X-Real-IP are believed; from anyone else they are ignored, so that a
	// client cannot choose the address its limits are counted under.
	TrustedProxies []string
	// PublicURL is where residents' phones reach the hall's server
	// (https://hall.example): the printed tickets' QR codes lead there.
	// Empty: the address the kiosk reached the server at.
	PublicURL string
	// Unlimited switches the abuse limits off: for benchmarks that log in
	// thousands of residents from one address.
	Unlimited bool
}

// Jobs is the scheduled work as the admin sees it.
type Jobs interface {
	Status() []jobs.Status
	Run(ctx context.Context, name string, now time.Time) (string, error)
}

// New returns a Server, refusing missing dependencies.
func New(c Config) (*Server, error) {
	if c.App == nil || c.Loc == nil || c.Logger == nil {
		return nil, errors.New("api: New needs the application, a location and a logger")
	}
	tokens, err := newKeyring(c.TokenKeys, c.ReloadTokenKeys)
	if err != nil {
		return nil, err
	}
	if c.Horizon < 1 {
		c.Horizon = 14
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	for _, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return nil, fmt.Errorf("api: trusted proxy %q is neither an address nor a CIDR", p)
		}
	}
	if c.Answers == nil {
		c.Answers = answers.NewMemory()
	}
	if c.Logins == nil {
		c.Logins = logins.NewMemory()
	}
	life, closeFn := context.WithCancel(context.Background())
	s := &Server{life: life, close: closeFn, app: c.App, hall: c.App.Commands, queries: c.App.Queries, jobs: c.Jobs, notifier: c.Notifier, demoOTP: c.DemoOTP, codes: c.Logins, tokens: tokens, horizon: c.Horizon, views: c.App.Queries.Views(), loc: c.Loc, now: c.Now, logger: c.Logger, reg: prometheus.NewRegistry(), escalation: domain.DefaultEscalation, answers: c.Answers, trusted: c.TrustedProxies, hooks: c.Hooks, publicURL: strings.TrimRight(c.PublicURL, "/")}
	if s.hooks == nil {
		s.hooks = &http.Client{Timeout: 10 * time.Second}
	}
	if !c.Unlimited {
		s.limits = defaultLimits(c.Buckets)
	}
	if c.Escalation != (domain.Escalation{}) {
		s.escalation = c.Escalation
	}
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "servicehall_http_requests_total", Help: "HTTP requests by route, method and status."}, []string{"route", "method", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "servicehall_http_request_seconds", Help: "HTTP request latency by route.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"route"})
	lag := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "servicehall_projection_lag_max", Help: "The largest number of log positions a projection has not read."}, func() float64 {
		var worst uint64
		for _, name := range s.views.Names() {
			if l, err := s.views.Lag(context.Background(), name); err == nil && l > worst {
				worst = l
			}
		}
		return float64(worst)
	})
	head := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "servicehall_log_head_position", Help: "The position of the last event in the log."}, func() float64 {
		h, _ := s.queries.Head(context.Background())
		return float64(h)
	})
	streams := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "servicehall_board_streams", Help: "Hall board streams open."}, func() float64 {
		n, _ := s.boards.counts()
		return float64(n)
	})
	readers := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "servicehall_board_readers", Help: "Stations whose queue a board reader follows: one each, however many displays."}, func() float64 {
		_, n := s.boards.counts()
		return float64(n)
	})
	s.reg.MustRegister(s.reqs, s.latency, lag, head, streams, readers, collectors.NewGoCollector())
	return s, nil
}

// Close ends the long-lived responses (the hall board's event streams) and
// the rebuilds started over HTTP, so that a graceful shutdown need not wait
// for them.
func (s *Server) Close() {
	s.close()
	s.background.Wait()
}

// Handler is the routed HTTP handler.
func (s *Server) Handler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.SetTrustedProxies(s.trusted) // checked in New; none: the headers are ignored
	r.Use(s.observe, s.recover, guard)
	r.NoRoute(func(c *gin.Context) {
		write(c, Problem{Type: "/problems/not-found", Title: "Not found (未找到)", Status: http.StatusNotFound, Detail: c.Request.Method + " " + c.Request.URL.Path})
	})
	r.NoMethod(func(c *gin.Context) {
		write(c, Problem{Type: "/problems/method-not-allowed", Title: "Method not allowed (不支持的请求方法)", Status: http.StatusMethodNotAllowed})
	})
	for path, file := range web.Pages {
		r.GET(path, gin.WrapF(web.Page(file)))
	}
	r.GET("/static/*file", gin.WrapH(web.Static()))
	s.register(r, s.routes())
	return r
}

// guard sets the headers every answer carries: no page of ours in another
// site's frame, no guessing of content types, no address of ours sent on.
func guard(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// observe gives each request an id, logs it and counts it.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	id := c.GetHeader("X-Request-ID")
	if _, err := uuid.Parse(id); err != nil {
		id = uuid.NewString()
	}
	c.Header("X-Request-ID", id)
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	s.reqs.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Inc()
	s.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	attrs := []any{"request_id", id, "method", c.Request.Method, "route", route, "status", status, "ms", time.Since(start).Milliseconds()}
	if len(c.Errors) > 0 {
		attrs = append(attrs, "error", c.Errors.String())
		s.logger.Error("request", attrs...)
		return
	}
	s.logger.Info("request", attrs...)
}

func (s *Server) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			problem(c, fmt.Errorf("panic: %v", v))
		}
	}()
	c.Next()
}

// minPosition makes a read wait, up to five seconds, until every view has
// read the log up to X-Min-Position: a client reads its own writes.
func (s *Server) minPosition(c *gin.Context) {
	h := c.GetHeader("X-Min-Position")
	if h == "" {
		return
	}
	pos, err := strconv.ParseUint(h, 10, 64)
	if err != nil {
		problem(c, invalid("X-Min-Position", "a log position: a whole number (日志位置应为非负整数)"))
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Second)
	defer cancel()
	for _, name := range s.views.Names() {
		if err := s.views.WaitFor(ctx, name, pos); err != nil {
			c.Header("Retry-After", "1")
			write(c, Problem{Type: "/problems/not-caught-up", Title: "The views have not reached that position yet (数据尚未同步)", Status: http.StatusServiceUnavailable, Detail: err.Error()})
			return
		}
	}
}

// ready reports whether the log answers and every projection is running and
// close to its head.
func (s *Server) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	ok := true
	var out []projectionState
	for _, name := range s.views.Names() {
		st := projectionState{Name: name, Position: s.views.Position(name)}
		lag, err := s.views.Lag(ctx, name)
		ahead := false
		if err == nil {
			ahead, err = s.views.Ahead(ctx, name)
		}
		switch {
		case err != nil:
			st.Error, ok = "log: "+err.Error(), false
		case s.views.Err(name) != nil:
			st.Error, ok = s.views.Err(name).Error(), false
		case ahead:
			st.Error, ok = "the view claims more than the log holds: rebuild it (视图超前于日志，需重建)", false
		case lag > 1000:
			ok = false
		}
		st.Lag = lag
		out = append(out, st)
	}
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	c.JSON(status, readyOut{Ready: ok, Projections: out})
}

// date reads a YYYY-MM-DD query parameter.
func date(c *gin.Context, name string) (calendar.Date, error) {
	v := c.Query(name)
	if v == "" {
		return calendar.Date{}, invalid(name, "required, as YYYY-MM-DD (必填，格式 YYYY-MM-DD)")
	}
	d, err := calendar.ParseDate(v)
	if err != nil {
		return calendar.Date{}, invalid(name, err.Error())
	}
	return d, nil
}

// span reads from and to, at most a year apart.
func span(c *gin.Context) (calendar.Date, calendar.Date, error) {
	from, err := date(c, "from")
	if err != nil {
		return from, from, err
	}
	to, err := date(c, "to")
	if err != nil {
		return from, to, err
	}
	if to.Before(from) || from.DaysUntil(to) > 366 {
		return from, to, invalid("to", "on or after from, at most 366 days later (结束日期应不早于开始日期，且不超过366天)")
	}
	return from, to, nil
}
