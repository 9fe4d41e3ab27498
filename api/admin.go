package api

import (
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
)

// written answers a write with the position it reached.
func written(c *gin.Context, status int, res command.Result, body any) {
	c.Header("X-Position", strconv.FormatUint(res.Position, 10))
	c.JSON(status, body)
}

type userRequest struct {
	Username  string `json:"username"`
	Password  string `json:"password"`
	Role      string `json:"role"`
	StationID string `json:"station_id"`
}

func (s *Server) createUser(c *gin.Context) {
	var req userRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	res, err := s.hall.CreateUser(c.Request.Context(), req.Username, req.Password, req.Role, req.StationID, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusCreated, res, gin.H{"username": req.Username, "role": req.Role, "station_id": req.StationID})
}

func (s *Server) defineService(c *gin.Context) {
	var svc domain.Service
	if err := bind(c, &svc); err != nil {
		problem(c, err)
		return
	}
	svc, res, err := s.hall.DefineService(c.Request.Context(), svc, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusCreated, res, svc)
}

type stationRequest struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	NameEn  string `json:"name_en,omitempty"`
	Address string `json:"address,omitempty"`
	Phone   string `json:"phone,omitempty"`
}

type userOut struct {
	Username  string `json:"username"`
	Role      string `json:"role"`
	StationID string `json:"station_id,omitempty"`
	Disabled  bool   `json:"disabled"`
}

// changeUser disables or enables a login or sets its password.
func (s *Server) changeUser(c *gin.Context) {
	var req command.UserChange
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	name := c.Param("name")
	res, err := s.hall.ChangeUser(c.Request.Context(), name, req, s.meta(c))
	s.users.forget(name)
	if err != nil {
		problem(c, err)
		return
	}
	u, err := s.queries.User(c.Request.Context(), name)
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusOK, res, userOut{Username: u.Username, Role: u.Role, StationID: u.StationID, Disabled: u.Disabled})
}

func (s *Server) registerStation(c *gin.Context) {
	var req stationRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	res, err := s.hall.RegisterStation(c.Request.Context(), domain.StationRegistered{ID: req.ID, Name: req.Name, NameEn: req.NameEn, Address: req.Address, Phone: req.Phone}, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusCreated, res, req)
}

// service reads one service of the catalogue; an unknown id is invalid input.
func (s *Server) service(c *gin.Context, id string) (domain.Service, error) {
	return s.hall.Service(c.Request.Context(), id)
}

func (s *Server) addCounter(c *gin.Context) {
	var req domain.Counter
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	res, err := s.hall.AddCounter(c.Request.Context(), c.Param("id"), req, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusCreated, res, req)
}

// setHours replaces a station's hours and releases the slots of the release
// horizon at once; slots released before keep their hours.
func (s *Server) setHours(c *gin.Context) {
	var req command.Hours
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	n, res, err := s.hall.SetHours(c.Request.Context(), c.Param("id"), req, s.horizon, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusOK, res, gin.H{"released": n, "through": s.today().AddDays(s.horizon - 1)})
}

// calendar is the calendar as the log holds it now, for the years around
// today: the embedded notices, each replaced by the one imported for its
// year. It reads the log rather than a view, so that a write right after an
// import uses it.
func (s *Server) calendar(c *gin.Context) (*calendar.Calendar, error) {
	return s.hall.Calendar(c.Request.Context(), s.now())
}

func (s *Server) importCalendar(c *gin.Context) {
	year, err := strconv.Atoi(c.Param("year"))
	if err != nil {
		problem(c, invalid("year", "a year such as 2026 (年份格式不正确)"))
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20))
	if err != nil {
		problem(c, invalid("body", "larger than 1 MiB (请求体过大)"))
		return
	}
	n, err := calendar.ParseNotice(b)
	if err != nil {
		problem(c, invalid("body", err.Error()))
		return
	}
	if n.Year != year {
		problem(c, invalid("year", "the document is for "+strconv.Itoa(n.Year)+" (文件年份与路径不符)"))
		return
	}
	if err := n.Complete(); err != nil {
		problem(c, invalid("body", err.Error()))
		return
	}
	ctx := c.Request.Context()
	res, err := s.hall.ImportCalendar(ctx, n, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	out := gin.H{"year": year, "days": len(n.Days)}
	// The days the notice turns off lose their released slots now, and its
	// make-up days get theirs, rather than at the next morning's run.
	if s.jobs != nil && s.views.WaitFor(ctx, "config", res.Position) == nil {
		result, err := s.jobs.Run(ctx, "release-slots", s.now())
		if err != nil {
			s.logger.Warn("release after a calendar import", "error", err)
		}
		out["release"] = result
	}
	written(c, http.StatusOK, res, out)
}
