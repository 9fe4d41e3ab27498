package projections

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore"
)

// Kinds of rated things.
const (
	RatedTicket      = "ticket"
	RatedApplication = "application"
)

// RatingView is a rated visit or application with its latest rating, which
// replaces the earlier ones, and the remediation of a bad one.
type RatingView struct {
	Kind    string `json:"kind"` // ticket or application
	ID      string `json:"id"`   // the ticket's or the application's
	Station string `json:"station_id"`
	Service string `json:"service_id"`
	Counter string `json:"counter_id,omitempty"`
	// Staff is whose service the rating is of: for a visit, who completed
	// the ticket at the counter; for an application, who accepted it
	// (受理人). DecidedBy approved or rejected the application.
	Staff       string           `json:"staff"`
	DecidedBy   string           `json:"decided_by,omitempty"`
	Served      calendar.Date    `json:"served,omitzero"` // the day of the visit
	Owner       string           `json:"owner,omitempty"` // the resident login it belongs to
	Score       int              `json:"score"`
	Attitude    int              `json:"attitude,omitempty"`
	Efficiency  int              `json:"efficiency,omitempty"`
	Competence  int              `json:"competence,omitempty"`
	Comment     string           `json:"comment,omitempty"`
	Round       int              `json:"round"`
	RatedBy     string           `json:"rated_by_role"` // resident or kiosk
	RatedAt     time.Time        `json:"rated_at"`
	Remediation *RemediationView `json:"remediation,omitempty"`
}

// RemediationView is the remediation of a bad rating: due fifteen working
// days after it, closed by the follow-up with the resident (回访).
type RemediationView struct {
	Round      int           `json:"round"` // of the rating that opened it
	Opened     time.Time     `json:"opened_at"`
	Due        calendar.Date `json:"due"`
	Step       string        `json:"step"` // opened, verify, rectify, reply
	Steps      []RemedyStep  `json:"steps"`
	Warned     bool          `json:"warned"`
	Overdue    bool          `json:"overdue"`
	Escalation int           `json:"escalation_level"`
	Closed     bool          `json:"closed"`
	FollowUp   *RemedyStep   `json:"follow_up,omitempty"` // the reply
}

// Standing is the remediation's standing at today, by the rule deadlines
// follow: on_track, warning, overdue, or closed once followed up; with the
// working days left while it is open (below 0 when overdue).
func (m RemediationView) Standing(today calendar.Date, cal *calendar.Calendar, rule domain.Escalation) (state string, daysLeft *int) {
	if m.Closed {
		return "closed", nil
	}
	left := cal.WorkingDaysBetween(today, m.Due)
	switch {
	case today.After(m.Due):
		return "overdue", &left
	case left <= rule.WarnAt:
		return "warning", &left
	}
	return "on_track", &left
}

// RemedyStep is one step of a remediation: who did what, and their note.
type RemedyStep struct {
	Step string    `json:"step"`
	By   string    `json:"by"`
	Note string    `json:"note"`
	At   time.Time `json:"at"`
}

// TicketPlace is where a ticket was issued: its station's queue of a day.
type TicketPlace struct {
	Station string        `json:"station_id"`
	Date    calendar.Date `json:"date"`
}

// appRated is what the ratings view keeps of every application, to file
// its rating under.
type appRated struct {
	Station   string `json:"s"`
	Service   string `json:"v"`
	Owner     string `json:"o,omitempty"`
	Staff     string `json:"a,omitempty"`
	DecidedBy string `json:"d,omitempty"`
}

// Ratings keeps the ratings (好差评) of visits and applications, each with
// its latest scores and its remediation; the remediations by station, for
// the managers' list and the escalation job; and where each ticket was
// issued, so that a ticket's id finds its day.
type Ratings struct{}

func (Ratings) Name() string { return "ratings" }

func ratingKey(kind, id string) string { return kind + "/" + id }

func (Ratings) Apply(v *View, r eventstore.Record, e domain.Event) error {
	switch e := e.(type) {
	case domain.TicketIssued:
		station, date, ok := domain.ParseQueueStream(r.Stream)
		d, err := calendar.ParseDate(date)
		if !ok || err != nil {
			return fmt.Errorf("ticket %s issued in %s, not a day's queue", e.TicketID, r.Stream)
		}
		v.Add("places", e.TicketID, TicketPlace{station, d})
		return nil
	case domain.TicketRated:
		key := ratingKey(RatedTicket, e.TicketID)
		rv, _, err := Get[RatingView](v, "ratings", key)
		if err != nil {
			return err
		}
		rv.Kind, rv.ID, rv.Station, rv.Service, rv.Counter, rv.Staff, rv.Served, rv.Owner = RatedTicket, e.TicketID, e.StationID, e.ServiceID, e.CounterID, e.Staff, e.Date, e.Owner
		rated(&rv, r, e.Scores, e.Comment, e.Round)
		v.Put("ratings", key, rv)
		v.Put("rated", rv.Station+"/"+key, rv.row())
		return nil
	}
	if id, ok := domain.StreamID("application", r.Stream); ok {
		return applicationRated(v, r, e, id)
	}
	if id, ok := domain.StreamID("rating", r.Stream); ok {
		return remedied(v, r, e, RatedTicket, id)
	}
	return nil
}

// rated replaces a view's scores with a new round's.
func rated(rv *RatingView, r eventstore.Record, s domain.Scores, comment string, round int) {
	rv.Score, rv.Attitude, rv.Efficiency, rv.Competence = s.Score, s.Attitude, s.Efficiency, s.Competence
	rv.Comment, rv.Round, rv.RatedBy, rv.RatedAt = comment, round, r.Actor.Role, r.OccurredAt
}

func applicationRated(v *View, r eventstore.Record, e domain.Event, id string) error {
	if s, ok := e.(domain.ApplicationSubmitted); ok {
		v.Put("apps", id, appRated{Station: s.StationID, Service: s.ServiceID, Owner: s.Owner})
		return nil
	}
	a, ok, err := Get[appRated](v, "apps", id)
	if err != nil || !ok {
		return orMissing(err, ok, "application", id)
	}
	switch e := e.(type) {
	case domain.ApplicationAccepted:
		a.Staff = e.By
	case domain.ApplicationApproved:
		a.DecidedBy = e.By
	case domain.ApplicationRejected:
		a.DecidedBy = e.By
	case domain.ApplicationRated:
		key := ratingKey(RatedApplication, id)
		rv, _, err := Get[RatingView](v, "ratings", key)
		if err != nil {
			return err
		}
		rv.Kind, rv.ID, rv.Station, rv.Service, rv.Staff, rv.DecidedBy, rv.Owner = RatedApplication, id, a.Station, a.Service, a.Staff, a.DecidedBy, a.Owner
		rated(&rv, r, e.Scores, e.Comment, e.Round)
		v.Put("ratings", key, rv)
		v.Put("rated", rv.Station+"/"+key, rv.row())
		return nil
	default:
		return remedied(v, r, e, RatedApplication, id)
	}
	v.Put("apps", id, a)
	return nil
}

// remedied applies a remediation's events to the rating of kind and id.
func remedied(v *View, r eventstore.Record, e domain.Event, kind, id string) error {
	switch e.(type) {
	case domain.RemediationOpened, domain.RemediationStep, domain.RemediationWarned, domain.RemediationOverdue, domain.RemediationEscalated:
	default:
		return nil
	}
	key := ratingKey(kind, id)
	rv, ok, err := Get[RatingView](v, "ratings", key)
	if err != nil || !ok {
		return orMissing(err, ok, "rating", key)
	}
	index := rv.Station + "/" + key
	if o, ok := e.(domain.RemediationOpened); ok {
		rv.Remediation = &RemediationView{Round: o.Round, Opened: r.OccurredAt, Due: o.Due, Step: "opened", Steps: []RemedyStep{}}
		v.Add("remedies", index, key)
		v.Add("open", index, key)
	}
	m := rv.Remediation
	if m == nil {
		return fmt.Errorf("rating %s: %s before a remediation was opened", key, r.Type)
	}
	switch e := e.(type) {
	case domain.RemediationStep:
		step := RemedyStep{e.Step, e.By, e.Note, r.OccurredAt}
		m.Step, m.Steps = e.Step, append(m.Steps, step)
		if e.Step == "reply" {
			m.Closed, m.FollowUp = true, &step
			v.Delete("open", index)
		}
	case domain.RemediationWarned:
		m.Warned = true
	case domain.RemediationOverdue:
		m.Overdue = true
	case domain.RemediationEscalated:
		m.Escalation = e.Level
	}
	v.Put("ratings", key, rv)
	return nil
}

// RatingOf reads the rating of a ticket or an application.
func RatingOf(ctx context.Context, v Views, kind, id string) (RatingView, bool, error) {
	return getDoc[RatingView](ctx, v, "ratings", "ratings", ratingKey(kind, id))
}

// PlaceOf is where a ticket was issued.
func PlaceOf(ctx context.Context, v Views, ticket string) (TicketPlace, bool, error) {
	return getDoc[TicketPlace](ctx, v, "ratings", "places", ticket)
}

// RemediationRow is one remediation of a bad rating and its standing.
type RemediationRow struct {
	Kind       string        `json:"kind"` // ticket or application
	ID         string        `json:"id"`
	Station    string        `json:"station_id"`
	Service    string        `json:"service_id"`
	Staff      string        `json:"staff"`
	Score      int           `json:"score"`
	Comment    string        `json:"comment,omitempty"` // what the resident said
	Round      int           `json:"round"`
	Due        calendar.Date `json:"due"`
	DaysLeft   *int          `json:"working_days_left,omitempty"` // while open; below 0 when overdue
	State      string        `json:"state"`                       // on_track, warning, overdue or closed
	Step       string        `json:"step"`
	Escalation int           `json:"escalation_level"`
}

// Remediations lists the remediations of a station's bad ratings (every
// station's with station ""), at today, the most urgent first. state
// "open" (or "") is those not followed up yet, whatever their standing;
// on_track, warning, overdue and closed are those in that standing.
func Remediations(ctx context.Context, v Views, station string, today calendar.Date, cal *calendar.Calendar, rule domain.Escalation, state string) ([]RemediationRow, error) {
	table := "open"
	if state == "closed" {
		table = "remedies"
	}
	from, to := "", ""
	if station != "" {
		from, to = station+"/", PrefixEnd(station+"/")
	}
	keys, err := Scan[string](ctx, v.Store(), v.NS("ratings", table), from, to)
	if err != nil {
		return nil, err
	}
	out := []RemediationRow{}
	for _, key := range keys {
		kind, id, _ := strings.Cut(key, "/")
		rv, ok, err := RatingOf(ctx, v, kind, id)
		if err != nil || !ok || rv.Remediation == nil {
			return nil, orMissing(err, ok && rv.Remediation != nil, "remediation", key)
		}
		m := rv.Remediation
		row := RemediationRow{Kind: kind, ID: id, Station: rv.Station, Service: rv.Service, Staff: rv.Staff, Score: rv.Score, Comment: rv.Comment, Round: m.Round,
			Due: m.Due, Step: m.Step, Escalation: m.Escalation}
		row.State, row.DaysLeft = m.Standing(today, cal, rule)
		if state == "" || state == "open" && row.State != "closed" || state == row.State {
			out = append(out, row)
		}
	}
	slices.SortFunc(out, func(a, b RemediationRow) int {
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return strings.Compare(a.Kind+"/"+a.ID, b.Kind+"/"+b.ID)
	})
	return out, nil
}

// Rated is what a station's list of ratings keeps of each: its latest
// scores, whose service and when.
type Rated struct {
	Kind    string    `json:"kind"`
	Service string    `json:"service_id"`
	Counter string    `json:"counter_id,omitempty"`
	Staff   string    `json:"staff"`
	Score   int       `json:"score"`
	At      time.Time `json:"rated_at"`
}

func (rv RatingView) row() Rated {
	return Rated{rv.Kind, rv.Service, rv.Counter, rv.Staff, rv.Score, rv.RatedAt}
}

// RatingFigures is how residents rated the stations over some days: the
// latest rating of each visit and application rated then.
type RatingFigures struct {
	Ratings int     `json:"ratings"`
	Average float64 `json:"average"`
	ByScore [5]int  `json:"by_score"` // how many gave 1, 2, 3, 4 and 5
	Bad     int     `json:"bad"`      // 1 or 2: each opened a remediation
	// ByStaff is per clerk whose service was rated, the most rated first.
	ByStaff []StaffRatings `json:"by_staff"`
}

// StaffRatings is one clerk's ratings.
type StaffRatings struct {
	Staff   string  `json:"staff"`
	Ratings int     `json:"ratings"`
	Average float64 `json:"average"`
	Bad     int     `json:"bad"`
}

// RatingSpread sums up the ratings given at stations between from and to
// (the days in loc, both included).
func RatingSpread(ctx context.Context, v Views, stations []string, from, to calendar.Date, loc *time.Location) (RatingFigures, error) {
	out := RatingFigures{ByStaff: []StaffRatings{}}
	sums, staff := 0, map[string]*StaffRatings{}
	for _, station := range stations {
		rows, err := Scan[Rated](ctx, v.Store(), v.NS("ratings", "rated"), station+"/", PrefixEnd(station+"/"))
		if err != nil {
			return out, err
		}
		for _, r := range rows {
			if d := calendar.DateOf(r.At.In(loc)); d.Before(from) || d.After(to) || r.Score < 1 || r.Score > 5 {
				continue
			}
			out.Ratings++
			out.ByScore[r.Score-1]++
			sums += r.Score
			s := staff[r.Staff]
			if s == nil {
				s = &StaffRatings{Staff: r.Staff}
				staff[r.Staff] = s
			}
			s.Ratings++
			s.Average += float64(r.Score) // a sum until the end
			if r.Score <= 2 {
				out.Bad++
				s.Bad++
			}
		}
	}
	if out.Ratings > 0 {
		out.Average = round1(float64(sums) / float64(out.Ratings))
	}
	for _, s := range staff {
		s.Average = round1(s.Average / float64(s.Ratings))
		out.ByStaff = append(out.ByStaff, *s)
	}
	slices.SortFunc(out.ByStaff, func(a, b StaffRatings) int {
		return cmp.Or(cmp.Compare(b.Ratings, a.Ratings), strings.Compare(a.Staff, b.Staff))
	})
	return out, nil
}
