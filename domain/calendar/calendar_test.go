package calendar_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/servicehall/servicehall/domain/calendar"
)

func official(t testing.TB) *calendar.Calendar {
	t.Helper()
	ns, err := calendar.Official()
	if err != nil {
		t.Fatal(err)
	}
	return calendar.New(ns...)
}

func date(t testing.TB, s string) calendar.Date {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The expected dates are counted by hand from the 2024 and 2025 notices
// (国办发明电〔2024〕12号): Spring Festival off 01-28..02-04 with make-up
// Sunday 01-26 and Saturday 02-08; National Day off 10-01..10-08 with make-up
// Sunday 09-28 and Saturday 10-11; 元旦 off 2025-01-01.
func TestDeadlineAcrossSpringFestivalAndNationalDay(t *testing.T) {
	c := official(t)
	tests := []struct {
		accepted string
		n        int
		unit     calendar.Unit
		want     string
	}{
		{"2025-01-24", 1, calendar.WorkingDays, "2025-01-26"},   // Friday; the make-up Sunday counts
		{"2025-01-24", 3, calendar.WorkingDays, "2025-02-05"},   // 26, 27, then the holiday
		{"2025-01-27", 5, calendar.WorkingDays, "2025-02-10"},   // 5, 6, 7, make-up Sat 8, Mon 10
		{"2025-01-28", 1, calendar.WorkingDays, "2025-02-05"},   // accepted on a holiday
		{"2025-09-26", 2, calendar.WorkingDays, "2025-09-29"},   // make-up Sunday 28, Monday 29
		{"2025-09-30", 1, calendar.WorkingDays, "2025-10-09"},   // eight days off
		{"2025-09-30", 3, calendar.WorkingDays, "2025-10-11"},   // make-up Saturday
		{"2025-09-30", 4, calendar.WorkingDays, "2025-10-13"},   // Sunday 12 is off
		{"2025-09-15", 20, calendar.WorkingDays, "2025-10-17"},  // the licence default, across both
		{"2024-12-31", 1, calendar.WorkingDays, "2025-01-02"},   // 元旦
		{"2025-08-10", 60, calendar.CalendarDays, "2025-10-09"}, // ID card: 60日, ends on a working day
		{"2025-09-20", 15, calendar.CalendarDays, "2025-10-09"}, // residence permit: ends on 10-05, a holiday, so the next working day
		{"2025-09-15", 15, calendar.CalendarDays, "2025-09-30"},
		{"2025-01-24", 0, calendar.WorkingDays, "2025-01-24"},
	}
	for _, tt := range tests {
		got := c.Add(date(t, tt.accepted), tt.n, tt.unit)
		if got.String() != tt.want {
			t.Errorf("Add(%s, %d %s) = %s, want %s", tt.accepted, tt.n, tt.unit, got, tt.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	c := official(t)
	tests := []struct {
		date    string
		working bool
		reason  string
		name    string
	}{
		{"2025-01-26", true, calendar.ReasonMakeUp, "春节"},
		{"2025-01-29", false, calendar.ReasonHoliday, "春节"},
		{"2025-02-08", true, calendar.ReasonMakeUp, "春节"},
		{"2025-02-09", false, calendar.ReasonWeekend, ""},
		{"2025-10-08", false, calendar.ReasonHoliday, "国庆节、中秋节"},
		{"2025-10-10", true, calendar.ReasonWorkday, ""},
		{"2026-09-20", true, calendar.ReasonMakeUp, "国庆节"},
	}
	for _, tt := range tests {
		w, r, n := c.Describe(date(t, tt.date))
		if w != tt.working || r != tt.reason || n != tt.name {
			t.Errorf("Describe(%s) = %v %s %q, want %v %s %q", tt.date, w, r, n, tt.working, tt.reason, tt.name)
		}
	}
	// Without the notice, the make-up Sunday is an ordinary weekend.
	if calendar.New().IsWorkingDay(date(t, "2025-01-26")) {
		t.Error("an empty calendar treats 2025-01-26 (Sunday) as a working day")
	}
}

func TestYearsIgnoreUnpublishedNotice(t *testing.T) {
	got := official(t).Years()
	if len(got) != 3 || got[0] != 2024 || got[2] != 2026 {
		t.Fatalf("Years() = %v, want [2024 2025 2026] (2027 is empty)", got)
	}
}

// Counting back what was added gives the same number, on every day of three years.
func TestAddAndBetweenAgree(t *testing.T) {
	c := official(t)
	for d := date(t, "2024-01-01"); d.Year < 2027; d = d.AddDays(1) {
		for _, n := range []int{1, 5, 20} {
			if got := c.WorkingDaysBetween(d, c.AddWorkingDays(d, n)); got != n {
				t.Fatalf("WorkingDaysBetween(%s, AddWorkingDays(%s, %d)) = %d", d, d, n, got)
			}
		}
	}
}

func TestWithReplacesAYear(t *testing.T) {
	c := official(t)
	moved := calendar.Notice{Year: 2025, Days: []calendar.Day{{Name: "test", Date: date(t, "2025-03-03"), OffDay: true}}}
	c2 := c.With(moved)
	if c2.IsHoliday(date(t, "2025-01-29")) {
		t.Error("the replaced 2025 notice still marks 2025-01-29 a holiday")
	}
	if !c2.IsHoliday(date(t, "2025-03-03")) || !c2.IsHoliday(date(t, "2024-10-01")) {
		t.Error("With lost the new day or another year's")
	}
	if !c.IsHoliday(date(t, "2025-01-29")) {
		t.Error("With changed the calendar it was called on")
	}
}

func TestParseNoticeRefusesBadDocuments(t *testing.T) {
	bad := map[string]string{
		"not json":          `{`,
		"no days":           `{"year":2025}`,
		"year out of range": `{"year":1800,"days":[]}`,
		"impossible date":   `{"year":2025,"days":[{"name":"x","date":"2025-02-30","isOffDay":true}]}`,
		"far from year":     `{"year":2025,"days":[{"name":"x","date":"2031-02-03","isOffDay":true}]}`,
		"twice":             `{"year":2025,"days":[{"name":"x","date":"2025-02-03","isOffDay":true},{"name":"y","date":"2025-02-03","isOffDay":true}]}`,
		"weekday make-up":   `{"year":2025,"days":[{"name":"x","date":"2025-02-03","isOffDay":false}]}`,
		"wrong type":        `{"year":"2025","days":[]}`,
	}
	for name, doc := range bad {
		if _, err := calendar.ParseNotice([]byte(doc)); err == nil {
			t.Errorf("%s: ParseNotice accepted %s", name, doc)
		}
	}
	n, err := calendar.ParseNotice([]byte(`{"year":2025,"papers":[],"days":[{"name":"春节","date":"2025-01-26","isOffDay":false}]}`))
	if err != nil || len(n.Days) != 1 || n.Days[0].OffDay {
		t.Fatalf("ParseNotice good document = %+v, %v", n, err)
	}
}

func TestDateJSON(t *testing.T) {
	var v struct{ D calendar.Date }
	if err := json.Unmarshal([]byte(`{"D":"2025-10-11"}`), &v); err != nil || v.D.Weekday() != 6 {
		t.Fatalf("got %v %v, want Saturday 2025-10-11", v.D, err)
	}
	b, _ := json.Marshal(v)
	if !strings.Contains(string(b), `"2025-10-11"`) {
		t.Fatalf("marshal = %s", b)
	}
}

// The computed holidays are a subset of what each official notice gave:
// the notices only add bridging days and make-up days around them.
func TestStatutoryHolidaysAgreeWithTheNotices(t *testing.T) {
	notices, err := calendar.Official()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notices {
		if len(n.Days) == 0 {
			continue
		}
		official := calendar.New(n)
		days := calendar.Statutory(n.Year)
		want := 13
		if n.Year < 2025 {
			want = 11
		}
		if len(days) != want {
			t.Errorf("%d: %d statutory holidays, want %d", n.Year, len(days), want)
		}
		for _, d := range days {
			if working, reason, name := official.Describe(d.Date); working || reason != calendar.ReasonHoliday {
				t.Errorf("%d: computed %s %s, but the notice says %v %s %s", n.Year, d.Date, d.Name, working, reason, name)
			}
		}
	}
}

func TestYearWithoutNoticeIsProvisional(t *testing.T) {
	notices, err := calendar.Official()
	if err != nil {
		t.Fatal(err)
	}
	cal := calendar.New(notices...) // 2027's notice is not out: its file is empty
	for _, c := range []struct {
		date    string
		working bool
		reason  string
		name    string
	}{
		{"2027-01-01", false, calendar.ReasonProvisional, "元旦"},
		{"2027-02-05", false, calendar.ReasonProvisional, "春节"}, // the eve, lunar 12-30
		{"2027-02-08", false, calendar.ReasonProvisional, "春节"},
		{"2027-02-09", true, calendar.ReasonWorkday, ""},
		{"2027-04-05", false, calendar.ReasonProvisional, "清明节"},
		{"2027-06-09", false, calendar.ReasonProvisional, "端午节"},
		{"2027-09-15", false, calendar.ReasonProvisional, "中秋节"},
		{"2027-10-04", true, calendar.ReasonWorkday, ""}, // a notice would bridge it; nothing computes that
		{"2026-01-01", false, calendar.ReasonHoliday, "元旦"},
	} {
		working, reason, name := cal.Describe(date(t, c.date))
		if working != c.working || reason != c.reason || name != c.name {
			t.Errorf("%s: %v %s %s, want %v %s %s", c.date, working, reason, name, c.working, c.reason, c.name)
		}
	}
	if !cal.Provisional(2027) || cal.Provisional(2026) {
		t.Error("Provisional: 2027 has no notice, 2026 has one")
	}
	// Importing the notice replaces the computed days.
	withNotice := cal.With(calendar.Notice{Year: 2027, Days: []calendar.Day{{Name: "元旦", Date: date(t, "2027-01-01"), OffDay: true}}})
	if _, reason, _ := withNotice.Describe(date(t, "2027-02-05")); reason != calendar.ReasonWorkday {
		t.Errorf("after the import, 2027-02-05 is %s: the notice decides", reason)
	}
}

// An imported notice holds every statutory holiday of its year, on dates
// of that year: the State Council's do, a partial or misdated one does not.
func TestNoticeComplete(t *testing.T) {
	notices, err := calendar.Official()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notices {
		if n.Year <= 2026 {
			if err := n.Complete(); err != nil {
				t.Errorf("the official %d notice: %v", n.Year, err)
			}
		}
	}
	var n calendar.Notice
	for _, x := range notices {
		if x.Year == 2026 {
			n = x
		}
	}
	short := calendar.Notice{Year: n.Year, Days: n.Days[1:]}
	if err := short.Complete(); err == nil {
		t.Errorf("a notice without %s was taken", n.Days[0].Date)
	}
	moved := calendar.Notice{Year: n.Year, Days: append([]calendar.Day{{Name: "x", Date: calendar.Date{Year: 2025, Month: 2, Day: 1}, OffDay: true}}, n.Days...)}
	if err := moved.Complete(); err == nil {
		t.Error("a holiday of another year was taken")
	}
	if err := (calendar.Notice{Year: 2028, Days: []calendar.Day{}}).Complete(); err == nil {
		t.Error("an empty notice was taken")
	}
}
