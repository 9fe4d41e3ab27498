package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/projections"
)

// reachable is the appointment of the request's id, if the caller may see
// it; else the problem is written and ok is false.
func (s *Server) reachable(c *gin.Context) (projections.AppointmentView, bool) {
	a, ok, err := s.queries.AppointmentView(c.Request.Context(), c.Param("id"))
	if err == nil && (!ok || !who(c).reaches(a.Owner, a.Station)) {
		err = fmt.Errorf("%w: appointment (预约不存在)", domain.ErrNotFound)
	}
	if err != nil {
		problem(c, err)
		return a, false
	}
	return a, true
}

// checkInQR is the booking's check-in code as a QR code, for the kiosk's
// camera: it holds the code alone, nothing about the person.
func (s *Server) checkInQR(c *gin.Context) {
	a, ok := s.reachable(c)
	if !ok {
		return
	}
	if a.Code == "" {
		problem(c, fmt.Errorf("%w: this booking predates check-in codes (该预约无签到码)", domain.ErrNotFound))
		return
	}
	png, err := qrcode.Encode(a.Code, qrcode.Medium, 256)
	if err != nil {
		problem(c, err)
		return
	}
	c.Data(http.StatusOK, "image/png", png)
}

// calendarFile is the booking as an iCalendar event (RFC 5545), to add to
// a phone's calendar.
func (s *Server) calendarFile(c *gin.Context) {
	a, ok := s.reachable(c)
	if !ok {
		return
	}
	d, err := calendar.ParseDate(a.Date)
	if err != nil {
		problem(c, err)
		return
	}
	station, where, service := a.Station, a.Station, a.Service
	if st, ok, err := s.queries.Station(c.Request.Context(), a.Station); err == nil && ok {
		station, where = st.Name, strings.TrimSpace(st.Name+" "+st.Address)
	}
	if svc, err := s.service(c, a.Service); err == nil {
		service = svc.NameZh + " (" + svc.Name + ")"
	}
	utc := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	esc := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`).Replace
	lines := []string{
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//servicehall//appointment//ZH", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
		"BEGIN:VEVENT",
		"UID:" + a.ID + "@servicehall",
		"DTSTAMP:" + utc(s.now()),
		"DTSTART:" + utc(a.Start.On(d, s.loc)),
		"DTEND:" + utc(a.End.On(d, s.loc)),
		"SUMMARY:" + esc(fmt.Sprintf("%s · %s 预约 (appointment)", service, station)),
		"LOCATION:" + esc(where),
		"DESCRIPTION:" + esc(fmt.Sprintf("签到码 (check-in code): %s\n请于开始前%d分钟内到大厅签到。Check in at the hall up to %d minutes before the start.",
			a.Code, int(s.hall.Policy().CheckInEarly.Minutes()), int(s.hall.Policy().CheckInEarly.Minutes()))),
		"BEGIN:VALARM", "TRIGGER:-PT1H", "ACTION:DISPLAY", "DESCRIPTION:" + esc(station), "END:VALARM",
		"END:VEVENT", "END:VCALENDAR",
	}
	c.Header("Content-Disposition", `attachment; filename="appointment.ics"`)
	c.Data(http.StatusOK, "text/calendar; charset=utf-8", []byte(strings.Join(lines, "\r\n")+"\r\n"))
}
