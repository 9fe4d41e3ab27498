package api

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
)

// Notifier sends a text message to a phone.
type Notifier interface {
	Notify(ctx context.Context, phone, text string) error
}

// Webhook sends messages to an SMS gateway: a POST of {"phone", "text"}
// as JSON to URL, which must answer 2xx.
type Webhook struct {
	URL    string
	Client *http.Client // default: a 10 s timeout
}

// Notify posts {phone, text} to the gateway, trying three times while it is
// out of reach or answers 5xx or 429 (a gateway that refuses the message,
// 4xx, is not asked again).
func (w Webhook) Notify(ctx context.Context, phone, text string) error {
	body, err := json.Marshal(map[string]string{"phone": phone, "text": text})
	if err != nil {
		return err
	}
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	pause := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("sms webhook: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			switch {
			case resp.StatusCode/100 == 2:
				return nil
			case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests:
				return fmt.Errorf("sms webhook: the gateway refused the message: %s", resp.Status)
			}
			err = fmt.Errorf("the gateway answered %s", resp.Status)
		}
		if attempt == 3 {
			return fmt.Errorf("sms webhook, %d attempts: %w", attempt, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sms webhook: %w", ctx.Err())
		case <-time.After(pause):
		}
		pause *= 3
	}
}

// ErrNoGateway is the answer to a login code asked for where no SMS gateway
// is configured (and codes are not shown, as in the demo).
var ErrNoGateway = errors.New("no SMS gateway is configured: resident login is unavailable (短信服务未配置，暂无法验证码登录)")

// codeTTL is how long a login code may be used.
const codeTTL = 5 * time.Minute

type phoneRequest struct {
	Phone string `json:"phone"`
	Code  string `json:"code,omitempty"`
}

func (s *Server) sendCode(c *gin.Context) {
	var req phoneRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	if err := domain.CheckPhone(req.Phone); err != nil || req.Code != "" {
		problem(c, cmp.Or(err, invalid("code", "not expected here (此处不需要验证码)")))
		return
	}
	if s.notifier == nil && !s.demoOTP {
		write(c, Problem{Type: "/problems/unavailable", Title: ErrNoGateway.Error(), Status: http.StatusServiceUnavailable})
		return
	}
	if ok, wait := s.limits.otpByPhone.allow(c.Request.Context(), req.Phone, s.now()); !ok {
		tooMany(c, wait)
		return
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		problem(c, err)
		return
	}
	value := fmt.Sprintf("%06d", n.Int64())
	if err := s.codes.AddCode(c.Request.Context(), req.Phone, value, s.now().Add(codeTTL), s.now()); err != nil {
		problem(c, err)
		return
	}
	// The code goes to the gateway only; it is never logged.
	if s.notifier != nil {
		if err := s.notifier.Notify(c.Request.Context(), req.Phone, "servicehall 验证码 "+value+"，5分钟内有效。"); err != nil {
			problem(c, fmt.Errorf("send the code: %w", err))
			return
		}
	}
	var out codeSent
	if s.demoOTP {
		out.DevCode = value
	}
	c.JSON(http.StatusAccepted, out)
}

// verifyCode trades a code for a resident token. A code serves once. Tries
// are counted per phone and client: five, then one a minute, so a guesser
// elsewhere never locks the owner out.
func (s *Server) verifyCode(c *gin.Context) {
	var req phoneRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	if ok, wait := s.limits.verifyByPhoneClient.allow(c.Request.Context(), req.Phone+"\x00"+c.ClientIP(), s.now()); !ok {
		tooMany(c, wait)
		return
	}
	used, err := s.codes.UseCode(c.Request.Context(), req.Phone, req.Code, s.now())
	if err != nil {
		problem(c, err)
		return
	}
	if !used {
		write(c, Problem{Type: "/problems/unauthenticated", Title: "Wrong or expired code (验证码错误或已过期)", Status: http.StatusUnauthorized})
		return
	}
	tok, err := s.token(Who{ID: s.residentID(req.Phone), Role: domain.RoleResident})
	if err != nil {
		problem(c, err)
		return
	}
	c.JSON(http.StatusOK, tokenOut{Token: tok, Role: domain.RoleResident})
}

// residentID is a resident login's stable id, derived from the phone
// without revealing it.
func (s *Server) residentID(phone string) string { return s.hall.LoginID(phone) }

type bookRequest struct {
	StationID string           `json:"station_id"`
	ServiceID string           `json:"service_id"`
	Date      string           `json:"date"`
	Start     string           `json:"start"`
	Resident  domain.Applicant `json:"resident"`
}

// slotOf reads a slot's date and start time from a request.
func slotOf(date, start string) (calendar.Date, domain.Clock, error) {
	d, err := calendar.ParseDate(date)
	if err != nil {
		return d, 0, invalid("date", err.Error())
	}
	t, err := domain.ParseClock(start)
	if err != nil {
		return d, 0, &domain.FieldError{Field: "start", Err: err}
	}
	return d, t, nil
}

// book takes a place for a resident: their own booking, or one typed in at
// the hall on their behalf. It belongs to the resident's phone login.
func (s *Server) book(c *gin.Context) {
	var req bookRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	d, start, err := slotOf(req.Date, req.Start)
	if err != nil {
		problem(c, err)
		return
	}
	w := who(c)
	if w.Role != domain.RoleResident && !ownStation(c, req.StationID) {
		return
	}
	owner := s.residentID(req.Resident.Phone)
	if w.Role == domain.RoleResident {
		owner = w.ID
	}
	id := newID(c)
	res, err := s.hall.Book(c.Request.Context(), command.Booking{AppointmentID: id, StationID: req.StationID, ServiceID: req.ServiceID,
		Date: d, Start: start, Resident: req.Resident, Owner: owner, Code: s.freeCode(c, req.StationID, id)}, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	b, ok := command.First[domain.AppointmentBooked](res)
	if !ok { // a retry of a booking made before (after a crash, say): the same answer
		a, err := s.queries.Appointment(c.Request.Context(), id)
		if err != nil {
			problem(c, err)
			return
		}
		b = a.AppointmentBooked
	}
	written(c, http.StatusCreated, res, bookedOut{ID: id, Code: b.Code, Status: domain.Booked, StationID: b.StationID, ServiceID: b.ServiceID,
		Date: b.Date, Start: b.Start, End: b.End, Resident: s.person(c, owner, b.Resident), Notes: s.hall.Policy().Notes()})
}

// freeCode is a check-in code for appointment id that no other live
// appointment of the station holds, as far as the view knows: a clash is
// about one in 10⁴ for a station with 15 000 live bookings, and then the
// next code is tried.
func (s *Server) freeCode(c *gin.Context, station, id string) string {
	for salt := 0; ; salt++ {
		code := domain.CheckInCode(id, salt)
		a, taken, err := s.queries.AppointmentByCode(c.Request.Context(), station, code)
		if err != nil || !taken || a.ID == id || salt == 9 {
			return code
		}
	}
}

type codeRequest struct {
	Code     string `json:"code,omitempty" description:"the short check-in code (签到码) of the booking answer; or id_number"`
	IDNumber string `json:"id_number,omitempty" description:"the 18-character ID number (身份证号), as a card reader types it: that person's live booking here today; or code"`
}

// checkInByCode checks in the station's live appointment a short code
// names, or that of the person an ID number names today, at the hall.
func (s *Server) checkInByCode(c *gin.Context) {
	station := c.Param("id")
	if !ownStation(c, station) {
		return
	}
	var req codeRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	a, err := s.arrival(c, station, req)
	if err != nil {
		problem(c, err)
		return
	}
	svc, err := s.service(c, a.Service)
	if err != nil {
		problem(c, err)
		return
	}
	t, res, err := s.hall.CheckIn(c.Request.Context(), a.ID, svc, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusOK, res, s.checkedIn(a.ID, svc.ID, t, s.estimate(c, station, svc.ID, t.Position)))
}

func (s *Server) appointment(c *gin.Context) {
	if a, ok := s.reachable(c); ok {
		c.JSON(http.StatusOK, s.appointmentOut(c, a))
	}
}

func (s *Server) myAppointments(c *gin.Context) {
	as, err := s.queries.AppointmentsOf(c.Request.Context(), who(c).ID)
	if err != nil {
		problem(c, err)
		return
	}
	out := make([]appointmentOut, len(as))
	for i, a := range as {
		out[i] = s.appointmentOut(c, a)
	}
	c.JSON(http.StatusOK, out)
}

// actOn loads an appointment from the log for a caller allowed to change
// it; anyone else is told it does not exist.
func (s *Server) actOn(c *gin.Context) (*domain.Appointment, bool) {
	a, err := s.queries.Appointment(c.Request.Context(), c.Param("id"))
	if err == nil && (!a.Exists() || !who(c).reaches(a.Owner, a.StationID)) {
		err = fmt.Errorf("%w: appointment (预约不存在)", domain.ErrNotFound)
	}
	if err != nil {
		problem(c, err)
		return nil, false
	}
	return a, true
}

func (s *Server) cancel(c *gin.Context) {
	if _, ok := s.actOn(c); !ok {
		return
	}
	var req cancelRequest
	if c.Request.ContentLength > 0 {
		if err := bind(c, &req); err != nil {
			problem(c, err)
			return
		}
	}
	res, err := s.hall.Cancel(c.Request.Context(), c.Param("id"), req.Reason, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusOK, res, appointmentStatus{ID: c.Param("id"), Status: domain.Cancelled})
}

func (s *Server) reschedule(c *gin.Context) {
	a, ok := s.actOn(c)
	if !ok {
		return
	}
	var req rescheduleRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	d, start, err := slotOf(req.Date, req.Start)
	if err != nil {
		problem(c, err)
		return
	}
	// From where this request saw it: of reschedules at once, one wins.
	res, err := s.hall.Reschedule(c.Request.Context(), c.Param("id"), command.When{Date: d, Start: start}, &command.When{Date: a.Date, Start: a.Start}, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusOK, res, appointmentStatus{ID: c.Param("id"), Status: domain.Booked, Date: d, Start: start})
}

func (s *Server) checkIn(c *gin.Context) {
	a, ok := s.actOn(c)
	if !ok {
		return
	}
	svc, err := s.service(c, a.ServiceID)
	if err != nil {
		problem(c, err)
		return
	}
	t, res, err := s.hall.CheckIn(c.Request.Context(), c.Param("id"), svc, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	written(c, http.StatusOK, res, s.checkedIn(a.ID, svc.ID, t, s.estimate(c, a.StationID, svc.ID, t.Position)))
}
