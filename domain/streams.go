package domain

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/servicehall/servicehall/domain/calendar"
)

// The streams of the log are named here and nowhere else. An id in a name
// never holds personal data: a resident is known by a keyed reference.

// CatalogueStream holds the services every station offers.
const CatalogueStream = "catalogue"

// CalendarStream holds a year's official holiday notice.
func CalendarStream(year int) string { return "calendar-" + strconv.Itoa(year) }

func StationStream(id string) string     { return "station-" + id }
func UserStream(name string) string      { return "user-" + name }
func ResidentStream(ref string) string   { return "resident-" + ref } // older logs' fair-booking records
func AccountStream(login string) string  { return "account-" + login }
func ErasureStream(ref string) string    { return "erasure-" + ref }
func AppointmentStream(id string) string { return "appointment-" + id }
func ApplicationStream(id string) string { return "application-" + id }

// RatingStream holds a served ticket's rating and its remediation: apart
// from the day's queue, which is busy while the hall is open and done with
// by its evening, while a rating may come later and its remediation take
// weeks. It names its station in its events.
func RatingStream(ticket string) string { return "rating-" + ticket }
func QueueStream(station string, d calendar.Date) string {
	return "queue-" + station + "-" + d.String()
}

// ParseQueueStream splits "queue-{station}-{YYYY-MM-DD}".
func ParseQueueStream(stream string) (station, date string, ok bool) {
	rest, ok := strings.CutPrefix(stream, "queue-")
	if !ok || len(rest) < 12 || rest[len(rest)-11] != '-' {
		return "", "", false
	}
	return rest[:len(rest)-11], rest[len(rest)-10:], true
}

// StreamID returns what follows kind's prefix in stream ("appointment",
// "application", "station", "user", "resident"), and whether stream is of
// that kind.
func StreamID(kind, stream string) (string, bool) {
	return strings.CutPrefix(stream, kind+"-")
}

var slotStream = regexp.MustCompile(`^slot-(.+?)-\d{4}-\d{2}-\d{2}-\d{4}-.+$`)

// StationOfStream is the station a stream's name tells: a station's own
// stream, its queues and its slots. Appointments, applications and users
// name theirs in their events instead.
func StationOfStream(stream string) (string, bool) {
	if id, ok := StreamID("station", stream); ok {
		return id, true
	}
	if station, _, ok := ParseQueueStream(stream); ok {
		return station, true
	}
	if m := slotStream.FindStringSubmatch(stream); m != nil {
		return m[1], true
	}
	return "", false
}
