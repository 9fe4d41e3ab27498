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
	res, err := command.CreateUser(c.Request.Context(), s.h, s.meta(c), req.Username, req.Password, req.Role, req.StationID)
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
	res, err := command.Execute(c.Request.Context(), s.h, domain.CatalogueStream, s.meta(c), func(cat *domain.Catalogue) ([]domain.Event, error) {
		return cat.DefineService(svc)
	})
	if err != nil {
		problem(c, err)
		return
	}
	if len(res.Events) > 0 {
		svc = res.Events[0].(domain.ServiceDefined).Service
	}
	written(c, http.StatusCreated, res, svc)
}

type stationRequest struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (s *Server) registerStation(c *gin.Context) {
	var req stationRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	if err := domain.CheckID("id", req.ID); err != nil {
		problem(c, err)
		return
	}
	res, err := command.Execute(c.Request.Context(), s.h, domain.StationStream(req.ID), s.meta(c), func(st *domain.Station) ([]domain.Event, error) {
		return st.Register(req.ID, req.Name)
	})
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusCreated, res, gin.H{"id": req.ID, "name": req.Name})
}

func (s *Server) catalogue(c *gin.Context) (map[string]domain.Service, error) {
	cat, _, err := command.Load[domain.Catalogue](c.Request.Context(), s.h.Store(), domain.CatalogueStream)
	if err != nil {
		return nil, err
	}
	return cat.Services, nil
}

// service reads one service of the catalogue; an unknown id is invalid input.
func (s *Server) service(c *gin.Context, id string) (domain.Service, error) {
	cat, err := s.catalogue(c)
	if err != nil {
		return domain.Service{}, err
	}
	svc, ok := cat[id]
	if !ok {
		return svc, invalid("service_id", "unknown service (业务不存在)")
	}
	return svc, nil
}

func (s *Server) addCounter(c *gin.Context) {
	var req domain.Counter
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	cat, err := s.catalogue(c)
	if err != nil {
		problem(c, err)
		return
	}
	res, err := command.Execute(c.Request.Context(), s.h, domain.StationStream(c.Param("id")), s.meta(c), func(st *domain.Station) ([]domain.Event, error) {
		return st.AddCounter(req, cat)
	})
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusCreated, res, req)
}

type hoursRequest struct {
	Weekly         []domain.Hours `json:"weekly"`
	WeekendWindows []domain.Hours `json:"weekend_windows"`
}

// setHours replaces a station's hours and releases the slots of the release
// horizon at once; slots released before keep their hours.
func (s *Server) setHours(c *gin.Context) {
	var req hoursRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	ctx := c.Request.Context()
	cat, err := s.catalogue(c)
	if err != nil {
		problem(c, err)
		return
	}
	res, err := command.Execute(ctx, s.h, domain.StationStream(c.Param("id")), s.meta(c), func(st *domain.Station) ([]domain.Event, error) {
		return st.SetHours(req.Weekly, req.WeekendWindows, cat)
	})
	if err != nil {
		problem(c, err)
		return
	}
	cal, err := s.calendar(c)
	if err != nil {
		problem(c, err)
		return
	}
	today := calendar.DateOf(s.now().In(s.loc))
	n, last, err := command.Release(ctx, s.h, c.Param("id"), today, today.AddDays(s.horizon-1), cal, s.loc, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	if last.Position > res.Position {
		res = last
	}
	written(c, http.StatusOK, res, gin.H{"released": n, "through": today.AddDays(s.horizon - 1)})
}

// calendar is the calendar as the log holds it now, for the years around
// today: the embedded notices, each replaced by the one imported for its
// year. It reads the log rather than a view, so that a write right after an
// import uses it.
func (s *Server) calendar(c *gin.Context) (*calendar.Calendar, error) {
	base, err := calendar.Official()
	if err != nil {
		return nil, err
	}
	cal := calendar.New(base...)
	year := s.now().In(s.loc).Year()
	for y := year - 1; y <= year+2; y++ {
		imported, _, err := command.Load[domain.CalendarYear](c.Request.Context(), s.h.Store(), domain.CalendarStream(y))
		if err != nil {
			return nil, err
		}
		if imported.Imported {
			cal = cal.With(imported.Notice)
		}
	}
	return cal, nil
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
	res, err := command.Execute(c.Request.Context(), s.h, domain.CalendarStream(year), s.meta(c), func(y *domain.CalendarYear) ([]domain.Event, error) {
		return y.Import(n)
	})
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusOK, res, gin.H{"year": year, "days": len(n.Days)})
}
