package api

import (
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
}

func (s *Server) person(c *gin.Context, owner string, p domain.Person) personOut {
	if w := who(c); w.Role == domain.RoleResident && w.ID == owner {
		if full, err := s.hall.Unseal(c.Request.Context(), p); err == nil {
			return personOut{full.Name, full.IDNumber, full.Phone, false}
		}
	}
	return personOut{p.Name, p.ID, p.Phone, true}
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
}
