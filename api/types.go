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
		Code      string        `json:"code" description:"the short check-in code (签到码): at most 8 characters, none that read alike"`
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
		follow
	}
	counterOut struct {
		Ticket ticketView `json:"ticket"`
	}
	issuedOut struct {
		ID            string `json:"id"`
		Number        string `json:"number"`
		Position      int    `json:"position"`
		EstimatedWait int    `json:"estimated_wait_minutes"`
		follow
	}
	// estimatesOut is how far the waits told at ticket issue were from
	// the waits that followed.
	estimatesOut struct {
		StationID string        `json:"station_id"`
		From      calendar.Date `json:"from"`
		To        calendar.Date `json:"to"`
		Estimator string        `json:"estimator" description:"the estimator the hall tells new tickets by, replayed on the days"`
		N         int           `json:"n" description:"tickets called, each with the wait it was told at issue and the wait until its first call"`
		MAE       float64       `json:"mae_minutes" description:"mean absolute error, minutes"`
		P90       float64       `json:"p90_abs_error_minutes" description:"90th percentile of the absolute error, minutes"`
		Bias      float64       `json:"mean_error_minutes" description:"mean of told minus waited: above 0, tickets were told too long"`
		Uncalled  int           `json:"uncalled" description:"tickets never called, left out of the figures"`
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
