package domain_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
)

// given builds a state from events that went through the log's encoding.
func given[S any, P interface {
	*S
	domain.Aggregate
}](t *testing.T, events ...domain.Event) P {
	t.Helper()
	s := P(new(S))
	for _, e := range events {
		name, data, err := domain.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := domain.Decode(name, data)
		if err != nil {
			t.Fatal(err)
		}
		_, again, _ := domain.Encode(back)
		if string(again) != string(data) || reflect.TypeOf(back) != reflect.TypeOf(e) {
			t.Fatalf("%s does not survive the log:\n got %s\nwant %s", name, again, data)
		}
		s.Apply(back)
	}
	return s
}

func then(t *testing.T, got []domain.Event, err error, want ...domain.Event) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events:\n got %#v\nwant %#v", got, want)
	}
}

func thenError(t *testing.T, got []domain.Event, err error, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want %v", err, kind)
	}
	if len(got) != 0 {
		t.Fatalf("a refused command produced events: %#v", got)
	}
}

var (
	shanghai = mustLoc("Asia/Shanghai")
	cal      = officialCalendar()
)

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func officialCalendar() *calendar.Calendar {
	ns, err := calendar.Official()
	if err != nil {
		panic(err)
	}
	return calendar.New(ns...)
}

func day(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func clock(s string) domain.Clock {
	c, err := domain.ParseClock(s)
	if err != nil {
		panic(err)
	}
	return c
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func TestApplicantCheck(t *testing.T) {
	today := at("2025-10-09 09:00")
	good := domain.Applicant{Name: "张三", IDNumber: "11010519491231002x", Phone: "13812345678"}
	c, err := good.Check(today)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID.Full() != "11010519491231002X" || c.ID.String() == c.ID.Full() {
		t.Fatalf("checked = %+v", c)
	}
	bad := []domain.Applicant{
		{Name: "", IDNumber: good.IDNumber, Phone: good.Phone},
		{Name: "张三", IDNumber: "110105194912310021", Phone: good.Phone}, // check digit
		{Name: "张三", IDNumber: "110105194902300020", Phone: good.Phone}, // Feb 30
		{Name: "张三", IDNumber: "110105491231002", Phone: good.Phone},    // 15 digits
		{Name: "张三", IDNumber: good.IDNumber, Phone: "12345"},
	}
	for _, a := range bad {
		if _, err := a.Check(today); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("Check(%+v) = %v, want invalid", a, err)
		}
	}
	var fe *domain.FieldError
	if _, err := bad[4].Check(today); !errors.As(err, &fe) || fe.Field != "phone" {
		t.Errorf("bad phone: %v, want a field error on phone", err)
	}
	if got := domain.MaskName("欧阳娜娜"); got != "欧***" {
		t.Errorf("MaskName = %s", got)
	}
	if got := domain.MaskPhone("13812345678"); got != "138****5678" {
		t.Errorf("MaskPhone = %s", got)
	}
}

var catalogue = map[string]domain.Service{
	"birth":  {ID: "birth", Name: "Birth registration", NameZh: "出生登记", Category: domain.Household, TimeLimitDays: 20, TimeLimitUnit: calendar.WorkingDays},
	"idcard": {ID: "idcard", Name: "ID card", NameZh: "居民身份证申领", Category: domain.License, TimeLimitDays: 60, TimeLimitUnit: calendar.CalendarDays},
	"permit": {ID: "permit", Name: "Residence permit", NameZh: "居住证申领", Category: domain.License, TimeLimitDays: 15, TimeLimitUnit: calendar.CalendarDays, Online: true},
}

func TestCatalogue(t *testing.T) {
	c := given[domain.Catalogue](t)
	svc := catalogue["birth"]
	svc.TimeLimitUnit = ""
	got, err := c.DefineService(svc)
	want := catalogue["birth"]
	want.Materials = []string{}
	then(t, got, err, domain.ServiceDefined{Service: want})

	c = given[domain.Catalogue](t, domain.ServiceDefined{Service: want})
	got, err = c.DefineService(want)
	then(t, got, err) // the same definition again changes nothing

	bad := want
	bad.Category = "food"
	got, err = c.DefineService(bad)
	thenError(t, got, err, domain.ErrInvalid)

	// The service guide's fee and legal basis are part of the definition:
	// changing only them is a change.
	guide := want
	guide.Fee, guide.LegalBasis = "免费", "《中华人民共和国户口登记条例》第七条"
	got, err = c.DefineService(guide)
	then(t, got, err, domain.ServiceDefined{Service: guide})
	c.Apply(got[0])
	got, err = c.DefineService(guide)
	then(t, got, err)
	english := guide
	english.Materials, english.MaterialsEn = []string{"出生医学证明"}, []string{"Medical birth certificate"}
	got, err = c.DefineService(english)
	then(t, got, err, domain.ServiceDefined{Service: english})
	// Materials: each once, named, the English one for one; the legal
	// limit no shorter than the promise.
	for _, broken := range []func(*domain.Service){
		func(s *domain.Service) { s.Materials = []string{"照片", "照片"} },
		func(s *domain.Service) { s.Materials = []string{" "} },
		func(s *domain.Service) { s.MaterialsEn = []string{"Photo", "Another"} },
		func(s *domain.Service) { s.Materials = make([]string, 31) },
		func(s *domain.Service) { s.LegalLimitDays, s.LegalLimitUnit = 10, calendar.WorkingDays }, // the promise is 20
	} {
		b := english
		broken(&b)
		got, err = c.DefineService(b)
		thenError(t, got, err, domain.ErrInvalid)
	}
	guide.LegalBasis = "第七条\u200b"
	got, err = c.DefineService(guide)
	thenError(t, got, err, domain.ErrInvalid)
}

func TestStationHoursOnHolidaysAndMakeUpDays(t *testing.T) {
	weekly := []domain.Hours{
		{Weekday: 1, Start: clock("09:00"), End: clock("12:00"), ServiceIDs: []string{"birth"}, SlotMinutes: 30, Capacity: 4},
		{Weekday: 3, Start: clock("14:00"), End: clock("15:00"), ServiceIDs: []string{"birth", "idcard"}, SlotMinutes: 30, Capacity: 2, WalkIn: 1},
	}
	weekend := []domain.Hours{{Weekday: 6, Start: clock("09:00"), End: clock("12:00"), ServiceIDs: []string{"birth"}, SlotMinutes: 60, Capacity: 3}}
	s := given[domain.Station](t, domain.StationRegistered{ID: "gulou", Name: "鼓楼派出所"})
	got, err := s.SetHours(weekly, weekend, catalogue)
	then(t, got, err, domain.HoursSet{Weekly: weekly, Weekend: weekend})
	s.Apply(got[0])

	tests := []struct {
		date  string
		slots int
		why   string
	}{
		{"2025-09-29", 6, "Monday: six half hours"},
		{"2025-10-01", 0, "National Day, a Wednesday"},
		{"2025-10-04", 0, "a holiday Saturday: no weekend window"},
		{"2025-10-08", 0, "still National Day"},
		{"2025-10-11", 6, "make-up Saturday: Monday's hours, not the window"},
		{"2025-10-15", 4, "Wednesday: two slots, two services"},
		{"2025-10-18", 3, "an ordinary Saturday: the window"},
		{"2025-10-19", 0, "Sunday: nothing configured"},
	}
	for _, tt := range tests {
		if got := s.SlotsOn(day(tt.date), cal); len(got) != tt.slots {
			t.Errorf("%s (%s): %d slots, want %d", tt.date, tt.why, len(got), tt.slots)
		}
	}
	wed := s.SlotsOn(day("2025-10-15"), cal)
	if wed[0].Stream() != "slot-gulou-2025-10-15-1400-birth" || wed[0].WalkIn != 1 {
		t.Errorf("first Wednesday slot = %+v", wed[0])
	}

	bad := []domain.Hours{{Weekday: 6, Start: clock("12:00"), End: clock("09:00"), ServiceIDs: []string{"nope"}, SlotMinutes: 1, Capacity: 0, WalkIn: -1}}
	got, err = s.SetHours(nil, bad, catalogue)
	thenError(t, got, err, domain.ErrInvalid)
	got, err = s.SetHours([]domain.Hours{{Weekday: 8, Start: clock("09:00"), End: clock("10:00"), ServiceIDs: []string{"birth"}, SlotMinutes: 30, Capacity: 1}}, nil, catalogue)
	thenError(t, got, err, domain.ErrInvalid)
	got, err = s.SetHours(nil, weekly[:1], catalogue) // a Monday entry is no weekend window
	thenError(t, got, err, domain.ErrInvalid)
	// Two Monday windows overlapping for birth would release one slot at
	// 10:00 and lose the second window's places; for another service they
	// are two lines.
	overlap := append(weekly[:1:1], domain.Hours{Weekday: 1, Start: clock("10:00"), End: clock("11:00"), ServiceIDs: []string{"idcard", "birth"}, SlotMinutes: 30, Capacity: 4})
	got, err = s.SetHours(overlap, nil, catalogue)
	thenError(t, got, err, domain.ErrInvalid)
	overlap[1].ServiceIDs = []string{"idcard"}
	got, err = s.SetHours(overlap, nil, catalogue)
	then(t, got, err, domain.HoursSet{Weekly: overlap})
}

func TestStationRegisterAndCounters(t *testing.T) {
	s := given[domain.Station](t)
	got, err := s.AddCounter(domain.Counter{ID: "w1", Name: "1号窗口", ServiceIDs: []string{"birth"}}, catalogue)
	thenError(t, got, err, domain.ErrNotFound)
	got, err = s.Register(domain.StationRegistered{ID: "Bad ID", Name: "x"})
	thenError(t, got, err, domain.ErrInvalid)

	s = given[domain.Station](t, domain.StationRegistered{ID: "gulou", Name: "鼓楼派出所"},
		domain.CounterAdded{Counter: domain.Counter{ID: "w1", Name: "1号窗口", ServiceIDs: []string{"birth"}}})
	got, err = s.AddCounter(domain.Counter{ID: "w1", Name: "again", ServiceIDs: []string{"birth"}}, catalogue)
	thenError(t, got, err, domain.ErrState)
	got, err = s.AddCounter(domain.Counter{ID: "w2", Name: "2号窗口", ServiceIDs: []string{"unknown"}}, catalogue)
	thenError(t, got, err, domain.ErrInvalid)
	got, err = s.Register(domain.StationRegistered{ID: "gulou", Name: "鼓楼派出所"})
	then(t, got, err)
	got, err = s.Register(domain.StationRegistered{ID: "gulou", Name: "another name"})
	thenError(t, got, err, domain.ErrState)

	// Where residents find it: an address and a number, checked as names are.
	s = given[domain.Station](t)
	where := domain.StationRegistered{ID: "gulou", Name: "鼓楼派出所", NameEn: "Gulou Police Station", Address: "中山路 1 号", Phone: "010-00000000"}
	got, err = s.Register(where)
	then(t, got, err, where)
	where.Address = "中山路\u202e1 号"
	got, err = s.Register(where)
	thenError(t, got, err, domain.ErrInvalid)
}

func released(capacity, walkIn int) domain.SlotReleased {
	spec := domain.SlotSpec{Station: "gulou", Service: "birth", Date: day("2025-10-11"), Start: clock("09:00"), End: clock("09:30"), Capacity: capacity, WalkIn: walkIn}
	return domain.SlotReleased{Slot: spec, StartsAt: at("2025-10-11 09:00"), EndsAt: at("2025-10-11 09:30")}
}

func TestSlot(t *testing.T) {
	now := at("2025-10-09 10:00")
	spec := released(2, 0).Slot

	s := given[domain.Slot](t)
	got, err := s.Book("a1", "r1", now)
	thenError(t, got, err, domain.ErrNotFound)
	got, err = s.Release(spec, shanghai)
	then(t, got, err, released(2, 0))

	s = given[domain.Slot](t, released(2, 0))
	got, err = s.Release(spec, shanghai)
	then(t, got, err) // released once

	s = given[domain.Slot](t, released(2, 0), domain.SlotBooked{AppointmentID: "a1", ResidentRef: "r1"})
	got, err = s.Book("a2", "r2", now)
	then(t, got, err, domain.SlotBooked{AppointmentID: "a2", ResidentRef: "r2"})
	got, err = s.Book("a1", "r1", now)
	then(t, got, err) // a retried booking

	s = given[domain.Slot](t, released(2, 0), domain.SlotBooked{AppointmentID: "a1", ResidentRef: "r1"}, domain.SlotBooked{AppointmentID: "a2", ResidentRef: "r2"})
	got, err = s.Book("a3", "r3", now)
	thenError(t, got, err, domain.ErrFull)

	s = given[domain.Slot](t, released(3, 1), domain.SlotBooked{AppointmentID: "a1", ResidentRef: "r1"}, domain.SlotBooked{AppointmentID: "a2", ResidentRef: "r2"})
	got, err = s.Book("a3", "r3", now)
	thenError(t, got, err, domain.ErrFull) // the third place is kept for walk-ins

	s = given[domain.Slot](t, released(1, 0), domain.SlotBooked{AppointmentID: "a1", ResidentRef: "r1"})
	got, err = s.Free("a1", now, 10*time.Minute)
	then(t, got, err, domain.SlotFreed{AppointmentID: "a1", ReturnsAt: now.Add(10 * time.Minute)})
	s.Apply(got[0])
	got, err = s.Book("a2", "r2", now.Add(5*time.Minute))
	thenError(t, got, err, domain.ErrFull) // not back in the pool yet
	got, err = s.Book("a2", "r2", now.Add(11*time.Minute))
	then(t, got, err, domain.SlotBooked{AppointmentID: "a2", ResidentRef: "r2"})

	got, err = s.Book("a9", "r9", at("2025-10-11 09:30"))
	thenError(t, got, err, domain.ErrState) // the slot is over
}

func TestResidentLimits(t *testing.T) {
	p := domain.DefaultPolicy
	now := at("2025-10-09 10:00")
	heldFor := func(id, person, svc, d string, when time.Time) domain.BookingHeld {
		return domain.BookingHeld{AppointmentID: id, ServiceID: svc, Date: day(d), Person: person, At: when}
	}
	held := func(id, svc, d string) domain.BookingHeld { return heldFor(id, "p1", svc, d, now) }

	r := given[domain.Resident](t, held("a1", "birth", "2025-10-11"), held("a2", "idcard", "2025-10-11"), held("a3", "birth", "2025-10-13"))
	got, err := r.Hold("a4", "p1", "permit", day("2025-10-14"), now, p)
	thenError(t, got, err, domain.ErrLimit) // three live bookings
	got, err = r.Hold("a4", "p2", "permit", day("2025-10-14"), now, p)
	thenError(t, got, err, domain.ErrLimit) // for anyone: the login holds them

	r = given[domain.Resident](t, held("a1", "birth", "2025-10-11"))
	got, err = r.Hold("a2", "p1", "birth", day("2025-10-11"), now, p)
	thenError(t, got, err, domain.ErrLimit) // one per person, service and day
	got, err = r.Hold("a2", "p1", "idcard", day("2025-10-11"), now, p)
	then(t, got, err, held("a2", "idcard", "2025-10-11"))
	got, err = r.Hold("a2", "p2", "birth", day("2025-10-11"), now, p)
	then(t, got, err, heldFor("a2", "p2", "birth", "2025-10-11", now)) // a child, the same morning
	got, err = r.Move("a1", day("2025-10-13"))
	then(t, got, err, domain.BookingMoved{AppointmentID: "a1", Date: day("2025-10-13")})

	// A family of five (代办), then no sixth person within six months.
	var family []domain.Event
	for i := range 5 {
		id := fmt.Sprintf("f%d", i)
		family = append(family, heldFor(id, fmt.Sprintf("p%d", i), "birth", "2025-09-01", at("2025-08-20 10:00")),
			domain.BookingEnded{AppointmentID: id, Reason: "checked in"})
	}
	r = given[domain.Resident](t, family...)
	got, err = r.Hold("a6", "p6", "birth", day("2025-10-20"), now, p)
	thenError(t, got, err, domain.ErrLimit)
	got, err = r.Hold("a6", "p3", "birth", day("2025-10-20"), now, p)
	then(t, got, err, heldFor("a6", "p3", "birth", "2025-10-20", now)) // one of the family again
	later := at("2026-03-01 10:00")
	got, err = r.Hold("a6", "p6", "birth", day("2026-03-10"), later, p)
	then(t, got, err, heldFor("a6", "p6", "birth", "2026-03-10", later)) // six months on

	noShows := []domain.Event{held("a1", "birth", "2025-06-02"), domain.NoShowCounted{AppointmentID: "a1", At: at("2025-06-02 10:00")},
		held("a2", "birth", "2025-08-04"), domain.NoShowCounted{AppointmentID: "a2", At: at("2025-08-04 10:00")},
		held("a3", "birth", "2025-10-08"), domain.NoShowCounted{AppointmentID: "a3", At: at("2025-10-08 10:00")}}
	r = given[domain.Resident](t, noShows...)
	got, err = r.Hold("a4", "p1", "birth", day("2025-10-20"), now, p)
	thenError(t, got, err, domain.ErrLimit) // three no-shows within six months
	jan := at("2026-01-07 10:00")
	got, err = r.Hold("a4", "p1", "birth", day("2026-01-20"), jan, p)
	then(t, got, err, heldFor("a4", "p1", "birth", "2026-01-20", jan)) // 90 days later

	r = given[domain.Resident](t, noShows[2:]...)
	got, err = r.Hold("a4", "p1", "birth", day("2025-10-20"), now, p)
	then(t, got, err, held("a4", "birth", "2025-10-20")) // two are not three
}

func booked() domain.AppointmentBooked {
	return domain.AppointmentBooked{ID: "a1", StationID: "gulou", ServiceID: "birth", Date: day("2025-10-11"),
		Start: clock("09:00"), End: clock("09:30"), EndsAt: at("2025-10-11 09:30"),
		Resident: domain.Person{Ref: "r1", Name: "张*", ID: "110***********002X", Phone: "138****5678"}}
}

func TestAppointment(t *testing.T) {
	a := given[domain.Appointment](t)
	got, err := a.Book(booked())
	then(t, got, err, booked())
	got, err = a.Cancel("changed my mind", false)
	thenError(t, got, err, domain.ErrNotFound)

	a = given[domain.Appointment](t, booked())
	got, err = a.Book(booked())
	then(t, got, err) // a retried booking completes
	p, start := domain.DefaultPolicy, at("2025-10-11 09:00")
	got, err = a.CheckIn("t1", "A001", at("2025-10-10 09:00"), start, p, false)
	thenError(t, got, err, domain.ErrState) // not the day
	got, err = a.CheckIn("t1", "A001", at("2025-10-11 07:59"), start, p, false)
	thenError(t, got, err, domain.ErrState) // more than an hour early
	if !strings.Contains(err.Error(), "请于 08:00 后再来签到") {
		t.Errorf("early check-in: %v, want the time to come back", err)
	}
	got, err = a.CheckIn("t1", "A001", at("2025-10-11 09:16"), start, p, false)
	thenError(t, got, err, domain.ErrState) // more than 15 minutes late
	got, err = a.CheckIn("t1", "A001", at("2025-10-11 08:00"), start, p, false)
	then(t, got, err, domain.AppointmentCheckedIn{TicketID: "t1", Number: "A001"})
	got, err = a.CheckIn("t1", "A001", at("2025-10-11 09:15"), start, p, true)
	then(t, got, err, domain.AppointmentCheckedIn{TicketID: "t1", Number: "A001", InSlot: true})
	got, err = a.MarkNoShow(at("2025-10-11 09:40"), 15*time.Minute)
	thenError(t, got, err, domain.ErrState) // within the grace period
	got, err = a.MarkNoShow(at("2025-10-11 09:46"), 15*time.Minute)
	then(t, got, err, domain.AppointmentNoShow{})
	got, err = a.Reschedule(day("2025-10-13"), clock("10:00"), clock("10:30"), at("2025-10-13 10:30"))
	then(t, got, err, domain.AppointmentRescheduled{FromDate: day("2025-10-11"), FromStart: clock("09:00"),
		Date: day("2025-10-13"), Start: clock("10:00"), End: clock("10:30"), EndsAt: at("2025-10-13 10:30")})

	a = given[domain.Appointment](t, booked(), domain.AppointmentCancelled{Reason: "x"})
	got, err = a.CheckIn("t1", "A001", at("2025-10-11 09:00"), start, p, true)
	thenError(t, got, err, domain.ErrState) // no check-in after cancel
	got, err = a.Cancel("again", true)
	then(t, got, err)
	got, err = a.Reschedule(day("2025-10-13"), clock("10:00"), clock("10:30"), at("2025-10-13 10:30"))
	thenError(t, got, err, domain.ErrState)
	got, err = a.Remind(at("2025-10-10 18:00"))
	then(t, got, err) // no reminder for a cancelled booking
}

func TestReminderOnce(t *testing.T) {
	a := given[domain.Appointment](t, booked())
	got, err := a.Remind(at("2025-10-10 18:00"))
	then(t, got, err, domain.ReminderSent{At: at("2025-10-10 18:00")})
	a = given[domain.Appointment](t, booked(), domain.ReminderSent{At: at("2025-10-10 18:00")})
	got, err = a.Remind(at("2025-10-10 18:10"))
	then(t, got, err)
}

func issued(id, number, svc string, priority domain.Priority, seq int, inSlot bool) domain.TicketIssued {
	return domain.TicketIssued{TicketID: id, Number: number, ServiceID: svc, Priority: priority, InSlot: inSlot, Seq: seq, At: at("2025-10-13 09:00").Add(time.Duration(seq) * time.Minute)}
}

func TestQueueOrderAndCounters(t *testing.T) {
	now := at("2025-10-13 09:30")
	q := given[domain.Queue](t,
		issued("t1", "A001", "birth", domain.Normal, 1, false),
		issued("t2", "A002", "birth", domain.Elderly, 2, false),
		issued("t3", "A003", "birth", domain.Normal, 3, true),
		issued("t4", "B001", "idcard", domain.Normal, 4, false),
		domain.CounterOpened{CounterID: "w1", ServiceIDs: []string{"birth"}},
		domain.CounterOpened{CounterID: "w2", ServiceIDs: []string{"birth", "idcard"}},
	)
	if p := q.Position("t1"); p != 2 {
		t.Errorf("Position(t1) = %d, want 2 (behind the appointment and the elderly)", p)
	}
	if n := q.Ahead("birth", domain.Normal, false); n != 3 {
		t.Errorf("Ahead(a new walk-in) = %d, want 3", n)
	}
	if n := q.Ahead("birth", domain.Normal, true); n != 1 {
		t.Errorf("Ahead(a new in-slot appointment) = %d, want 1 (behind the one already in its slot)", n)
	}
	if n := q.Ahead("birth", domain.Elderly, false); n != 2 {
		t.Errorf("Ahead(a new elderly walk-in) = %d, want 2", n)
	}
	got, err := q.Issue("t5", "birth", "A", domain.Normal, "", false, now)
	then(t, got, err, domain.TicketIssued{TicketID: "t5", Number: "A004", ServiceID: "birth", Priority: domain.Normal, Seq: 5, At: now})
	got, err = q.Issue("t6", "birth", "A", "vip", "", false, now)
	thenError(t, got, err, domain.ErrInvalid)

	var order []string
	for _, c := range []string{"w1", "w2", "w1", "w2"} {
		got, err := q.CallNext(c, now)
		if err != nil || len(got) != 1 {
			t.Fatalf("CallNext(%s) = %v, %v", c, got, err)
		}
		q.Apply(got[0])
		order = append(order, got[0].(domain.TicketCalled).TicketID)
		got, err = q.CallNext(c, now)
		thenError(t, got, err, domain.ErrState) // one ticket at a time
		got, err = q.Complete(c, now)
		then(t, got, err, domain.TicketCompleted{TicketID: order[len(order)-1], CounterID: c, At: now})
		q.Apply(got[0])
	}
	if want := []string{"t3", "t2", "t1", "t4"}; !reflect.DeepEqual(order, want) {
		t.Fatalf("call order %v, want %v (in-slot appointment, priority, arrival)", order, want)
	}
	got, err = q.CallNext("w1", now)
	then(t, got, err) // nobody waiting
	got, err = q.CallNext("w9", now)
	thenError(t, got, err, domain.ErrState)
}

func TestQueueTwoCountersNeverShareATicket(t *testing.T) {
	now := at("2025-10-13 09:30")
	q := given[domain.Queue](t,
		issued("t1", "A001", "birth", domain.Normal, 1, false),
		issued("t2", "A002", "birth", domain.Normal, 2, false),
		domain.CounterOpened{CounterID: "w1", ServiceIDs: []string{"birth"}},
		domain.CounterOpened{CounterID: "w2", ServiceIDs: []string{"birth"}},
		domain.TicketCalled{TicketID: "t1", CounterID: "w1", At: now},
	)
	got, err := q.Call("w2", "A001", now)
	thenError(t, got, err, domain.ErrState)
	got, err = q.CallNext("w2", now)
	then(t, got, err, domain.TicketCalled{TicketID: "t2", CounterID: "w2", At: now})
	got, err = q.Call("w2", "A999", now)
	thenError(t, got, err, domain.ErrNotFound)
}

func TestQueueRecallNoShowParkTransferClose(t *testing.T) {
	now := at("2025-10-13 09:30")
	base := []domain.Event{
		issued("t1", "A001", "birth", domain.Normal, 1, false),
		issued("t2", "A002", "birth", domain.Normal, 2, false),
		domain.CounterOpened{CounterID: "w1", ServiceIDs: []string{"birth"}},
		domain.TicketCalled{TicketID: "t1", CounterID: "w1", At: now},
	}
	q := given[domain.Queue](t, append(base, domain.TicketRecalled{TicketID: "t1", CounterID: "w1", Count: 1, At: now})...)
	got, err := q.Recall("w1", 2, now)
	then(t, got, err, domain.TicketRecalled{TicketID: "t1", CounterID: "w1", Count: 2, At: now})
	q.Apply(got[0])
	got, err = q.Recall("w1", 2, now)
	thenError(t, got, err, domain.ErrState)
	// The sweep waits a while after the last recall before closing the ticket.
	if got := q.Abandoned(2, 5*time.Minute, now.Add(4*time.Minute)); len(got) != 0 {
		t.Fatalf("abandoned 4 minutes after the last recall: %v", got)
	}
	if got := q.Abandoned(2, 5*time.Minute, now.Add(5*time.Minute)); !slices.Equal(got, []string{"w1"}) {
		t.Fatalf("abandoned 5 minutes after the last recall: %v", got)
	}
	got, err = q.NoShow("w1", now)
	then(t, got, err, domain.TicketNoShow{TicketID: "t1", CounterID: "w1", Recalls: 2, At: now})
	q.Apply(got[0])
	if got := q.Abandoned(2, 5*time.Minute, now.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("abandoned after the no-show: %v", got)
	}
	got, err = q.CloseDay("end of day", now)
	then(t, got, err, domain.DayClosed{Cancelled: []string{"t2"}, Reason: "end of day", At: now, Issued: 2, NoShows: 1})

	q = given[domain.Queue](t, append(base, domain.TicketParked{TicketID: "t1", CounterID: "w1", At: now})...)
	got, err = q.CallNext("w1", now)
	then(t, got, err, domain.TicketCalled{TicketID: "t2", CounterID: "w1", At: now}) // the counter is free again
	q.Apply(got[0])
	got, err = q.Resume("w1", "t1", now)
	thenError(t, got, err, domain.ErrState) // busy with t2
	q.Apply(domain.TicketCompleted{TicketID: "t2", CounterID: "w1", At: now})
	got, err = q.Resume("w1", "t1", now)
	then(t, got, err, domain.TicketResumed{TicketID: "t1", CounterID: "w1", At: now})

	q = given[domain.Queue](t, append(base, domain.ServiceStarted{TicketID: "t1", CounterID: "w1", At: now})...)
	got, err = q.NoShow("w1", now)
	thenError(t, got, err, domain.ErrState) // the resident is at the counter
	got, err = q.Transfer("w1", "idcard", now)
	then(t, got, err, domain.TicketTransferred{TicketID: "t1", CounterID: "w1", From: "birth", To: "idcard", At: now})
	q.Apply(got[0])
	if w := q.Waiting("idcard"); len(w) != 1 || w[0].TicketID != "t1" {
		t.Fatalf("after transfer the idcard line holds %v", w)
	}
	got, err = q.CloseDay("end of day", now)
	then(t, got, err, domain.DayClosed{Cancelled: []string{"t1", "t2"}, Reason: "end of day", At: now, Issued: 2})
	q.Apply(got[0])
	got, err = q.Issue("t9", "birth", "A", "", "", false, now)
	thenError(t, got, err, domain.ErrState)
}

func submitted() domain.ApplicationSubmitted {
	return domain.ApplicationSubmitted{ID: "p1", StationID: "gulou", ServiceID: "birth", Channel: "counter",
		Applicant: domain.Person{Ref: "r1"}, Limit: 20, Unit: calendar.WorkingDays}
}

func TestApplicationClockAcrossSupplementAndNationalDay(t *testing.T) {
	a := given[domain.Application](t)
	got, err := a.Submit(domain.ApplicationSubmitted{ID: "p1", StationID: "gulou", Channel: "online", Applicant: domain.Person{Ref: "r1"}}, catalogue["birth"])
	thenError(t, got, err, domain.ErrInvalid) // birth registration is counter-only
	got, err = a.Submit(domain.ApplicationSubmitted{ID: "p1", StationID: "gulou", Channel: "counter", Applicant: domain.Person{Ref: "r1"}}, catalogue["birth"])
	then(t, got, err, submitted())
	got, err = a.Approve("u-staff", "ok")
	thenError(t, got, err, domain.ErrNotFound)

	a = given[domain.Application](t, submitted())
	got, err = a.Approve("u-staff", "ok")
	thenError(t, got, err, domain.ErrState) // not accepted yet
	got, err = a.Accept("u-staff", day("2025-09-15"), cal)
	then(t, got, err, domain.ApplicationAccepted{By: "u-staff", Date: day("2025-09-15"), Deadline: day("2025-10-17")})

	// Four working days used (16-19 Sep); sixteen left when the clock stops.
	a = given[domain.Application](t, submitted(), got[0])
	got, err = a.RequestSupplement("u-staff", []string{"出生医学证明"}, day("2025-09-19"), cal)
	then(t, got, err, domain.SupplementRequested{By: "u-staff", Missing: []string{"出生医学证明"}, Date: day("2025-09-19"), Left: 16})
	a.Apply(got[0])
	if d := a.DaysLeft(day("2025-09-25"), cal); d != 16 {
		t.Errorf("while paused DaysLeft = %d, want 16", d)
	}
	got, err = a.Check(day("2025-12-01"), cal, domain.DefaultEscalation)
	then(t, got, err) // a paused clock never goes overdue
	// Received 30 Sep: sixteen working days after it, across National Day
	// and the make-up Saturday 11 Oct, is 29 Oct.
	got, err = a.ReceiveSupplement(day("2025-09-30"), cal)
	then(t, got, err, domain.SupplementReceived{Date: day("2025-09-30"), Deadline: day("2025-10-29")})
	a.Apply(got[0])

	got, err = a.Check(day("2025-10-27"), cal, domain.DefaultEscalation)
	then(t, got, err)
	got, err = a.Check(day("2025-10-28"), cal, domain.DefaultEscalation)
	then(t, got, err, domain.ApplicationWarned{Date: day("2025-10-28"), DaysLeft: 1})
	a.Apply(got[0])
	got, err = a.Check(day("2025-10-29"), cal, domain.DefaultEscalation)
	then(t, got, err) // warned once
	got, err = a.Check(day("2025-10-30"), cal, domain.DefaultEscalation)
	then(t, got, err, domain.ApplicationOverdue{Date: day("2025-10-30"), Deadline: day("2025-10-29")},
		domain.ApplicationEscalated{Level: 1, Date: day("2025-10-30")})
	a.Apply(got[0])
	a.Apply(got[1])
	got, err = a.Check(day("2025-11-03"), cal, domain.DefaultEscalation)
	then(t, got, err) // three working days past: not yet
	got, err = a.Check(day("2025-11-04"), cal, domain.DefaultEscalation)
	then(t, got, err, domain.ApplicationEscalated{Level: 2, Date: day("2025-11-04")})
	a.Apply(got[0])
	got, err = a.Check(day("2025-11-20"), cal, domain.DefaultEscalation)
	then(t, got, err)

	got, err = a.Approve("u-lead", "材料齐全")
	then(t, got, err, domain.ApplicationApproved{By: "u-lead", Note: "材料齐全"})
	a.Apply(got[0])
	got, err = a.Complete("u-staff", day("2025-11-20"))
	then(t, got, err, domain.ApplicationCompleted{By: "u-staff", Date: day("2025-11-20"), OnTime: false})
}

func TestApplicationExtendRejectWithdraw(t *testing.T) {
	accepted := domain.ApplicationAccepted{By: "u-staff", Date: day("2025-09-15"), Deadline: day("2025-10-17")}
	a := given[domain.Application](t, submitted(), accepted)
	got, err := a.Extend("u-mgr", "", 5, day("2025-09-20"), cal)
	thenError(t, got, err, domain.ErrInvalid)
	got, err = a.Extend("u-mgr", "需上级审批", 5, day("2025-09-20"), cal)
	then(t, got, err, domain.DeadlineExtended{By: "u-mgr", Reason: "需上级审批", Days: 5, Deadline: day("2025-10-24")})
	// Once: a second extension would stretch the limit without end.
	twice := given[domain.Application](t, submitted(), accepted, got[0])
	got, err = twice.Extend("u-mgr", "再次延期", 5, day("2025-10-20"), cal)
	thenError(t, got, err, domain.ErrState)
	// The desk withdraws only with the applicant's request written down:
	// a withdrawn case counts in no rate.
	got, err = twice.Withdraw("u-staff", " ", true)
	thenError(t, got, err, domain.ErrInvalid)
	got, err = twice.Withdraw("u-staff", "申请人书面申请撤回", true)
	then(t, got, err, domain.ApplicationWithdrawn{By: "u-staff", Reason: "申请人书面申请撤回"})
	got, err = twice.Withdraw("r1", "", false)
	then(t, got, err, domain.ApplicationWithdrawn{By: "r1"})
	got, err = a.Reject("u-staff", " ", "")
	thenError(t, got, err, domain.ErrInvalid)
	got, err = a.Reject("u-staff", "不符合落户条件", "《户口登记条例》第十条")
	then(t, got, err, domain.ApplicationRejected{By: "u-staff", Reason: "不符合落户条件", Basis: "《户口登记条例》第十条"})
	a.Apply(got[0])
	got, err = a.Withdraw("r1", "", false)
	thenError(t, got, err, domain.ErrState)
}

func TestRatingAndRemediation(t *testing.T) {
	done := []domain.Event{submitted(),
		domain.ApplicationAccepted{By: "u-staff", Date: day("2025-09-15"), Deadline: day("2025-10-17")},
		domain.ApplicationApproved{By: "u-lead"},
		domain.ApplicationCompleted{By: "u-staff", Date: day("2025-10-09"), OnTime: true}}
	a := given[domain.Application](t, done[:2]...)
	got, err := a.Rate("r1", domain.Scores{Score: 5}, "", day("2025-10-09"), cal)
	thenError(t, got, err, domain.ErrState) // not completed

	a = given[domain.Application](t, done...)
	got, err = a.Rate("r1", domain.Scores{Score: 6}, "", day("2025-10-09"), cal)
	thenError(t, got, err, domain.ErrInvalid)
	got, err = a.Rate("r1", domain.Scores{Score: 2}, "等太久", day("2025-10-09"), cal)
	then(t, got, err, domain.ApplicationRated{By: "r1", Comment: "等太久", Scores: domain.Scores{Score: 2}, Round: 1},
		domain.RemediationOpened{Round: 1, Due: day("2025-10-29")}) // fifteen working days, the make-up Saturday 11 Oct among them
	for _, e := range got {
		a.Apply(e)
	}
	got, err = a.Rate("r1", domain.Scores{Score: 5}, "", day("2025-10-10"), cal)
	thenError(t, got, err, domain.ErrState) // not before the reply
	got, err = a.Remediate("reply", "u-mgr", "x")
	thenError(t, got, err, domain.ErrState) // verify first
	for _, step := range []string{"verify", "rectify", "reply"} {
		got, err = a.Remediate(step, "u-mgr", "已核实并整改")
		then(t, got, err, domain.RemediationStep{Step: step, By: "u-mgr", Note: "已核实并整改"})
		a.Apply(got[0])
	}
	got, err = a.Rate("r1", domain.Scores{Score: 4}, "", day("2025-10-15"), cal)
	then(t, got, err, domain.ApplicationRated{By: "r1", Scores: domain.Scores{Score: 4}, Round: 2})
	a.Apply(got[0])
	got, err = a.Rate("r1", domain.Scores{Score: 5}, "", day("2025-10-16"), cal)
	thenError(t, got, err, domain.ErrState)
}

// What every registered event decodes from is the golden files' business
// (events_test.go); here, what is not registered is refused.
func TestDecodeRefusesWhatIsNotRegistered(t *testing.T) {
	if _, err := domain.Decode("Nope", []byte(`{}`)); err == nil {
		t.Error("decoded an unknown type")
	}
	if _, _, err := domain.Encode(struct{ X int }{}); err == nil {
		t.Error("encoded an unregistered type")
	}
}

func TestUser(t *testing.T) {
	u := given[domain.User](t)
	got, err := u.Create("li.wei", domain.RoleStaff, "gulou", "$2a$hash")
	then(t, got, err, domain.UserCreated{Username: "li.wei", Role: domain.RoleStaff, StationID: "gulou", Credential: "$2a$hash"})
	got, err = u.Create("li.wei", domain.RoleStaff, "", "$2a$hash")
	thenError(t, got, err, domain.ErrInvalid) // staff need a station
	got, err = u.Create("kiosk.gulou", domain.RoleKiosk, "", "$2a$hash")
	thenError(t, got, err, domain.ErrInvalid) // so do kiosks
	got, err = u.Create("kiosk.gulou", domain.RoleKiosk, "gulou", "$2a$hash")
	then(t, got, err, domain.UserCreated{Username: "kiosk.gulou", Role: domain.RoleKiosk, StationID: "gulou", Credential: "$2a$hash"})
	got, err = u.Create("chen.bureau", domain.RoleManager, "", "$2a$hash") // a bureau manager
	then(t, got, err, domain.UserCreated{Username: "chen.bureau", Role: domain.RoleManager, Credential: "$2a$hash"})
	got, err = u.Create("Li Wei", domain.RoleAdmin, "", "$2a$hash")
	thenError(t, got, err, domain.ErrInvalid)
	got, err = u.Create("li.wei", "root", "", "$2a$hash")
	thenError(t, got, err, domain.ErrInvalid)
	u = given[domain.User](t, domain.UserCreated{Username: "li.wei", Role: domain.RoleStaff, StationID: "gulou", Credential: "c1"})
	got, err = u.Create("li.wei", domain.RoleManager, "", "c2")
	thenError(t, got, err, domain.ErrState)

	// Disabled, or a password changed: earlier tokens stop speaking for
	// the user; an enabled user's new tokens do again.
	issued, now := at("2025-10-09 09:00"), at("2025-10-09 10:00")
	if !u.Admits(issued) {
		t.Fatal("a token of an active user refused")
	}
	got, err = u.Disable("li.wei", now)
	thenError(t, got, err, domain.ErrInvalid) // not oneself
	got, err = u.Disable("admin", now)
	then(t, got, err, domain.UserDisabled{By: "admin", At: now})
	u = given[domain.User](t, domain.UserCreated{Username: "li.wei", Role: domain.RoleStaff, StationID: "gulou", Credential: "c1"}, domain.UserDisabled{By: "admin", At: now})
	if u.Admits(issued) || u.Admits(now.Add(time.Hour)) {
		t.Fatal("a disabled user's token admitted")
	}
	got, err = u.Enable("admin", now.Add(time.Hour))
	then(t, got, err, domain.UserEnabled{By: "admin", At: now.Add(time.Hour)})
	u.Apply(got[0])
	if u.Admits(issued) || !u.Admits(now.Add(2*time.Hour)) {
		t.Fatal("after enabling: the old token must stay void, a new one work")
	}
	got, err = u.ChangePassword("admin", "c3", now.Add(3*time.Hour))
	then(t, got, err, domain.PasswordChanged{By: "admin", At: now.Add(3 * time.Hour), Credential: "c3"})
	u.Apply(got[0])
	if u.Admits(now.Add(2*time.Hour)) || u.Credential != "c3" {
		t.Fatal("a token from before the password change still admitted")
	}
}

// Names and free text refuse what would display other than it reads, and
// free text is bounded.
func TestTextIsVisibleAndBounded(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
	}{
		{"张三", nil},
		{"Zhang San", nil},
		{"张\u202e三", domain.ErrInvalid}, // right-to-left override
		{"张\u2066三", domain.ErrInvalid}, // isolate
		{"张\x00三", domain.ErrInvalid},
		{"张\n三", domain.ErrInvalid},
		{"", domain.ErrInvalid},
		{strings.Repeat("张", 51), domain.ErrInvalid},
	} {
		if err := domain.CheckName("name", c.name); !errors.Is(err, c.err) {
			t.Errorf("CheckName(%q) = %v, want %v", c.name, err, c.err)
		}
	}
	if err := domain.CheckText("reason", "材料不全：\n1. 出生医学证明"); err != nil {
		t.Errorf("a reason over two lines: %v", err)
	}
	if err := domain.CheckText("reason", strings.Repeat("理", 501)); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("501 characters: %v", err)
	}
	a := given[domain.Appointment](t, booked())
	got, err := a.Cancel("plans\u202echanged", false)
	thenError(t, got, err, domain.ErrInvalid)
}

func TestLateCancellationIsANoShow(t *testing.T) {
	a := given[domain.Appointment](t, booked()) // 2025-10-11 09:00
	p := domain.DefaultPolicy
	for _, c := range []struct {
		at     string
		cutoff time.Duration
		late   bool
	}{
		{"2025-10-11 08:59", 0, false},
		{"2025-10-11 09:00", 0, true}, // the default cut-off: the start
		{"2025-10-11 10:00", 0, true}, // after the slot, before the sweep
		{"2025-10-10 20:59", 12 * time.Hour, false},
		{"2025-10-10 21:00", 12 * time.Hour, true},
	} {
		p.CancelCutoff = c.cutoff
		if got := a.LateToCancel(at(c.at), shanghai, p); got != c.late {
			t.Errorf("cancel at %s with cut-off %v: late = %v, want %v", c.at, c.cutoff, got, c.late)
		}
	}
	got, err := a.Cancel("overslept", true)
	then(t, got, err, domain.AppointmentCancelled{Reason: "overslept", Late: true})
	a = given[domain.Appointment](t, booked(), domain.AppointmentCancelled{Reason: "overslept", Late: true})
	if !a.LateCancel {
		t.Error("a late cancellation is not remembered: a retry would end the hold as a plain cancellation")
	}
}

func TestCounterOpensOnlyForItsServices(t *testing.T) {
	q := given[domain.Queue](t)
	got, err := q.OpenCounter("w1", []string{"passport"}, []string{"birth", "transfer"})
	thenError(t, got, err, domain.ErrInvalid)
	got, err = q.OpenCounter("w1", []string{"birth"}, []string{"birth", "transfer"})
	then(t, got, err, domain.CounterOpened{CounterID: "w1", ServiceIDs: []string{"birth"}})
}

func TestClosedSlotTakesNoBooking(t *testing.T) {
	s := given[domain.Slot](t)
	got, err := s.Close("停电检修", at("2025-10-10 12:00"))
	thenError(t, got, err, domain.ErrNotFound) // not released
	s = given[domain.Slot](t, released(2, 0), domain.SlotBooked{AppointmentID: "a1", ResidentRef: "r1"})
	got, err = s.Close("", at("2025-10-10 12:00"))
	thenError(t, got, err, domain.ErrInvalid)
	got, err = s.Close("停电检修", at("2025-10-10 12:00"))
	then(t, got, err, domain.SlotClosed{Reason: "停电检修", At: at("2025-10-10 12:00")})
	s = given[domain.Slot](t, released(2, 0), domain.SlotClosed{Reason: "停电检修", At: at("2025-10-10 12:00")})
	got, err = s.Book("a2", "r2", at("2025-10-10 13:00"))
	thenError(t, got, err, domain.ErrState)
	got, err = s.Close("again", at("2025-10-10 13:00"))
	then(t, got, err) // closed once
}

func TestWalkInsStop(t *testing.T) {
	q := given[domain.Queue](t, domain.WalkInsStopped{Reason: "今日号已发完", At: at("2025-10-11 15:00")})
	got, err := q.Issue("t1", "birth", "A", domain.Normal, "", false, at("2025-10-11 15:10"))
	thenError(t, got, err, domain.ErrState)
	got, err = q.Issue("t2", "birth", "A", domain.Normal, "a1", true, at("2025-10-11 15:10"))
	then(t, got, err, domain.TicketIssued{TicketID: "t2", Number: "A001", ServiceID: "birth", Priority: domain.Normal, AppointmentID: "a1", InSlot: true, Seq: 1, At: at("2025-10-11 15:10")})
	got, err = q.StopWalkIns("again", at("2025-10-11 15:20"))
	then(t, got, err)
}

func TestWebhooks(t *testing.T) {
	w := given[domain.Webhooks](t)
	sub := domain.WebhookSubscribed{ID: "h1", URL: "https://example.org/hook", EventTypes: []string{"AppointmentBooked"}, Secret: []byte("sealed"), After: 5}
	bad := sub
	bad.URL = "javascript:alert(1)"
	got, err := w.Subscribe(bad)
	thenError(t, got, err, domain.ErrInvalid)
	bad = sub
	bad.EventTypes = []string{"NoSuchEvent"}
	got, err = w.Subscribe(bad)
	thenError(t, got, err, domain.ErrInvalid)
	got, err = w.Subscribe(sub)
	then(t, got, err, sub)

	dl := domain.DeadLetter{ID: "h1-9", Subscription: "h1", Position: 9, EventType: "AppointmentBooked", Error: "500"}
	w = given[domain.Webhooks](t, sub, domain.WebhooksDelivered{Through: 9}, dl)
	got, err = w.Subscribe(sub)
	then(t, got, err) // a retry
	got, err = w.Deliver(9)
	then(t, got, err) // delivered through 9 already
	got, err = w.Fail(dl)
	then(t, got, err) // dead-lettered once
	got, err = w.Replayed("h1-9", at("2025-10-11 10:00"))
	then(t, got, err, domain.WebhookReplayed{ID: "h1-9", At: at("2025-10-11 10:00")})
	got, err = w.Replayed("h1-10", at("2025-10-11 10:00"))
	thenError(t, got, err, domain.ErrNotFound)
}

func TestWaitlist(t *testing.T) {
	now := at("2025-10-09 10:00")
	p := domain.DefaultPolicy
	li := domain.Person{Ref: "r-li", Name: "李*"}
	wang := domain.Person{Ref: "r-wang", Name: "王*"}
	full := []domain.Event{released(1, 0), domain.SlotBooked{AppointmentID: "a1", ResidentRef: "r1"}}

	s := given[domain.Slot](t, released(2, 0), domain.SlotBooked{AppointmentID: "a1", ResidentRef: "r1"})
	got, err := s.Join(li, now, p.MaxWaiting)
	thenError(t, got, err, domain.ErrState) // places left: book instead

	s = given[domain.Slot](t, full...)
	got, err = s.Join(li, now, p.MaxWaiting)
	then(t, got, err, domain.WaitlistJoined{Person: li, At: now})

	// A cancellation offers the place to the first waiting, held for them:
	// nobody else gets it meanwhile, they do.
	s = given[domain.Slot](t, append(full, domain.WaitlistJoined{Person: li, At: now}, domain.WaitlistJoined{Person: wang, At: now})...)
	got, err = s.Join(li, now, p.MaxWaiting)
	then(t, got, err) // once
	got, err = s.Give("a1", now, p)
	then(t, got, err, domain.SlotFreed{AppointmentID: "a1", ReturnsAt: now}, domain.PlaceOffered{Ref: "r-li", Until: now.Add(15 * time.Minute), At: now})
	offered := append(full, domain.WaitlistJoined{Person: li, At: now}, domain.WaitlistJoined{Person: wang, At: now}, got[0], got[1])
	s = given[domain.Slot](t, offered...)
	got, err = s.Book("a2", "r-someone", now.Add(time.Minute))
	thenError(t, got, err, domain.ErrFull)
	got, err = s.Book("a3", "r-li", now.Add(time.Minute))
	then(t, got, err, domain.SlotBooked{AppointmentID: "a3", ResidentRef: "r-li"})
	got, err = s.Lapse(now.Add(14*time.Minute), p)
	then(t, got, err) // not yet

	// Not taken in time: the place passes to the next one waiting.
	got, err = s.Lapse(now.Add(15*time.Minute), p)
	then(t, got, err, domain.OfferLapsed{Ref: "r-li", At: now.Add(15 * time.Minute)},
		domain.PlaceOffered{Ref: "r-wang", Until: now.Add(30 * time.Minute), At: now.Add(15 * time.Minute)})

	// With nobody waiting a freed place is held back from everyone for the
	// anti-hoarding delay.
	s = given[domain.Slot](t, full...)
	got, err = s.Give("a1", now, p)
	then(t, got, err, domain.SlotFreed{AppointmentID: "a1", ReturnsAt: now.Add(p.FreeDelay)})
}

// Accepted on 2026-12-21 with 20 working days while 2027's notice is out,
// then the notice arrives: the deadline is counted again on it.
func TestDeadlineFollowsAnImportedNotice(t *testing.T) {
	ns, err := calendar.Official()
	if err != nil {
		t.Fatal(err)
	}
	before := calendar.New(ns...)
	a := given[domain.Application](t, submitted())
	got, err := a.Accept("u-staff", day("2026-12-21"), before)
	if err != nil {
		t.Fatal(err)
	}
	accepted := got[0].(domain.ApplicationAccepted)
	a = given[domain.Application](t, submitted(), accepted)
	got, err = a.Recompute(before)
	then(t, got, err) // the same calendar: nothing to do
	// A notice that makes 2027-01-04 and 05 holidays too: two working days
	// fewer before the old deadline.
	notice := calendar.Notice{Year: 2027, Days: []calendar.Day{
		{Name: "元旦", Date: day("2027-01-01"), OffDay: true},
		{Name: "元旦", Date: day("2027-01-04"), OffDay: true},
		{Name: "元旦", Date: day("2027-01-05"), OffDay: true},
	}}
	after := before.With(notice)
	got, err = a.Recompute(after)
	then(t, got, err, domain.DeadlineRecomputed{From: accepted.Deadline, Deadline: after.Add(day("2026-12-21"), 20, calendar.WorkingDays)})
	if got[0].(domain.DeadlineRecomputed).Deadline == accepted.Deadline {
		t.Fatal("the new holidays did not move the deadline")
	}
	paused := given[domain.Application](t, submitted(), accepted, domain.SupplementRequested{By: "u-staff", Missing: []string{"x"}, Date: day("2026-12-22"), Left: 19})
	got, err = paused.Recompute(after)
	then(t, got, err) // a stopped clock is counted when it restarts
}

func TestRebookFirst(t *testing.T) {
	now := at("2025-10-09 10:00")
	r := given[domain.Resident](t)
	got, err := r.Grant("a1", "gulou", "birth", now.Add(7*24*time.Hour))
	then(t, got, err, domain.RebookGranted{AppointmentID: "a1", Station: "gulou", Service: "birth", Until: now.Add(7 * 24 * time.Hour)})
	r = given[domain.Resident](t, got[0])
	if id, ok := r.Right("gulou", "birth", now); !ok || id != "a1" {
		t.Fatalf("right = %q %v", id, ok)
	}
	for _, c := range []struct {
		station, service string
		at               time.Time
	}{{"xicheng", "birth", now}, {"gulou", "idcard", now}, {"gulou", "birth", now.Add(7 * 24 * time.Hour)}} {
		if _, ok := r.Right(c.station, c.service, c.at); ok {
			t.Errorf("a right for %s %s at %s", c.station, c.service, c.at)
		}
	}
	got, err = r.UseRight("a1", "a2")
	then(t, got, err, domain.RebookUsed{AppointmentID: "a1", By: "a2"})
	r = given[domain.Resident](t, domain.RebookGranted{AppointmentID: "a1", Station: "gulou", Service: "birth", Until: now.Add(time.Hour)}, got[0])
	if _, ok := r.Right("gulou", "birth", now); ok {
		t.Error("a right used twice")
	}

	// Rebooking first takes the places kept for walk-ins, not more.
	s := given[domain.Slot](t, released(2, 1), domain.SlotBooked{AppointmentID: "b1", ResidentRef: "r1"})
	got, err = s.Book("b2", "r2", now)
	thenError(t, got, err, domain.ErrFull)
	got, err = s.BookFirst("b2", "r2", now)
	then(t, got, err, domain.SlotBooked{AppointmentID: "b2", ResidentRef: "r2"})
	s = given[domain.Slot](t, released(2, 1), domain.SlotBooked{AppointmentID: "b1", ResidentRef: "r1"}, got[0])
	got, err = s.BookFirst("b3", "r3", now)
	thenError(t, got, err, domain.ErrFull)
}

// A passport: 7 working days promised, 15 calendar days by statute.
func passport() domain.ApplicationSubmitted {
	return domain.ApplicationSubmitted{ID: "p2", StationID: "gulou", ServiceID: "passport", Channel: "counter",
		Applicant: domain.Person{Ref: "r1"}, Limit: 7, Unit: calendar.WorkingDays, LegalLimit: 15, LegalUnit: calendar.CalendarDays}
}

func TestPromisedAndLegalLimits(t *testing.T) {
	a := given[domain.Application](t, passport())
	got, err := a.Accept("u-staff", day("2025-11-03"), cal) // a Monday
	then(t, got, err, domain.ApplicationAccepted{By: "u-staff", Date: day("2025-11-03"), Deadline: day("2025-11-12"), LegalDeadline: day("2025-11-18")})
	a = given[domain.Application](t, passport(), got[0])
	got, err = a.Check(day("2025-11-13"), cal, domain.DefaultEscalation)
	then(t, got, err, domain.ApplicationOverdue{Date: day("2025-11-13"), Deadline: day("2025-11-12")}, domain.ApplicationEscalated{Level: 1, Date: day("2025-11-13")})
	got, err = a.Extend("u-mgr", "需外省核查", 3, day("2025-11-18"), cal)
	if err != nil || len(got) != 1 {
		t.Fatalf("an extension on the legal deadline's day: %v %v", got, err)
	}
	a = given[domain.Application](t, passport(), domain.ApplicationAccepted{By: "u-staff", Date: day("2025-11-03"), Deadline: day("2025-11-12"), LegalDeadline: day("2025-11-18")},
		domain.ApplicationOverdue{Date: day("2025-11-13"), Deadline: day("2025-11-12")}, domain.ApplicationEscalated{Level: 1, Date: day("2025-11-13")})
	// The statute's limit passes before the second level's three working
	// days: it escalates a level higher at once, and no extension is left.
	got, err = a.Check(day("2025-11-19"), cal, domain.DefaultEscalation)
	then(t, got, err, domain.LegalLimitPassed{Date: day("2025-11-19"), Deadline: day("2025-11-18")}, domain.ApplicationEscalated{Level: 2, Date: day("2025-11-19")})
	got, err = a.Extend("u-mgr", "需外省核查", 3, day("2025-11-19"), cal)
	thenError(t, got, err, domain.ErrState)

	// A pause for materials stops both clocks.
	a = given[domain.Application](t, passport(), domain.ApplicationAccepted{By: "u-staff", Date: day("2025-11-03"), Deadline: day("2025-11-12"), LegalDeadline: day("2025-11-18")})
	got, err = a.RequestSupplement("u-staff", []string{"照片"}, day("2025-11-05"), cal)
	then(t, got, err, domain.SupplementRequested{By: "u-staff", Missing: []string{"照片"}, Date: day("2025-11-05"), Left: 5, LegalLeft: 13})
	a.Apply(got[0])
	got, err = a.ReceiveSupplement(day("2025-11-10"), cal)
	then(t, got, err, domain.SupplementReceived{Date: day("2025-11-10"), Deadline: day("2025-11-17"), LegalDeadline: day("2025-11-24")}) // the 23rd is a Sunday: the next day
}

func TestOnlineApplicationsAwaitAcceptance(t *testing.T) {
	online := submitted()
	online.Channel, online.AcceptBy = "online", day("2025-11-04")
	a := given[domain.Application](t, online)
	got, err := a.Check(day("2025-11-03"), cal, domain.DefaultEscalation)
	then(t, got, err, domain.AcceptanceWarned{Date: day("2025-11-03")})
	a = given[domain.Application](t, online, domain.AcceptanceWarned{Date: day("2025-11-03")})
	got, err = a.Check(day("2025-11-05"), cal, domain.DefaultEscalation)
	then(t, got, err, domain.AcceptanceOverdue{Date: day("2025-11-05"), AcceptBy: day("2025-11-04")}, domain.ApplicationEscalated{Level: 1, Date: day("2025-11-05")})

	// At the counter it is accepted on the spot: no promise to track.
	a = given[domain.Application](t)
	counter := submitted()
	counter.AcceptBy = day("2025-11-04")
	got, err = a.Submit(counter, catalogue["birth"])
	then(t, got, err, submitted())
}

func TestPickup(t *testing.T) {
	accepted := domain.ApplicationAccepted{By: "u-staff", Date: day("2025-09-15"), Deadline: day("2025-10-17")}
	a := given[domain.Application](t, submitted(), accepted)
	got, err := a.MarkReady("u-staff", "3号窗口", day("2025-10-10"))
	thenError(t, got, err, domain.ErrState) // not concluded
	done := domain.ApplicationCompleted{By: "u-staff", Date: day("2025-10-10"), OnTime: true}
	a = given[domain.Application](t, submitted(), accepted, done)
	got, err = a.Collect("u-staff", day("2025-10-10"))
	thenError(t, got, err, domain.ErrState) // not ready yet
	got, err = a.MarkReady("u-staff", "3号窗口", day("2025-10-10"))
	then(t, got, err, domain.ApplicationReady{By: "u-staff", Date: day("2025-10-10"), Where: "3号窗口"})
	ready := got[0]
	a = given[domain.Application](t, submitted(), accepted, done, ready, domain.ApplicationNoticed{Kind: "ready", Date: day("2025-10-10")})
	got, err = a.Notify("ready", day("2025-10-11"))
	then(t, got, err) // told once
	got, err = a.Collect("u-staff", day("2025-10-13"))
	then(t, got, err, domain.ApplicationCollected{By: "u-staff", Date: day("2025-10-13")})
}

func TestCheckInCodes(t *testing.T) {
	a, b := domain.CheckInCode("a1", 0), domain.CheckInCode("a1", 1)
	if a != domain.CheckInCode("a1", 0) || a == b || a == domain.CheckInCode("a2", 0) {
		t.Fatalf("codes %q %q: derived from the id and the salt, one each", a, b)
	}
	for _, c := range []string{a, b} {
		if len(c) != domain.CodeLength || strings.ContainsAny(c, "0O1IL2Z5S8BG") {
			t.Errorf("code %q: want %d characters, none that read alike", c, domain.CodeLength)
		}
	}
	if got := domain.NormalizeCode(" x7k-4pa "); got != "X7K4PA" {
		t.Errorf("NormalizeCode = %q", got)
	}
}
