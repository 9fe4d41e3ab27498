package api

import (
	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/projections"
)

// The bodies of requests and answers that are not the views' own rows.
// The handlers decode and write these types, and the OpenAPI document is
// reflected from the same types.

type (
	tokenOut struct {
		Token     string `json:"token"`
		Role      string `json:"role"`
		StationID string `json:"station_id,omitempty"`
	}
	codeSent struct {
		DevCode string `json:"dev_code,omitempty" description:"the code itself, with SERVICEHALL_DEMO_OTP=1 only"`
	}
	bookedOut struct {
		ID        string        `json:"id"`
		Status    domain.Status `json:"status"`
		StationID string        `json:"station_id"`
		ServiceID string        `json:"service_id"`
		Date      calendar.Date `json:"date"`
		Start     domain.Clock  `json:"start"`
		End       domain.Clock  `json:"end"`
		Resident  personOut     `json:"resident"`
		Notes     []domain.Note `json:"booking_notes"`
	}
	// stationOut is a station with the booking notes (预约须知) that
	// apply to its appointments.
	stationOut struct {
		projections.StationView
		Notes []domain.Note `json:"booking_notes"`
	}
	appointmentStatus struct {
		ID     string        `json:"id"`
		Status domain.Status `json:"status"`
		Date   calendar.Date `json:"date,omitzero"`
		Start  domain.Clock  `json:"start,omitzero"`
	}
	// checkInOut tells the kiosk all it prints: it reads nothing else.
	checkInOut struct {
		AppointmentID string         `json:"appointment_id"`
		ServiceID     string         `json:"service_id"`
		Ticket        command.Ticket `json:"ticket"`
		EstimatedWait int            `json:"estimated_wait_minutes"`
	}
	counterOut struct {
		Ticket ticketView `json:"ticket"`
	}
	issuedOut struct {
		ID            string `json:"id"`
		Number        string `json:"number"`
		Position      int    `json:"position"`
		EstimatedWait int    `json:"estimated_wait_minutes"`
	}
	applicationStatus struct {
		ID       string                  `json:"id"`
		Status   domain.ApplicationState `json:"status"`
		Deadline calendar.Date           `json:"deadline,omitzero"`
	}

	cancelRequest struct {
		Reason string `json:"reason"`
	}
	rescheduleRequest struct {
		Date  string `json:"date" format:"date"`
		Start string `json:"start" pattern:"^[0-2][0-9]:[0-5][0-9]$"`
	}
)
