package projections

import (
	"fmt"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/eventstore"
)

// Entry is one line of the audit trail: who did what, when, where.
type Entry struct {
	Position uint64    `json:"position"`
	Stream   string    `json:"stream"`
	Station  string    `json:"station_id,omitempty"`
	Version  uint64    `json:"version"`
	Type     string    `json:"type"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Role     string    `json:"role"`
	// Detail is a decision's content: a reason, a note, the missing
	// materials, the days of an extension.
	Detail map[string]any `json:"detail,omitempty"`
}

// detail is what a decision said, for the audit; nothing for other events
// (and never a person's details).
func detail(r eventstore.Record) map[string]any {
	e, err := domain.DecodeSchema(r.Type, r.Schema, r.Data)
	if err != nil {
		return nil
	}
	switch e := e.(type) {
	case domain.SupplementRequested:
		return map[string]any{"missing": e.Missing}
	case domain.ApplicationRejected:
		if e.Basis != "" {
			return map[string]any{"reason": e.Reason, "basis": e.Basis}
		}
		return map[string]any{"reason": e.Reason}
	case domain.ApplicationApproved:
		return map[string]any{"note": e.Note}
	case domain.ApplicationWithdrawn:
		if e.Reason != "" {
			return map[string]any{"reason": e.Reason}
		}
	case domain.DeadlineExtended:
		return map[string]any{"reason": e.Reason, "days": e.Days, "deadline": e.Deadline}
	case domain.RemediationStep:
		return map[string]any{"step": e.Step, "note": e.Note}
	case domain.ApplicationRated:
		return scores(e.Scores, e.Comment)
	case domain.TicketRated:
		d := scores(e.Scores, e.Comment)
		d["staff"] = e.Staff
		return d
	case domain.RemediationOpened:
		return map[string]any{"due": e.Due}
	case domain.AppointmentCancelled:
		return map[string]any{"reason": e.Reason, "late": e.Late, "by_hall": e.ByHall}
	case domain.SlotClosed:
		return map[string]any{"reason": e.Reason}
	case domain.WalkInsStopped:
		return map[string]any{"reason": e.Reason}
	case domain.ApplicationReady:
		return map[string]any{"where": e.Where}
	// Configuration: what was set, never a password or a secret.
	case domain.ServiceDefined:
		return map[string]any{"service_id": e.Service.ID, "name": e.Service.Name, "name_zh": e.Service.NameZh,
			"time_limit_days": e.Service.TimeLimitDays, "time_limit_unit": e.Service.TimeLimitUnit}
	case domain.StationRegistered:
		return map[string]any{"station_id": e.ID, "name": e.Name, "name_en": e.NameEn}
	case domain.CounterAdded:
		return map[string]any{"counter_id": e.Counter.ID, "name": e.Counter.Name, "service_ids": e.Counter.ServiceIDs}
	case domain.HoursSet:
		return map[string]any{"weekly": len(e.Weekly), "weekend_windows": len(e.Weekend)}
	case domain.CalendarImported:
		holidays, makeUp := 0, 0
		for _, d := range e.Notice.Days {
			if d.OffDay {
				holidays++
			} else {
				makeUp++
			}
		}
		return map[string]any{"year": e.Notice.Year, "holidays": holidays, "make_up_days": makeUp}
	case domain.UserCreated:
		return map[string]any{"username": e.Username, "role": e.Role, "station_id": e.StationID}
	case domain.WebhookSubscribed:
		return map[string]any{"subscription": e.ID, "event_types": e.EventTypes}
	}
	return nil
}

// scores is a rating's detail: its scores, the dimensions given, and its
// comment.
func scores(s domain.Scores, comment string) map[string]any {
	d := map[string]any{"score": s.Score, "comment": comment}
	for k, v := range map[string]int{"attitude": s.Attitude, "efficiency": s.Efficiency, "competence": s.Competence} {
		if v != 0 {
			d[k] = v
		}
	}
	return d
}

// Mark is an event of the log in an actor's index, with its station.
type Mark struct {
	Position uint64 `json:"p"`
	Station  string `json:"s,omitempty"`
}

// Audit indexes the log by actor (谁审批谁负责) and by station: lists of
// positions, one document per actor or station and batch; the entries
// themselves are read from the log (AuditByActor, AuditByStation). It keeps the station of each
// stream whose name does not say it. A stream's own history needs no index:
// the log reads it directly (AuditByStream).
type Audit struct{}

func (Audit) Name() string { return "audit" }

func (Audit) Lists() []string { return []string{"by-actor", "by-station"} }

func (Audit) Apply(v *View, r eventstore.Record, e domain.Event) error {
	station, ok := domain.StationOfStream(r.Stream)
	if !ok {
		var err error
		if station, err = streamStation(v, r.Stream, e); err != nil {
			return err
		}
	}
	if r.Actor.ID != "" {
		v.Append("by-actor", r.Actor.ID, r.Position, Mark{r.Position, station})
	}
	if station != "" {
		v.Append("by-station", station, r.Position, r.Position)
	}
	return nil
}

// streamStation is the station of an appointment, application, user or
// rating stream, which the stream's first event names.
func streamStation(v *View, stream string, e domain.Event) (string, error) {
	var station string
	switch e := e.(type) {
	case domain.AppointmentBooked:
		station = e.StationID
	case domain.ApplicationSubmitted:
		station = e.StationID
	case domain.UserCreated:
		station = e.StationID
	case domain.TicketRated:
		station = e.StationID
	default:
		s, _, err := Get[string](v, "streams", stream)
		return s, err
	}
	if station != "" {
		v.Put("streams", stream, station)
	}
	return station, nil
}

// AppointmentView is an appointment as its resident and the staff see it.
type AppointmentView struct {
	ID       string        `json:"id"`
	Station  string        `json:"station_id"`
	Service  string        `json:"service_id"`
	Date     string        `json:"date"`
	Start    domain.Clock  `json:"start"`
	End      domain.Clock  `json:"end"`
	Status   domain.Status `json:"status"`
	Resident domain.Person `json:"resident"`
	TicketID string        `json:"ticket_id,omitempty"`
	Number   string        `json:"ticket_number,omitempty"`
	Owner    string        `json:"owner,omitempty"`
	Code     string        `json:"code,omitempty"` // the check-in code (签到码)
	Reminded bool          `json:"reminded,omitempty"`
	// Why it was cancelled; Late if after the cut-off (a no-show), ByHall
	// if the hall cancelled it (a closure).
	Reason string `json:"cancel_reason,omitempty"`
	Late   bool   `json:"late_cancel,omitempty"`
	ByHall bool   `json:"cancelled_by_hall,omitempty"`
}

// Residents keeps appointments by id and by owner (the login that booked,
// else the resident's reference), for "my appointments"; the bookings
// still open by date, for the jobs that remind and sweep no-shows; and the
// cancellations whose notice is still to be sent.
type Residents struct{}

func (Residents) Name() string { return "residents" }

func (Residents) Apply(v *View, r eventstore.Record, e domain.Event) error {
	if x, ok := e.(domain.ResidentErased); ok {
		return forget(v, "appointments", x.Ref, func(a *AppointmentView) { a.Resident = a.Resident.Forget() })
	}
	id, ok := domain.StreamID("appointment", r.Stream)
	if !ok {
		return nil
	}
	a, found, err := Get[AppointmentView](v, "appointments", id)
	if err != nil {
		return err
	}
	switch e := e.(type) {
	case domain.AppointmentBooked:
		a = AppointmentView{ID: e.ID, Station: e.StationID, Service: e.ServiceID, Date: e.Date.String(), Start: e.Start, End: e.End,
			Status: domain.Booked, Resident: e.Resident, Owner: e.Owner, Code: e.Code}
		if e.Code != "" {
			v.Put("codes", e.StationID+"/"+e.Code, id) // while it is live
		}
		owner := e.Owner
		if owner == "" {
			owner = e.Resident.Ref
		}
		v.Add("by-resident", owner+"/"+e.ID, e.ID)
		v.Add("booked", a.Date+"/"+id, id)
		if err := remember(v, e.Resident.Ref, id); err != nil {
			return err
		}
		found = true
	case domain.AppointmentRescheduled:
		v.Delete("booked", a.Date+"/"+id)
		a.Date, a.Start, a.End = e.Date.String(), e.Start, e.End
		v.Add("booked", a.Date+"/"+id, id)
	case domain.AppointmentCancelled:
		a.Status, a.Reason, a.Late, a.ByHall = domain.Cancelled, e.Reason, e.Late, e.ByHall
		v.Delete("booked", a.Date+"/"+id)
		if a.Code != "" {
			v.Delete("codes", a.Station+"/"+a.Code)
		}
		if e.ByHall {
			v.Add("notices", id, id) // until the notice is sent
		}
	case domain.NoticeSent:
		v.Delete("notices", id)
	case domain.AppointmentCheckedIn:
		a.Status, a.TicketID, a.Number = domain.CheckedIn, e.TicketID, e.Number
		v.Delete("booked", a.Date+"/"+id)
		if a.Code != "" {
			v.Delete("codes", a.Station+"/"+a.Code)
			// The code read again that day finds the ticket it gave.
			v.Put("arrived", a.Station+"/"+a.Date+"/"+a.Code, id)
		}
	case domain.AppointmentNoShow:
		a.Status = domain.NoShow
		v.Delete("booked", a.Date+"/"+id)
		if a.Code != "" {
			v.Delete("codes", a.Station+"/"+a.Code)
		}
	case domain.ReminderSent:
		a.Reminded = true
	}
	if !found {
		return fmt.Errorf("appointment %s: %s before it was booked", id, r.Type)
	}
	v.Put("appointments", id, a)
	return nil
}
