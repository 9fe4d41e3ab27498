package projections

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore"
)

// Views is what queries read: a store and where each live table is.
type Views interface {
	Store() Store
	NS(projection, table string) string
}

// Lag is how many positions of the log a projection has not read yet.
func (e *Engine) Lag(ctx context.Context, name string) (uint64, error) {
	head, err := e.log.Head(ctx)
	if err != nil {
		return 0, err
	}
	return head - min(head, e.Position(name)), nil
}

// FreeSlots lists a service's slots at a station between two dates.
func FreeSlots(ctx context.Context, v Views, station, service string, from, to calendar.Date) ([]SlotView, error) {
	prefix := station + "/" + service + "/"
	return Scan[SlotView](ctx, v.Store(), v.NS("availability", "slots"), prefix+from.String(), prefix+to.AddDays(1).String())
}

// ApplicationOf reads one application.
func ApplicationOf(ctx context.Context, v Views, id string) (AppView, bool, error) {
	return getDoc[AppView](ctx, v, "applications", "apps", id)
}

func getDoc[T any](ctx context.Context, v Views, projection, table, key string) (T, bool, error) {
	var t T
	ns := v.NS(projection, table)
	raw, ok, err := v.Store().Get(ctx, ns, key)
	if err != nil || !ok {
		return t, false, err
	}
	t, err = decode[T](KV{ns, key, raw})
	return t, err == nil, err
}

// SLARow is one open application and its standing.
type SLARow struct {
	ID         string        `json:"application_id"`
	Station    string        `json:"station_id"`
	Service    string        `json:"service_id"`
	Deadline   calendar.Date `json:"deadline"`
	DaysLeft   int           `json:"working_days_left"` // in Unit, the contract's name notwithstanding
	Unit       calendar.Unit `json:"time_limit_unit"`
	State      string        `json:"state"`
	Escalation int           `json:"escalation_level"`
}

// SLA lists open applications at today, those in state only when given
// (on_track, warning, overdue, paused), the most urgent first.
func SLA(ctx context.Context, v Views, today calendar.Date, cal *calendar.Calendar, rule domain.Escalation, state string) ([]SLARow, error) {
	apps, err := Scan[AppView](ctx, v.Store(), v.NS("applications", "apps"), "", "")
	if err != nil {
		return nil, err
	}
	var out []SLARow
	for _, a := range apps {
		if !a.Open() {
			continue
		}
		st, left := a.SLA(today, cal, rule)
		if state != "" && st != state {
			continue
		}
		unit := a.Unit
		if a.Status == domain.Submitted {
			unit = calendar.WorkingDays // the promised acceptance counts working days
		}
		out = append(out, SLARow{a.ID, a.Station, a.Service, a.Due(), left, unit, st, a.Escalation})
	}
	slices.SortFunc(out, func(a, b SLARow) int {
		if c := a.Deadline.Compare(b.Deadline); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Rate is one row of completion statistics: the accepted applications
// that count in the period, less those withdrawn, and what became of them.
type Rate struct {
	Key  string `json:"key"`
	Rank int    `json:"rank,omitempty"` // by station: 1 is the highest completion rate
	// Due is the applications counted, withdrawn ones left out: the
	// denominator of the completion rate.
	Due int `json:"due"`
	// Completed is those concluded (办结): approved or refused.
	Completed int `json:"completed"`
	OnTime    int `json:"completed_on_time"`
	// Overdue is those past their deadline: marked overdue by the
	// escalation job, or concluded after it.
	Overdue   int `json:"overdue"`
	Approved  int `json:"approved"`
	Rejected  int `json:"rejected"`
	Withdrawn int `json:"withdrawn"` // withdrawn by the applicant, counted in no rate
	Ratings   int `json:"ratings"`
	ScoreSum  int `json:"score_sum"`

	CompletionRate float64 `json:"completion_rate"` // completed / due
	OnTimeRate     float64 `json:"on_time_rate"`    // completed_on_time / completed
	ApprovalRate   float64 `json:"approval_rate"`   // approved / completed
	Satisfaction   float64 `json:"satisfaction,omitempty"`
}

// What completion figures can be grouped by, and the periods an
// application can count in.
var (
	CompletionGroups = []string{"service", "day", "month", "station", "counter", "clerk"}
	CompletionBases  = []string{"due", "accepted", "completed"}
)

// CompletionQuery asks for completion figures.
type CompletionQuery struct {
	Station  string // "" for every station
	From, To calendar.Date
	// By groups the rows: service, day, month (of the basis), station,
	// counter (the one whose ticket the application came in on; "online"
	// or "none" without a ticket: the queue view is read too) or clerk
	// (who accepted it).
	By string
	// Basis is the period an application counts in: the day of its
	// deadline (due, the default), of its acceptance (accepted), or the day
	// it was concluded or withdrawn (completed).
	Basis string
	Loc   *time.Location // the stations' zone: the days decisions fall on
}

// CompletionRates counts the applications of q's period, grouped as q
// says. 办结率 = completed / due; on-time rate = completed by the deadline
// / completed; approval rate = approved / completed. An approval and a
// refusal both conclude a case; a withdrawn case counts in no rate. By
// station, the rows are ranked by completion rate, then on-time rate.
func CompletionRates(ctx context.Context, v Views, q CompletionQuery) ([]Rate, error) {
	if !slices.Contains(CompletionGroups, q.By) {
		return nil, fmt.Errorf("%w: by=%s: want service, day, month, station, counter or clerk (分组方式不正确)", domain.ErrInvalid, q.By)
	}
	var lo, hi string
	switch q.Basis {
	case "due", "accepted", "":
		if q.Basis == "" {
			q.Basis = "due"
		}
		lo, hi = q.From.String(), q.To.AddDays(1).String()
	case "completed":
		lo, hi = instantKey(q.From.In(q.Loc)), instantKey(q.To.AddDays(1).In(q.Loc))
	default:
		return nil, fmt.Errorf("%w: basis=%s: want due, accepted or completed (统计口径不正确)", domain.ErrInvalid, q.Basis)
	}
	family := map[string]string{"due": "due/", "accepted": "accepted/", "completed": "closed/"}[q.Basis]
	cases, err := Scan[Case](ctx, v.Store(), v.NS("completion", "cases"), family+lo, family+hi)
	if err != nil {
		return nil, err
	}
	rows := map[string]*Rate{}
	for _, c := range cases {
		if q.Station != "" && c.Station != q.Station {
			continue
		}
		key, err := caseKey(ctx, v, q, c)
		if err != nil {
			return nil, err
		}
		r, ok := rows[key]
		if !ok {
			r = &Rate{Key: key}
			rows[key] = r
		}
		r.count(c, q.Loc)
	}
	out := make([]Rate, 0, len(rows))
	for _, r := range rows {
		r.CompletionRate = ratio(r.Completed, r.Due)
		r.OnTimeRate = ratio(r.OnTime, r.Completed)
		r.ApprovalRate = ratio(r.Approved, r.Completed)
		r.Satisfaction = ratio(r.ScoreSum, r.Ratings)
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Rate) int { return strings.Compare(a.Key, b.Key) })
	if q.By == "station" {
		rank(out, func(a, b Rate) int {
			return cmp.Or(cmp.Compare(b.CompletionRate, a.CompletionRate), cmp.Compare(b.OnTimeRate, a.OnTimeRate))
		}, func(r *Rate, n int) { r.Rank = n })
	}
	return out, nil
}

// count adds a case to the row.
func (r *Rate) count(c Case, loc *time.Location) {
	if c.Outcome == domain.Withdrawn {
		r.Withdrawn++
		return
	}
	r.Due++
	switch c.Outcome {
	case domain.Approved:
		r.Approved++
	case domain.Rejected:
		r.Rejected++
	}
	onTime := c.OnTime(loc)
	if c.Concluded() {
		r.Completed++
		if onTime {
			r.OnTime++
		}
	}
	if c.Overdue || (c.Concluded() && !onTime) {
		r.Overdue++
	}
	if c.Score > 0 {
		r.Ratings++
		r.ScoreSum += c.Score
	}
}

// caseKey is the row a case falls in.
func caseKey(ctx context.Context, v Views, q CompletionQuery, c Case) (string, error) {
	day := c.Deadline
	switch q.Basis {
	case "accepted":
		day = c.Accepted
	case "completed":
		day = calendar.DateOf(c.Closed.In(q.Loc))
	}
	switch q.By {
	case "day":
		return day.String(), nil
	case "month":
		return day.String()[:7], nil
	case "station":
		return c.Station, nil
	case "clerk":
		return c.AcceptedBy, nil
	case "counter":
		k, err := counterOf(ctx, v, c, q.Loc)
		if q.Station == "" && k != "online" && k != "none" {
			k = c.Station + "/" + k // counter ids are a station's own
		}
		return k, err
	}
	return c.Service, nil
}

// counterOf is the counter that served the ticket an application came in
// on, from the queue view of the day it was submitted: "online" for an
// application made online, "none" for one with no ticket, or whose ticket
// no counter called.
func counterOf(ctx context.Context, v Views, c Case, loc *time.Location) (string, error) {
	if c.TicketID == "" {
		if c.Channel == "online" {
			return "online", nil
		}
		return "none", nil
	}
	key := c.Station + "/" + calendar.DateOf(c.Submitted.In(loc)).String() + "/" + c.TicketID
	t, ok, err := getDoc[TicketView](ctx, v, "queue", "tickets", key)
	if err != nil || !ok || t.Counter == "" {
		return "none", err
	}
	return t.Counter, nil
}

// rank sorts rows by order and numbers them from 1; rows that order holds
// level share a rank, and the next row takes its own place (1, 1, 3).
func rank[T any](rows []T, order func(a, b T) int, set func(*T, int)) {
	slices.SortStableFunc(rows, order)
	n := 0
	for i := range rows {
		if i == 0 || order(rows[i-1], rows[i]) != 0 {
			n = i + 1
		}
		set(&rows[i], n)
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(int(float64(a)/float64(b)*10000+0.5)) / 10000
}

// DayOf reads a station's queue on a date; a day with no tickets is empty.
func DayOf(ctx context.Context, v Views, station string, d calendar.Date) (DayView, error) {
	day, ok, err := getDoc[DayView](ctx, v, "queue", "days", station+"/"+d.String())
	if err != nil {
		return DayView{}, err
	}
	if !ok {
		day = DayView{Station: station, Date: d.String(), Counters: map[string]domain.CounterState{}}
	}
	key := station + "/" + d.String() + "/"
	tickets, err := Scan[TicketView](ctx, v.Store(), v.NS("queue", "tickets"), key, PrefixEnd(key))
	if err != nil {
		return DayView{}, err
	}
	day.Tickets = make(map[string]*TicketView, len(tickets))
	for i := range tickets {
		day.Tickets[tickets[i].ID] = &tickets[i]
	}
	return day, nil
}

// QueueGroups is what queue figures can be grouped by.
var QueueGroups = []string{"service", "counter", "clerk", "station", "hour"}

// QueueQuery asks for the queue figures of stations over days.
type QueueQuery struct {
	Stations []string
	From, To calendar.Date
	// By groups rows: the service a ticket was last in line for, the
	// counter and the clerk who last called, resumed or completed it
	// ("none" for a ticket never called), the station, or the hour the
	// ticket was issued in Loc ("09"). "" for none.
	By  string
	Loc *time.Location
}

// QueueFigures is what the queue of some days came to. A wait runs from a
// ticket's issue to its first call; a service from its last call to its
// completion. Percentiles are of the tickets' waits, by nearest rank.
type QueueFigures struct {
	Tickets    int     `json:"tickets"`
	Served     int     `json:"served"`
	NoShows    int     `json:"no_shows"`
	Cancelled  int     `json:"cancelled"` // still waiting when the day closed
	AvgWait    float64 `json:"avg_wait_minutes"`
	P50Wait    float64 `json:"p50_wait_minutes"`
	P90Wait    float64 `json:"p90_wait_minutes"`
	AvgService float64 `json:"avg_service_minutes"`
	// The appointments of those days, where they can be told apart
	// (not by counter or clerk: an appointment missed was served by none).
	*Turnout
	NoShowRate *float64 `json:"appointment_no_show_rate,omitempty"` // appointment_no_shows / appointments

	waits   []float64
	service Mean
}

// QueueRow is one group's figures.
type QueueRow struct {
	Key  string `json:"key"`
	Rank int    `json:"rank,omitempty"` // by station: 1 is the shortest average wait
	QueueFigures
}

func (f *QueueFigures) ticket(t TicketView) {
	f.Tickets++
	switch t.State {
	case domain.Done:
		f.Served++
		if !t.Done.IsZero() { // a view from before tickets kept it has no time to count
			f.service.Add(t.Done.Sub(t.Called).Minutes())
		}
	case domain.Skipped:
		f.NoShows++
	case domain.Dropped:
		f.Cancelled++
	}
	// A view from before tickets kept their first call has the last one.
	if called := cmp.Or(t.FirstCalled, t.Called); !called.IsZero() {
		f.waits = append(f.waits, called.Sub(t.Issued).Minutes())
	}
}

// ticketKey is the row a ticket falls in, grouped by by.
func ticketKey(t TicketView, station, by string, loc *time.Location) string {
	var key string
	switch by {
	case "hour":
		if loc == nil {
			loc = time.UTC
		}
		key = t.Issued.In(loc).Format("15")
	case "service":
		key = t.Service
	case "counter":
		key = t.Counter
	case "clerk":
		key = t.Clerk
	case "station":
		key = station
	}
	return cmp.Or(key, "none")
}

func (f *QueueFigures) turnout(t Turnout) {
	if f.Turnout == nil {
		f.Turnout = &Turnout{}
	}
	f.Appointments += t.Appointments
	f.Turnout.NoShows += t.NoShows // NoShows alone is the tickets
	f.Late += t.Late
}

// sum works out the averages and percentiles.
func (f *QueueFigures) sum() {
	slices.Sort(f.waits)
	var total float64
	for _, w := range f.waits {
		total += w
	}
	if n := len(f.waits); n > 0 {
		f.AvgWait = round1(total / float64(n))
		f.P50Wait, f.P90Wait = round1(nearestRank(f.waits, 50)), round1(nearestRank(f.waits, 90))
	}
	f.AvgService = round1(f.service.Value())
	if f.Turnout != nil {
		r := ratio(f.Turnout.NoShows, f.Appointments)
		f.NoShowRate = &r
	}
}

// nearestRank is the p-th percentile of sorted values: the least value
// with at least p% of them at or below it.
func nearestRank(sorted []float64, p int) float64 {
	i := (p*len(sorted)+99)/100 - 1
	return sorted[max(0, i)]
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// QueueReport sums up the tickets and appointments of q's stations and
// days, in total and grouped as q.By says.
func QueueReport(ctx context.Context, v Views, q QueueQuery) (QueueFigures, []QueueRow, error) {
	if q.By != "" && !slices.Contains(QueueGroups, q.By) {
		return QueueFigures{}, nil, fmt.Errorf("%w: by=%s: want service, counter, clerk, station or hour (分组方式不正确)", domain.ErrInvalid, q.By)
	}
	total := QueueFigures{Turnout: &Turnout{}}
	groups := map[string]*QueueFigures{}
	group := func(key string) *QueueFigures {
		g, ok := groups[key]
		if !ok {
			g = &QueueFigures{}
			if q.By == "service" || q.By == "station" {
				g.Turnout = &Turnout{}
			}
			groups[key] = g
		}
		return g
	}
	lo, hi := q.From.String(), q.To.AddDays(1).String()
	for _, station := range q.Stations {
		tickets, err := Scan[TicketView](ctx, v.Store(), v.NS("queue", "tickets"), station+"/"+lo, station+"/"+hi)
		if err != nil {
			return QueueFigures{}, nil, err
		}
		for _, t := range tickets {
			total.ticket(t)
			if q.By != "" {
				key := ticketKey(t, station, q.By, q.Loc)
				if q.By == "counter" && len(q.Stations) > 1 && key != "none" {
					key = station + "/" + key // counter ids are a station's own
				}
				group(key).ticket(t)
			}
		}
		kvs, err := v.Store().Scan(ctx, v.NS("queue", "turnout"), station+"/"+lo, station+"/"+hi)
		if err != nil {
			return QueueFigures{}, nil, err
		}
		for _, kv := range kvs {
			t, err := decode[Turnout](kv)
			if err != nil {
				return QueueFigures{}, nil, err
			}
			total.turnout(t)
			switch q.By {
			case "service":
				group(kv.Key[strings.LastIndex(kv.Key, "/")+1:]).turnout(t)
			case "station":
				group(station).turnout(t)
			}
		}
	}
	total.sum()
	rows := make([]QueueRow, 0, len(groups))
	for key, g := range groups {
		g.sum()
		rows = append(rows, QueueRow{Key: key, QueueFigures: *g})
	}
	slices.SortFunc(rows, func(a, b QueueRow) int { return strings.Compare(a.Key, b.Key) })
	if q.By == "station" {
		// A station whose tickets nobody waited for (none called) is not
		// the quickest: it goes last.
		idle := func(r QueueRow) int {
			if len(r.waits) == 0 {
				return 1
			}
			return 0
		}
		rank(rows, func(a, b QueueRow) int {
			return cmp.Or(cmp.Compare(idle(a), idle(b)), cmp.Compare(a.AvgWait, b.AvgWait))
		}, func(r *QueueRow, n int) { r.Rank = n })
	}
	return total, rows, nil
}

// AuditByStream is a stream's history with its actors, read from the log.
func AuditByStream(ctx context.Context, log eventstore.Store, stream string) ([]Entry, error) {
	recs, err := log.ReadStream(ctx, stream, 0)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(recs))
	for i, r := range recs {
		out[i] = entry(r, "")
	}
	return out, nil
}

func entry(r eventstore.Record, station string) Entry {
	return Entry{r.Position, r.Stream, station, r.Version, r.Type, r.OccurredAt, r.Actor.ID, r.Actor.Role, detail(r)}
}

// AuditByActor is everything one actor did, in log order: the audit
// view's index, read from the log.
func AuditByActor(ctx context.Context, v Views, log eventstore.Store, actor string) ([]Entry, error) {
	days, err := Scan[[]Mark](ctx, v.Store(), v.NS("audit", "by-actor"), actor+"/", PrefixEnd(actor+"/"))
	if err != nil {
		return nil, err
	}
	var marks []Mark
	for _, d := range days {
		marks = append(marks, d...)
	}
	return readMarks(ctx, log, marks)
}

// AuditByStation is everything done at one station, in log order.
func AuditByStation(ctx context.Context, v Views, log eventstore.Store, station string) ([]Entry, error) {
	days, err := Scan[[]uint64](ctx, v.Store(), v.NS("audit", "by-station"), station+"/", PrefixEnd(station+"/"))
	if err != nil {
		return nil, err
	}
	var marks []Mark
	for _, d := range days {
		for _, p := range d {
			marks = append(marks, Mark{p, station})
		}
	}
	return readMarks(ctx, log, marks)
}

// readMarks reads the events an index points at, in log order; a run of
// neighbouring positions in one read.
func readMarks(ctx context.Context, log eventstore.Store, marks []Mark) ([]Entry, error) {
	slices.SortFunc(marks, func(a, b Mark) int { return cmp.Compare(a.Position, b.Position) })
	out := make([]Entry, 0, len(marks))
	for i := 0; i < len(marks); {
		n := 1
		for i+n < len(marks) && marks[i+n].Position == marks[i].Position+uint64(n) {
			n++
		}
		recs, err := log.ReadAll(ctx, marks[i].Position-1, n)
		if err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		for _, r := range recs {
			for i < len(marks) && marks[i].Position < r.Position {
				i++ // not in the log: a log restored from an older backup
			}
			if i < len(marks) && marks[i].Position == r.Position {
				out = append(out, entry(r, marks[i].Station))
				i++
			}
		}
		if len(recs) == 0 {
			i += n
		}
	}
	return out, nil
}

// AppointmentOf reads one appointment.
func AppointmentOf(ctx context.Context, v Views, id string) (AppointmentView, bool, error) {
	return getDoc[AppointmentView](ctx, v, "residents", "appointments", id)
}

// AppointmentsOf lists the appointments of an owner.
func AppointmentsOf(ctx context.Context, v Views, ref string) ([]AppointmentView, error) {
	ids, err := Scan[string](ctx, v.Store(), v.NS("residents", "by-resident"), ref+"/", PrefixEnd(ref+"/"))
	if err != nil {
		return nil, err
	}
	out := make([]AppointmentView, 0, len(ids))
	for _, id := range ids {
		a, ok, err := getDoc[AppointmentView](ctx, v, "residents", "appointments", id)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// BookedBetween lists the appointments still booked (not cancelled,
// checked in or missed) dated from..to.
func BookedBetween(ctx context.Context, v Views, from, to calendar.Date) ([]AppointmentView, error) {
	return appointmentsIn(ctx, v, "booked", from.String(), to.AddDays(1).String())
}

// appointmentsIn reads the appointments a residents table lists in
// [from, to) ("" for no end).
func appointmentsIn(ctx context.Context, v Views, table, from, to string) ([]AppointmentView, error) {
	ids, err := Scan[string](ctx, v.Store(), v.NS("residents", table), from, to)
	if err != nil {
		return nil, err
	}
	return appointmentsOf(ctx, v, ids)
}

// AppointmentsOfRef are the appointments booked for the person a resident
// reference names, whoever booked them.
func AppointmentsOfRef(ctx context.Context, v Views, ref string) ([]AppointmentView, error) {
	ids, _, err := getDoc[[]string](ctx, v, "residents", "by-ref", ref)
	if err != nil {
		return nil, err
	}
	return appointmentsOf(ctx, v, ids)
}

// appointmentsOf reads the appointments of ids that exist.
func appointmentsOf(ctx context.Context, v Views, ids []string) ([]AppointmentView, error) {
	out := make([]AppointmentView, 0, len(ids))
	for _, id := range ids {
		a, ok, err := AppointmentOf(ctx, v, id)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// AppointmentArrived is the appointment checked in at station on date with
// code, if any.
func AppointmentArrived(ctx context.Context, v Views, station string, date calendar.Date, code string) (AppointmentView, bool, error) {
	id, ok, err := getDoc[string](ctx, v, "residents", "arrived", station+"/"+date.String()+"/"+code)
	if err != nil || !ok {
		return AppointmentView{}, false, err
	}
	return AppointmentOf(ctx, v, id)
}

// AppointmentByCode is the live appointment a station's check-in code
// names, if any.
func AppointmentByCode(ctx context.Context, v Views, station, code string) (AppointmentView, bool, error) {
	id, ok, err := getDoc[string](ctx, v, "residents", "codes", station+"/"+code)
	if err != nil || !ok {
		return AppointmentView{}, false, err
	}
	return AppointmentOf(ctx, v, id)
}

// ReadyToTell lists the applications whose document is ready to collect
// and whose applicant has not yet been told.
func ReadyToTell(ctx context.Context, v Views) ([]AppView, error) {
	ids, err := Scan[string](ctx, v.Store(), v.NS("applications", "ready"), "", "")
	if err != nil {
		return nil, err
	}
	out := make([]AppView, 0, len(ids))
	for _, id := range ids {
		a, ok, err := ApplicationOf(ctx, v, id)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// Worklist is a station's applications in one desk state (submitted,
// accepted, supplement, warning, overdue, completed — concluded, whether
// approved, refused or done), the most urgent first.
func Worklist(ctx context.Context, v Views, station, state string, today calendar.Date, cal *calendar.Calendar, rule domain.Escalation) ([]AppView, error) {
	apps, err := Scan[AppView](ctx, v.Store(), v.NS("applications", "apps"), "", "")
	if err != nil {
		return nil, err
	}
	var out []AppView
	for _, a := range apps {
		if a.Station != station {
			continue
		}
		var in bool
		switch state {
		case "submitted":
			in = a.Status == domain.Submitted
		case "accepted":
			in = a.Status == domain.Accepted
		case "supplement":
			in = a.Status == domain.Supplying
		case "warning", "overdue":
			st, _ := a.SLA(today, cal, rule)
			in = a.Open() && st == state
		case "approved": // 待办结: decided, to be completed
			in = a.Status == domain.Approved
		case "ready": // 待领取: the document waits for its applicant
			in = a.Ready && a.Collected.IsZero()
		case "completed":
			in = a.Status == domain.Completed || a.Status == domain.Approved || a.Status == domain.Rejected
		default:
			return nil, &domain.FieldError{Field: "state", Err: fmt.Errorf("%w: submitted, accepted, supplement, warning, overdue, approved, ready or completed (状态不正确)", domain.ErrInvalid)}
		}
		if in {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b AppView) int {
		return cmp.Or(a.Due().Compare(b.Due()), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// NoticesDue lists the appointments the hall cancelled whose resident has
// not yet been sent a notice.
func NoticesDue(ctx context.Context, v Views) ([]AppointmentView, error) {
	return appointmentsIn(ctx, v, "notices", "", "")
}

func decode[T any](kv KV) (T, error) {
	var t T
	if err := json.Unmarshal(kv.Doc, &t); err != nil {
		return t, fmt.Errorf("%s/%s: %w", kv.NS, kv.Key, err)
	}
	return t, nil
}

// AsOf builds the named projections in memory from the events that
// happened before end, leaving the live views alone: the view as it stood.
func AsOf(ctx context.Context, log eventstore.Store, end time.Time, ps ...Projection) (*Engine, error) {
	e, err := NewEngine(ctx, log, NewMemory(), ps...)
	if err != nil {
		return nil, err
	}
	for from := uint64(0); ; {
		recs, err := log.ReadAll(ctx, from, 5000)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			return e, nil
		}
		from = recs[len(recs)-1].Position
		kept := recs[:0]
		for _, r := range recs {
			if r.OccurredAt.Before(end) {
				kept = append(kept, r)
			}
		}
		for _, name := range e.names {
			if err := e.Handle(ctx, name, kept); err != nil {
				return nil, err
			}
		}
	}
}

// AsOfStream builds the named projections in memory from one stream's
// events before end: the view of one object as it stood, without reading
// the rest of the log. Only for views of that one object: nothing from
// other streams (an erasure, say) is in it.
func AsOfStream(ctx context.Context, log eventstore.Store, stream string, end time.Time, ps ...Projection) (*Engine, error) {
	e, err := NewEngine(ctx, log, NewMemory(), ps...)
	if err != nil {
		return nil, err
	}
	recs, err := log.ReadStream(ctx, stream, 0)
	if err != nil {
		return nil, err
	}
	kept := recs[:0]
	for _, r := range recs {
		if r.OccurredAt.Before(end) {
			kept = append(kept, r)
		}
	}
	for _, name := range e.names {
		if err := e.Handle(ctx, name, kept); err != nil {
			return nil, err
		}
	}
	return e, nil
}
