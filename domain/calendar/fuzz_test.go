package calendar_test

import (
	"os"
	"testing"

	"github.com/servicehall/servicehall/domain/calendar"
)

// No holiday-cn document panics the import; an accepted one describes
// its special days as it says, and they lie near its year.
func FuzzParseNotice(f *testing.F) {
	for _, name := range []string{"official/2025.json", "official/2026.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"year":2025,"days":[{"name":"春节","date":"2025-01-28","isOffDay":true}]}`))
	f.Add([]byte(`{"year":2025,"days":[{"name":"x","date":"2024-12-31","isOffDay":true}]}`))
	f.Add([]byte(`{"year":-1,"days":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := calendar.ParseNotice(b)
		if err != nil {
			return
		}
		cal := calendar.New(n)
		for _, d := range n.Days {
			if d.Date.Year < n.Year-1 || d.Date.Year > n.Year+1 {
				t.Fatalf("accepted a day %s far from the year %d", d.Date, n.Year)
			}
			if working, _, _ := cal.Describe(d.Date); working == d.OffDay {
				t.Fatalf("%s: off day %v, described working %v", d.Date, d.OffDay, working)
			}
		}
	})
}
