package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/projections"
)

// The hall's kiosk: check-in by code or by ID number, and the printed
// ticket's link to a phone page that follows the ticket's place.

// arrival is the live appointment a check-in at station names: by its
// short code, or by the ID number of its resident (their booking here
// today). Exactly one of the two is given. The ID number is never logged
// nor answered: it only becomes the resident's reference, the keyed hash
// the admin's erasure finds a person by.
func (s *Server) arrival(c *gin.Context, station string, req codeRequest) (projections.AppointmentView, error) {
	ctx := c.Request.Context()
	byCode, byID := strings.TrimSpace(req.Code) != "", strings.TrimSpace(req.IDNumber) != ""
	switch {
	case byCode && byID:
		return projections.AppointmentView{}, &domain.FieldError{Field: "id_number", Err: fmt.Errorf("%w: give the check-in code or the ID number, not both (签到码与身份证号只需填写一项)", domain.ErrInvalid)}
	case !byCode && !byID:
		return projections.AppointmentView{}, invalid("code", "the code on the booking, or the ID number (请输入签到码或身份证号)")
	case byCode:
		code := domain.NormalizeCode(req.Code)
		if len(code) == 0 || len(code) > 8 {
			return projections.AppointmentView{}, invalid("code", "the code on the booking, up to 8 characters (请输入预约签到码)")
		}
		a, ok, err := s.queries.AppointmentByCode(ctx, station, code)
		if err == nil && !ok {
			// Checked in already today: the same ticket again, to print.
			a, ok, err = s.queries.AppointmentArrived(ctx, station, s.today(), code)
		}
		if err == nil && !ok {
			err = fmt.Errorf("%w: no booking here has the code %s: check it, or take a walk-in ticket (本所无此签到码的预约，请核对或现场取号)", domain.ErrNotFound, code)
		}
		return a, err
	}
	ref, err := s.hall.RefOf(strings.ToUpper(strings.TrimSpace(req.IDNumber)), s.now())
	if err != nil {
		return projections.AppointmentView{}, err
	}
	today := s.today()
	theirs, err := s.queries.AppointmentsOfRef(ctx, ref)
	if err != nil {
		return projections.AppointmentView{}, err
	}
	var mine, in []projections.AppointmentView
	for _, a := range theirs {
		if a.Station != station || a.Date != today.String() {
			continue
		}
		switch a.Status {
		case domain.Booked:
			mine = append(mine, a)
		case domain.CheckedIn:
			in = append(in, a)
		}
	}
	if len(mine) == 0 && len(in) > 0 {
		// Checked in already: the card again reprints that ticket (a
		// check-in retried answers the ticket it gave).
		return in[len(in)-1], nil
	}
	if len(mine) == 0 {
		return projections.AppointmentView{}, fmt.Errorf("%w: no booking here today for this ID number: take a walk-in ticket (本所今日无此身份证号的预约，请现场取号)", domain.ErrNotFound)
	}
	// Of several bookings today, the first whose check-in has not closed:
	// the one the person came for now; else the last, to say it closed.
	slices.SortFunc(mine, func(a, b projections.AppointmentView) int { return strings.Compare(a.Start.String(), b.Start.String()) })
	late := s.hall.Policy().CheckInLate
	for _, a := range mine {
		if !s.now().After(a.Start.On(today, s.loc).Add(late)) {
			return a, nil
		}
	}
	return mine[len(mine)-1], nil
}

// checkedIn is the check-in answer, with the ticket's follow link.
func (s *Server) checkedIn(appointment, service string, t command.Ticket, wait int) checkInOut {
	return checkInOut{AppointmentID: appointment, ServiceID: service, Ticket: t, EstimatedWait: wait, follow: s.follow(t.ID)}
}

// follow is what a printed ticket carries besides its number: the time
// it was issued (the server's, not the kiosk's clock), and where it leads,
// a page that follows the ticket's place, with that page's QR code.
type follow struct {
	IssuedAt  time.Time `json:"issued_at" description:"when the ticket was issued, by the server's clock"`
	FollowURL string    `json:"follow_url" description:"the page following this ticket's place, for the printed ticket's QR code; a signed link, the capability to read the ticket's place"`
	FollowQR  string    `json:"follow_qr" description:"the follow page's link as a QR code, PNG"`
}

// ticketLinkPurpose separates the ticket links' MACs from every other use
// of the token key.
const ticketLinkPurpose = "servicehall ticket link\x00"

// follow makes the follow links of ticket id. Ticket ids are not secrets
// (an appointment's ticket is "t-" and the appointment id; the hall's
// staff see them all), so the link carries the id with an HMAC-SHA256 of
// it under the token key in use: only the server makes one, and any key
// still listed verifies it, so a rotation leaves the day's tickets valid.
func (s *Server) follow(id string) follow {
	key, _ := s.tokens.signer()
	ref := id + "." + ticketMAC(key, id)
	return follow{IssuedAt: s.now(), FollowURL: "/ticket?t=" + ref, FollowQR: "/api/v1/tickets/" + ref + "/qr"}
}

func ticketMAC(key []byte, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ticketLinkPurpose + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// followed is the ticket id a signed follow reference names; a wrong or
// unsigned one is not found, as an unknown ticket is.
func (s *Server) followed(ref string) (string, error) {
	id, mac, ok := strings.Cut(ref, ".")
	if ok && domain.CheckID("id", id) == nil {
		for _, again := range []bool{false, true} {
			for _, key := range s.tokens.all(again) {
				if hmac.Equal([]byte(mac), []byte(ticketMAC(key, id))) {
					return id, nil
				}
			}
		}
	}
	return "", fmt.Errorf("%w: ticket (无此号)", domain.ErrNotFound)
}

// liveOut is a ticket's place as its holder's phone shows it: no personal
// data, nor the appointment it serves.
type liveOut struct {
	Number        string             `json:"number"`
	StationID     string             `json:"station_id"`
	StationName   string             `json:"station_name"`
	StationNameEn string             `json:"station_name_en,omitempty"`
	Date          string             `json:"date"`
	ServiceID     string             `json:"service_id"`
	ServiceName   string             `json:"service_name"`
	ServiceNameZh string             `json:"service_name_zh"`
	State         domain.TicketState `json:"state" description:"waiting, called, serving, parked, done, no_show or cancelled"`
	Ahead         int                `json:"ahead" description:"tickets of the same service called before this one (while waiting)"`
	EstimatedWait int                `json:"estimated_wait_minutes" description:"while waiting"`
	CounterID     string             `json:"counter_id,omitempty" description:"once called"`
	CounterName   string             `json:"counter_name,omitempty"`
	CounterNameEn string             `json:"counter_name_en,omitempty"`
	IssuedAt      time.Time          `json:"issued_at"`
	CalledAt      time.Time          `json:"called_at,omitzero"`
}

// liveTicket is a ticket's place in the day's queue, for the phone page
// its printed QR code opens (polled).
func (s *Server) liveTicket(c *gin.Context) {
	ctx := c.Request.Context()
	id, err := s.followed(c.Param("id"))
	if err != nil {
		problem(c, err)
		return
	}
	p, ok, err := s.queries.TicketPlace(ctx, id)
	if err == nil && !ok {
		err = fmt.Errorf("%w: ticket (无此号)", domain.ErrNotFound)
	}
	if err != nil {
		problem(c, err)
		return
	}
	day, err := s.queries.Day(ctx, p.Station, p.Date)
	if err != nil {
		problem(c, err)
		return
	}
	t := day.Tickets[id]
	if t == nil {
		problem(c, fmt.Errorf("%w: ticket (无此号)", domain.ErrNotFound))
		return
	}
	out := liveOut{Number: t.Number, StationID: p.Station, StationName: p.Station, Date: p.Date.String(), ServiceID: t.Service, ServiceName: t.Service, ServiceNameZh: t.Service,
		State: t.State, CounterID: t.Counter, CounterName: t.Counter, IssuedAt: t.Issued, CalledAt: t.Called}
	if svc, err := s.service(c, t.Service); err == nil {
		out.ServiceName, out.ServiceNameZh = svc.Name, svc.NameZh
	}
	st, ok, err := s.queries.Station(ctx, p.Station)
	if err == nil && ok {
		out.StationName, out.StationNameEn = st.Name, st.NameEn
		for _, k := range st.Counters {
			if k.ID == t.Counter {
				out.CounterName, out.CounterNameEn = k.Name, k.NameEn
			}
		}
	}
	if t.State == domain.Waiting {
		for _, w := range day.Waiting() {
			if w.ID == id {
				break
			}
			if w.Service == t.Service {
				out.Ahead++
			}
		}
		out.EstimatedWait = day.EstimatedWait(t.Service, out.Ahead, s.counters(c, p.Station))
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

// ticketQR is a ticket's follow page as a QR code, for the printed
// ticket: the signed reference is the capability.
func (s *Server) ticketQR(c *gin.Context) {
	ref := c.Param("id")
	if _, err := s.followed(ref); err != nil {
		problem(c, err)
		return
	}
	base := s.publicURL
	if base == "" {
		// The address the kiosk reached the server at: a phone in the
		// hall reaches it there too.
		scheme := "http"
		if c.Request.TLS != nil || c.GetHeader("X-Forwarded-Proto") == "https" {
			scheme = "https"
		}
		base = scheme + "://" + c.Request.Host
	}
	png, err := qrcode.Encode(base+"/ticket?t="+ref, qrcode.Medium, 256)
	if err != nil {
		problem(c, err)
		return
	}
	c.Data(http.StatusOK, "image/png", png)
}
