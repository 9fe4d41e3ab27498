package api

import (
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/projections"
)

// personOut is a resident as a response shows them: in full to the
// resident themself, masked to anyone else. The sealed form and the
// reference never leave the server.
type personOut struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone"`
	Masked   bool   `json:"masked"`
	Erased   bool   `json:"erased,omitempty" description:"the person's details were erased at their request"`
}

func (s *Server) person(c *gin.Context, owner string, p domain.Person) personOut {
	if w := who(c); w.Role == domain.RoleResident && w.ID == owner {
		if full, err := s.hall.Unseal(c.Request.Context(), p); err == nil {
			return personOut{Name: full.Name, IDNumber: full.IDNumber, Phone: full.Phone}
		}
	}
	return personOut{p.Name, p.ID, p.Phone, true, p.Erased()}
}

type erasureRequest struct {
	IDNumber string `json:"id_number"`
}

type erasedOut struct {
	People    int `json:"people" description:"people whose details were erased"`
	Cancelled int `json:"cancelled" description:"their live appointments from today on, cancelled"`
}

// eraseMe erases every person this login booked or applied for (its
// holder, and family it acted for), and cancels their live appointments
// from today on.
func (s *Server) eraseMe(c *gin.Context) {
	ctx, owner := c.Request.Context(), who(c).ID
	as, err := s.queries.AppointmentsOf(ctx, owner)
	if err != nil {
		problem(c, err)
		return
	}
	apps, err := s.queries.ApplicationsOf(ctx, owner)
	if err != nil {
		problem(c, err)
		return
	}
	refs := map[string]bool{}
	var cancel []string
	today := s.today().String()
	for _, a := range as {
		refs[a.Resident.Ref] = true
		if a.Status == domain.Booked && a.Date >= today {
			cancel = append(cancel, a.ID)
		}
	}
	for _, a := range apps {
		refs[a.Applicant.Ref] = true
	}
	s.erase(c, slices.Sorted(maps.Keys(refs)), cancel)
}

// eraseByID erases the person an ID number names, for the admin.
func (s *Server) eraseByID(c *gin.Context) {
	var req erasureRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	ref, err := s.hall.RefOf(req.IDNumber, s.now())
	if err != nil {
		problem(c, err)
		return
	}
	today := s.today()
	booked, err := s.queries.BookedBetween(c.Request.Context(), today, today.AddDays(3660))
	if err != nil {
		problem(c, err)
		return
	}
	var cancel []string
	for _, a := range booked {
		if a.Resident.Ref == ref {
			cancel = append(cancel, a.ID)
		}
	}
	s.erase(c, []string{ref}, cancel)
}

func (s *Server) erase(c *gin.Context, refs, cancel []string) {
	n, err := s.hall.Erase(c.Request.Context(), refs, cancel, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	h, _ := s.queries.Head(c.Request.Context())
	c.Header("X-Position", strconv.FormatUint(h, 10))
	c.JSON(http.StatusAccepted, erasedOut{People: len(refs), Cancelled: n})
}

type appointmentOut struct {
	projections.AppointmentView
	Resident personOut `json:"resident"`
}

func (s *Server) appointmentOut(c *gin.Context, a projections.AppointmentView) appointmentOut {
	return appointmentOut{a, s.person(c, a.Owner, a.Resident)}
}

type applicationOut struct {
	projections.AppView
	Applicant personOut `json:"applicant"`
	// DaysLeft is, while the clock runs, the days of the limit left today
	// in its unit, on the official calendar (below 0 when overdue).
	DaysLeft *int `json:"days_left,omitempty"`
}
