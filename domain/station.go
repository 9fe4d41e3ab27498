package domain

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/servicehall/servicehall/domain/calendar"
)

// Categories of service.
const (
	Household = "household" // 户籍
	License   = "license"   // 证照
)

// Service is one line of business with its promised time limit.
type Service struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	NameZh   string `json:"name_zh"`
	Category string `json:"category"`
	// TimeLimitDays is the promised limit (承诺时限); warnings follow it.
	TimeLimitDays int           `json:"time_limit_days"`
	TimeLimitUnit calendar.Unit `json:"time_limit_unit"`
	// LegalLimitDays is the statute's limit (法定时限), 0 for the promised
	// one; past it an application escalates a level higher and can no
	// longer be extended.
	LegalLimitDays int           `json:"legal_limit_days,omitempty"`
	LegalLimitUnit calendar.Unit `json:"legal_limit_unit,omitempty"`
	Online         bool          `json:"online"`
	Materials      []string      `json:"materials"`
	// MaterialsEn names the materials in English, in the same order.
	MaterialsEn []string `json:"materials_en,omitempty"`
	// Fee is what the service costs, as the service guide (办事指南) says
	// it (收费标准), with its basis; "" when none is recorded.
	Fee string `json:"fee,omitempty"`
	// LegalBasis names the statutes and articles the service rests on
	// (设定依据).
	LegalBasis string `json:"legal_basis,omitempty"`
}

// Legal is the statute's limit and unit: the promised one when the
// catalogue names none.
func (s Service) Legal() (int, calendar.Unit) {
	if s.LegalLimitDays == 0 {
		return s.TimeLimitDays, s.TimeLimitUnit
	}
	return s.LegalLimitDays, s.LegalLimitUnit
}

// Prefix is the letter of its queue tickets: A household, B license.
func (s Service) Prefix() string {
	if s.Category == License {
		return "B"
	}
	return "A"
}

func (s Service) check() error {
	var errs []error
	if err := CheckID("id", s.ID); err != nil {
		errs = append(errs, err)
	}
	if strings.TrimSpace(s.Name) == "" || strings.TrimSpace(s.NameZh) == "" {
		errs = append(errs, &FieldError{"name", invalid("both name and name_zh are required (名称必填)")})
	}
	for field, text := range map[string]string{"name": s.Name, "name_zh": s.NameZh} {
		if err := CheckText(field, text); err != nil {
			errs = append(errs, err)
		}
	}
	for field, text := range map[string]string{"fee": s.Fee, "legal_basis": s.LegalBasis} {
		if text == "" {
			continue
		}
		if err := CheckText(field, text); err != nil {
			errs = append(errs, err)
		}
	}
	if s.Category != Household && s.Category != License {
		errs = append(errs, &FieldError{"category", invalid("household or license (类别应为 household 或 license)")})
	}
	if s.TimeLimitDays < 0 || s.TimeLimitDays > 365 {
		errs = append(errs, &FieldError{"time_limit_days", invalid("0 to 365 days (时限应为0-365天)")})
	}
	if !s.TimeLimitUnit.Valid() {
		errs = append(errs, &FieldError{"time_limit_unit", invalid("working or calendar (应为 working 或 calendar)")})
	}
	if s.LegalLimitDays < 0 || s.LegalLimitDays > 365 {
		errs = append(errs, &FieldError{"legal_limit_days", invalid("0 to 365 days (法定时限应为0-365天)")})
	}
	if s.LegalLimitUnit != "" && !s.LegalLimitUnit.Valid() {
		errs = append(errs, &FieldError{"legal_limit_unit", invalid("working or calendar (应为 working 或 calendar)")})
	}
	// The statute's limit is the longer: a promise beyond it would be
	// overdue under the law before it is under the promise. A working day
	// is at least a calendar day, and five of them take seven.
	if l := s.LegalLimitDays; l > 0 {
		p := s.TimeLimitDays
		if s.LegalLimitUnit == calendar.WorkingDays && s.TimeLimitUnit == calendar.CalendarDays {
			l = l * 7 / 5
		}
		if l < p {
			errs = append(errs, &FieldError{"legal_limit_days", invalid("no shorter than the promised limit (法定时限不应短于承诺时限)")})
		}
	}
	errs = append(errs, checkMaterials("materials", s.Materials), checkMaterials("materials_en", s.MaterialsEn))
	if len(s.MaterialsEn) > 0 && len(s.MaterialsEn) != len(s.Materials) {
		errs = append(errs, &FieldError{"materials_en", invalid("one English name per material, in the same order (英文材料名应与材料一一对应)")})
	}
	return joinErrs(errs)
}

// checkMaterials takes a list of at most 30 materials, each named, once,
// in at most 100 characters: the public catalogue serves them to everyone.
func checkMaterials(field string, ms []string) error {
	if len(ms) > 30 {
		return &FieldError{field, invalid("at most 30 materials (材料最多30项)")}
	}
	seen := map[string]bool{}
	for i, m := range ms {
		m = strings.TrimSpace(m)
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case m == "" || utf8.RuneCountInString(m) > 100:
			return &FieldError{f, invalid("a name of 1 to 100 characters (材料名称应为1-100个字符)")}
		case seen[m]:
			return &FieldError{f, invalid("listed twice (材料重复)")}
		}
		if err := CheckText(f, m); err != nil {
			return err
		}
		seen[m] = true
	}
	return nil
}

// ServiceDefined adds a service to the catalogue or replaces its definition.
type ServiceDefined struct {
	Service Service `json:"Service"`
}

// Catalogue is the services offered (stream "catalogue").
type Catalogue struct{ Services map[string]Service }

func (c *Catalogue) Apply(e Event) {
	if e, ok := e.(ServiceDefined); ok {
		if c.Services == nil {
			c.Services = map[string]Service{}
		}
		c.Services[e.Service.ID] = e.Service
	}
}

// DefineService adds or changes a service; the unit defaults to working days.
func (c *Catalogue) DefineService(s Service) ([]Event, error) {
	if s.TimeLimitUnit == "" {
		s.TimeLimitUnit = calendar.WorkingDays
	}
	if s.Materials == nil {
		s.Materials = []string{}
	}
	if s.LegalLimitDays > 0 && s.LegalLimitUnit == "" {
		s.LegalLimitUnit = calendar.WorkingDays
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	if old, ok := c.Services[s.ID]; ok && equalService(old, s) {
		return nil, nil
	}
	return []Event{ServiceDefined{s}}, nil
}

func equalService(a, b Service) bool {
	return a.ID == b.ID && a.Name == b.Name && a.NameZh == b.NameZh && a.Category == b.Category &&
		a.TimeLimitDays == b.TimeLimitDays && a.TimeLimitUnit == b.TimeLimitUnit && a.Online == b.Online &&
		a.LegalLimitDays == b.LegalLimitDays && a.LegalLimitUnit == b.LegalLimitUnit &&
		slices.Equal(a.Materials, b.Materials) && slices.Equal(a.MaterialsEn, b.MaterialsEn) &&
		a.Fee == b.Fee && a.LegalBasis == b.LegalBasis
}

// Hours is one opening window: on a weekday (1 Monday … 7 Sunday) from Start
// to End, cut into slots of SlotMinutes, each with Capacity places per
// service, WalkIn of which are kept for people without an appointment.
type Hours struct {
	Weekday     int      `json:"weekday"`
	Start       Clock    `json:"start"`
	End         Clock    `json:"end"`
	ServiceIDs  []string `json:"service_ids"`
	SlotMinutes int      `json:"slot_minutes"`
	Capacity    int      `json:"capacity"`
	WalkIn      int      `json:"walk_in,omitempty"`
}

// Counter is a window of a station and the service lines it may serve.
type Counter struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	NameEn     string   `json:"name_en,omitempty"`
	ServiceIDs []string `json:"service_ids"`
}

// Events of a station (stream "station-{id}").
type (
	// StationRegistered names a station and says where residents find it.
	StationRegistered struct {
		ID      string `json:"ID"`
		Name    string `json:"Name"`
		NameEn  string `json:"NameEn,omitempty"`
		Address string `json:"Address,omitempty"`
		Phone   string `json:"Phone,omitempty"`
	}
	CounterAdded struct {
		Counter Counter `json:"Counter"`
	}
	HoursSet struct {
		Weekly  []Hours `json:"Weekly"`
		Weekend []Hours `json:"Weekend"`
	}
)

// Station is a station's configuration.
type Station struct {
	StationRegistered
	Counters        []Counter
	Weekly, Weekend []Hours
}

func (s *Station) Apply(e Event) {
	switch e := e.(type) {
	case StationRegistered:
		s.StationRegistered = e
	case CounterAdded:
		s.Counters = append(s.Counters, e.Counter)
	case HoursSet:
		s.Weekly, s.Weekend = e.Weekly, e.Weekend
	}
}

func (s *Station) Registered() bool { return s.ID != "" }

func (s *Station) Register(r StationRegistered) ([]Event, error) {
	if err := CheckID("id", r.ID); err != nil {
		return nil, err
	}
	for _, f := range []struct{ field, value string }{{"name", r.Name}, {"name_en", r.NameEn}, {"address", r.Address}, {"phone", r.Phone}} {
		if f.value == "" && f.field != "name" {
			continue
		}
		if err := CheckName(f.field, f.value); err != nil {
			return nil, err
		}
	}
	if s.Registered() {
		if s.StationRegistered == r {
			return nil, nil
		}
		return nil, illegal("station %s already exists (派出所已存在)", r.ID)
	}
	return []Event{r}, nil
}

// AddCounter adds a window serving services of the catalogue.
func (s *Station) AddCounter(c Counter, catalogue map[string]Service) ([]Event, error) {
	if !s.Registered() {
		return nil, fmt.Errorf("%w: station (派出所不存在)", ErrNotFound)
	}
	if err := CheckID("id", c.ID); err != nil {
		return nil, err
	}
	if err := CheckName("name", c.Name); err != nil {
		return nil, err
	}
	if err := knownServices("service_ids", c.ServiceIDs, catalogue); err != nil {
		return nil, err
	}
	if _, ok := s.Counter(c.ID); ok {
		return nil, illegal("counter %s already exists (窗口已存在)", c.ID)
	}
	return []Event{CounterAdded{c}}, nil
}

// Serves says whether one of the station's counters serves service: a
// ticket for another would wait in a line nobody calls.
func (s *Station) Serves(service string) bool {
	return slices.ContainsFunc(s.Counters, func(c Counter) bool { return slices.Contains(c.ServiceIDs, service) })
}

func (s *Station) Counter(id string) (Counter, bool) {
	for _, c := range s.Counters {
		if c.ID == id {
			return c, true
		}
	}
	return Counter{}, false
}

// SetHours replaces the weekly hours and weekend windows. Slots already
// released keep their hours; the new ones apply to slots released later.
func (s *Station) SetHours(weekly, weekend []Hours, catalogue map[string]Service) ([]Event, error) {
	if !s.Registered() {
		return nil, fmt.Errorf("%w: station (派出所不存在)", ErrNotFound)
	}
	var errs []error
	for i, h := range weekly {
		errs = append(errs, h.check(fmt.Sprintf("weekly[%d]", i), 1, 7, catalogue))
	}
	for i, h := range weekend {
		errs = append(errs, h.check(fmt.Sprintf("weekend_windows[%d]", i), 6, 7, catalogue))
	}
	errs = append(errs, overlaps("weekly", weekly), overlaps("weekend_windows", weekend))
	if err := joinErrs(errs); err != nil {
		return nil, err
	}
	return []Event{HoursSet{weekly, weekend}}, nil
}

// overlaps refuses two windows of a day that overlap for a service: their
// slots would be one slot, released once, and the second window's places
// silently lost.
func overlaps(field string, hours []Hours) error {
	for i, a := range hours {
		for j, b := range hours[:i] {
			if a.Weekday == b.Weekday && a.Start < b.End && b.Start < a.End && slices.ContainsFunc(a.ServiceIDs, func(s string) bool { return slices.Contains(b.ServiceIDs, s) }) {
				return &FieldError{fmt.Sprintf("%s[%d]", field, i), invalid("overlaps %s[%d] for a service (与第 %d 个时间段重叠)", field, j, j+1)}
			}
		}
	}
	return nil
}

func (h Hours) check(field string, lo, hi int, catalogue map[string]Service) error {
	var errs []error
	if h.Weekday < lo || h.Weekday > hi {
		errs = append(errs, &FieldError{field + ".weekday", invalid("weekday %d..%d (星期应为 %d-%d)", lo, hi, lo, hi)})
	}
	if h.End <= h.Start || h.End > 24*60 {
		errs = append(errs, &FieldError{field + ".end", invalid("end after start, within the day (结束时间应晚于开始时间)")})
	}
	if h.SlotMinutes < 5 || h.SlotMinutes > 240 || (h.End > h.Start && int(h.End-h.Start) < h.SlotMinutes) {
		errs = append(errs, &FieldError{field + ".slot_minutes", invalid("5 to 240 minutes, no longer than the window (时段应为5-240分钟)")})
	}
	if h.Capacity < 1 || h.Capacity > 1000 {
		errs = append(errs, &FieldError{field + ".capacity", invalid("1 to 1000 places (名额应为1-1000)")})
	}
	if h.WalkIn < 0 || h.WalkIn > h.Capacity {
		errs = append(errs, &FieldError{field + ".walk_in", invalid("0 up to the capacity (现场名额应在0与总名额之间)")})
	}
	errs = append(errs, knownServices(field+".service_ids", h.ServiceIDs, catalogue))
	return joinErrs(errs)
}

func knownServices(field string, ids []string, catalogue map[string]Service) error {
	if len(ids) == 0 {
		return &FieldError{field, invalid("at least one service (至少一项业务)")}
	}
	for _, id := range ids {
		if _, ok := catalogue[id]; !ok {
			return &FieldError{field, invalid("unknown service %q (业务不存在)", id)}
		}
	}
	return nil
}

// SlotSpec is one slot a station opens: a service at a time on a date.
type SlotSpec struct {
	Station  string        `json:"station_id"`
	Service  string        `json:"service_id"`
	Date     calendar.Date `json:"date"`
	Start    Clock         `json:"start"`
	End      Clock         `json:"end"`
	Capacity int           `json:"capacity"`
	WalkIn   int           `json:"walk_in,omitempty"`
}

// Stream is the slot's stream name.
func (s SlotSpec) Stream() string { return SlotStream(s.Station, s.Date, s.Start, s.Service) }

func SlotStream(station string, d calendar.Date, start Clock, service string) string {
	return fmt.Sprintf("slot-%s-%s-%02d%02d-%s", station, d, int(start)/60, int(start)%60, service)
}

// HoursOn says which hours apply on d: none on a public holiday; Monday's
// weekly hours on a make-up working day (调休), since the notices do not say
// which weekday it stands for; the weekday's weekly hours on other working
// days; the weekend windows on ordinary weekends.
func (s *Station) HoursOn(d calendar.Date, cal *calendar.Calendar) []Hours {
	switch {
	case cal.IsHoliday(d):
		return nil
	case cal.IsMakeUpDay(d):
		return filter(s.Weekly, 1)
	case cal.IsWorkingDay(d):
		return filter(s.Weekly, d.Weekday())
	default:
		return filter(s.Weekend, d.Weekday())
	}
}

func filter(hs []Hours, weekday int) []Hours {
	var out []Hours
	for _, h := range hs {
		if h.Weekday == weekday {
			out = append(out, h)
		}
	}
	return out
}

// SlotsOn lists the slots the station opens on d.
func (s *Station) SlotsOn(d calendar.Date, cal *calendar.Calendar) []SlotSpec {
	var out []SlotSpec
	for _, h := range s.HoursOn(d, cal) {
		for start := h.Start; start+Clock(h.SlotMinutes) <= h.End; start += Clock(h.SlotMinutes) {
			for _, svc := range h.ServiceIDs {
				out = append(out, SlotSpec{Station: s.ID, Service: svc, Date: d, Start: start,
					End: start + Clock(h.SlotMinutes), Capacity: h.Capacity, WalkIn: h.WalkIn})
			}
		}
	}
	return out
}

// CalendarImported records one year's official notice (stream "calendar-{year}").
type CalendarImported struct {
	Notice calendar.Notice `json:"Notice"`
}

// CalendarYear is one year's imported notice.
type CalendarYear struct {
	Notice   calendar.Notice
	Imported bool
}

func (c *CalendarYear) Apply(e Event) {
	if e, ok := e.(CalendarImported); ok {
		c.Notice, c.Imported = e.Notice, true
	}
}

// Import records a notice unless the same one is already recorded.
func (c *CalendarYear) Import(n calendar.Notice) ([]Event, error) {
	if c.Imported && slices.Equal(c.Notice.Days, n.Days) {
		return nil, nil
	}
	return []Event{CalendarImported{n}}, nil
}

func joinErrs(errs []error) error {
	var kept []error
	for _, e := range errs {
		if e != nil {
			kept = append(kept, e)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	if len(kept) == 1 {
		return kept[0]
	}
	return joined(kept)
}

// joined keeps errors.Is working for every part and reads as one line.
type joined []error

func (j joined) Error() string {
	s := make([]string, len(j))
	for i, e := range j {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

func (j joined) Unwrap() []error { return j }

func init() {
	register(map[string]Event{
		"ServiceDefined":    ServiceDefined{},
		"StationRegistered": StationRegistered{},
		"CounterAdded":      CounterAdded{},
		"HoursSet":          HoursSet{},
		"CalendarImported":  CalendarImported{},
	})
}
