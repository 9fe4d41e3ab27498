package calendar

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Day is one entry of an official notice: a public holiday (OffDay) or a
// make-up working day on a weekend (!OffDay). The JSON is holiday-cn's.
type Day struct {
	Name   string `json:"name"`
	Date   Date   `json:"date"`
	OffDay bool   `json:"isOffDay"`
}

// Notice is one year's official calendar in the holiday-cn format.
type Notice struct {
	Year int   `json:"year"`
	Days []Day `json:"days"`
}

// ParseNotice reads and checks a holiday-cn document. Unknown fields
// ($schema, papers) are ignored; every day must be a real date near the
// notice's year, listed once, and a make-up day must fall on a weekend.
func ParseNotice(b []byte) (Notice, error) {
	var n Notice
	if err := json.Unmarshal(b, &n); err != nil {
		return Notice{}, fmt.Errorf("holiday calendar: %w", err)
	}
	if n.Year < 2000 || n.Year > 2100 {
		return Notice{}, fmt.Errorf("holiday calendar: year %d out of range 2000-2100 (年份超出范围)", n.Year)
	}
	if n.Days == nil {
		return Notice{}, errors.New(`holiday calendar: missing "days" (缺少 days)`)
	}
	seen := make(map[Date]bool, len(n.Days))
	for i, d := range n.Days {
		switch {
		case d.Date.IsZero():
			return Notice{}, fmt.Errorf("holiday calendar: day %d has no date (缺少日期)", i)
		case d.Date.Year < n.Year-1 || d.Date.Year > n.Year+1:
			return Notice{}, fmt.Errorf("holiday calendar: %s is far from year %d (日期与年份不符)", d.Date, n.Year)
		case seen[d.Date]:
			return Notice{}, fmt.Errorf("holiday calendar: %s listed twice (日期重复)", d.Date)
		case !d.OffDay && d.Date.Weekday() < 6:
			return Notice{}, fmt.Errorf("holiday calendar: make-up working day %s is not a weekend (调休日应在周末)", d.Date)
		}
		seen[d.Date] = true
	}
	return n, nil
}

// Complete checks a notice someone imports: it gives the year's holidays,
// every statutory one among them, on dates of the year (a make-up day may
// fall in the last days of the year before). A notice missing a festival
// would turn it into a working day under every deadline.
func (n Notice) Complete() error {
	if len(n.Days) == 0 {
		return fmt.Errorf("holiday calendar %d: no days (放假安排为空)", n.Year)
	}
	off := map[Date]bool{}
	for _, d := range n.Days {
		if (d.Date.Year != n.Year && d.OffDay) || (d.Date.Year == n.Year-1 && d.Date.Month != time.December) || d.Date.Year > n.Year {
			return fmt.Errorf("holiday calendar %d: %s is not of that year (日期不属于该年度)", n.Year, d.Date)
		}
		if d.OffDay {
			off[d.Date] = true
		}
	}
	for _, d := range Statutory(n.Year) {
		if !off[d.Date] {
			return fmt.Errorf("holiday calendar %d: %s (%s) is a statutory holiday but not off (缺少法定节假日 %s)", n.Year, d.Date, d.Name, d.Date)
		}
	}
	return nil
}

// Unit says how a time limit is counted.
type Unit string

const (
	WorkingDays  Unit = "working"  // 工作日: 行政许可法 art. 82
	CalendarDays Unit = "calendar" // 日, as the ID-card and residence-permit statutes say
)

func (u Unit) Valid() bool { return u == WorkingDays || u == CalendarDays }

// Calendar answers whether a date is a working day. It is immutable; With
// returns a new one. A year without a notice has its statutory holidays,
// computed and provisional (Statutory), and no make-up days.
type Calendar struct {
	special map[Date]entry
	years   map[int]bool
}

type entry struct {
	Day
	notice int // the year of the notice that said so
}

// New builds a calendar from official notices.
func New(notices ...Notice) *Calendar {
	return (&Calendar{}).With(notices...)
}

// With returns a calendar that also holds the given notices; a later notice
// for a year replaces the earlier one.
func (c *Calendar) With(notices ...Notice) *Calendar {
	next := &Calendar{special: make(map[Date]entry, len(c.special)), years: make(map[int]bool, len(c.years)+len(notices))}
	replaced := make(map[int]bool)
	for _, n := range notices {
		replaced[n.Year] = true
	}
	for d, e := range c.special {
		if !replaced[e.notice] {
			next.special[d] = e
		}
	}
	for y := range c.years {
		next.years[y] = true
	}
	for _, n := range notices {
		if len(n.Days) > 0 { // an empty notice is one not yet published
			next.years[n.Year] = true
		}
		for _, d := range n.Days {
			next.special[d.Date] = entry{d, n.Year}
		}
	}
	return next
}

// Years lists the years whose official notice is known and not empty.
func (c *Calendar) Years() []int {
	ys := make([]int, 0, len(c.years))
	for y := range c.years {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	return ys
}

// Reason values of Describe.
const (
	ReasonWorkday = "workday"
	ReasonWeekend = "weekend"
	ReasonHoliday = "holiday"
	ReasonMakeUp  = "makeup"
	// ReasonProvisional is a statutory holiday of a year whose official
	// notice is not yet imported, computed (see Statutory).
	ReasonProvisional = "provisional"
)

// Describe tells whether d is a working day, why, and the holiday's name.
func (c *Calendar) Describe(d Date) (working bool, reason, name string) {
	if day, ok := c.special[d]; ok {
		if day.OffDay {
			return false, ReasonHoliday, day.Name
		}
		return true, ReasonMakeUp, day.Name
	}
	if !c.years[d.Year] {
		if name, ok := provisional(d); ok {
			return false, ReasonProvisional, name
		}
	}
	if d.Weekday() >= 6 {
		return false, ReasonWeekend, ""
	}
	return true, ReasonWorkday, ""
}

// Provisional says whether year's days come from Statutory, for want of
// the year's official notice.
func (c *Calendar) Provisional(year int) bool { return !c.years[year] }

func (c *Calendar) IsWorkingDay(d Date) bool {
	w, _, _ := c.Describe(d)
	return w
}

// IsHoliday reports a public holiday, official or provisional (not an
// ordinary weekend).
func (c *Calendar) IsHoliday(d Date) bool {
	_, reason, _ := c.Describe(d)
	return reason == ReasonHoliday || reason == ReasonProvisional
}

// IsMakeUpDay reports a weekend day that is an official working day.
func (c *Calendar) IsMakeUpDay(d Date) bool {
	day, ok := c.special[d]
	return ok && !day.OffDay
}

// AddWorkingDays is the nth working day after d; d itself is not counted
// (a period starts the next day: 民法典 art. 201). n <= 0 gives d.
func (c *Calendar) AddWorkingDays(d Date, n int) Date {
	for n > 0 {
		d = d.AddDays(1)
		if c.IsWorkingDay(d) {
			n--
		}
	}
	return d
}

// WorkingDaysBetween counts the working days in (from, to]; negative when to
// is before from.
func (c *Calendar) WorkingDaysBetween(from, to Date) int {
	if to.Before(from) {
		return -c.WorkingDaysBetween(to, from)
	}
	n := 0
	for d := from.AddDays(1); !d.After(to); d = d.AddDays(1) {
		if c.IsWorkingDay(d) {
			n++
		}
	}
	return n
}

// Add counts n days of the given unit after d. A period counted in calendar
// days that ends on a public holiday or weekend ends on the next working day
// instead (民法典 art. 203).
func (c *Calendar) Add(d Date, n int, u Unit) Date {
	if u == CalendarDays {
		end := d.AddDays(n)
		for !c.IsWorkingDay(end) {
			end = end.AddDays(1)
		}
		return end
	}
	return c.AddWorkingDays(d, n)
}

// Between counts days of the given unit in (from, to].
func (c *Calendar) Between(from, to Date, u Unit) int {
	if u == CalendarDays {
		return from.DaysUntil(to)
	}
	return c.WorkingDaysBetween(from, to)
}
