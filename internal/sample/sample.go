// Package sample writes realistic logs: simulated days of service halls
// driven through the domain's own deciders, so that every event is one the
// system would write. Tests and benchmarks use it.
package sample

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore"
)

// Services is a small catalogue with the statutes' units.
var Services = []domain.Service{
	{ID: "birth", Name: "Birth registration", NameZh: "出生登记", Category: domain.Household, TimeLimitDays: 20, TimeLimitUnit: calendar.WorkingDays, LegalLimitDays: 22, LegalLimitUnit: calendar.WorkingDays},
	{ID: "idcard", Name: "Resident ID card", NameZh: "居民身份证申领", Category: domain.License, TimeLimitDays: 60, TimeLimitUnit: calendar.CalendarDays},
	{ID: "permit", Name: "Residence permit", NameZh: "居住证申领", Category: domain.License, TimeLimitDays: 15, TimeLimitUnit: calendar.CalendarDays, LegalLimitDays: 20, LegalLimitUnit: calendar.CalendarDays, Online: true},
}

type item struct {
	event domain.Event
	actor eventstore.Actor
	at    time.Time
}

// Log collects events by stream, in the order they happened.
type Log struct {
	streams map[string][]item
	order   []string
	count   int
}

func (l *Log) add(stream string, actor eventstore.Actor, at time.Time, events []domain.Event, err error) {
	if err != nil {
		panic(fmt.Sprintf("sample: %s: %v", stream, err)) // the simulation only issues valid commands
	}
	if _, ok := l.streams[stream]; !ok {
		l.order = append(l.order, stream)
	}
	for _, e := range events {
		l.streams[stream] = append(l.streams[stream], item{e, actor, at})
		l.count++
	}
}

// Len is the number of events collected.
func (l *Log) Len() int { return l.count }

var (
	admin  = eventstore.Actor{ID: "admin", Role: "admin"}
	staff  = eventstore.Actor{ID: "u-staff-1", Role: "staff"}
	lead   = eventstore.Actor{ID: "u-manager-1", Role: "manager"}
	system = eventstore.Actor{ID: "system:job-escalate-overdue", Role: "system"}
)

// Generate simulates days from start at stations until about n events are
// collected. The same seed gives the same log.
func Generate(n int, start calendar.Date, seed uint64, loc *time.Location) (*Log, error) {
	ns, err := calendar.Official()
	if err != nil {
		return nil, err
	}
	cal := calendar.New(ns...)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	l := &Log{streams: map[string][]item{}}
	at := start.In(loc).Add(7 * time.Hour)
	for _, n := range ns {
		y := &domain.CalendarYear{}
		evs, err := y.Import(n)
		l.add(domain.CalendarStream(n.Year), admin, at, evs, err)
	}
	for _, u := range []struct{ name, role, station string }{{"staff.one", domain.RoleStaff, "gulou"}, {"manager.one", domain.RoleManager, "gulou"}} {
		usr := &domain.User{}
		evs, err := usr.Create(u.name, u.role, u.station, "cred-sample-"+u.name)
		l.add(domain.UserStream(u.name), admin, at, evs, err)
		for _, e := range evs {
			usr.Apply(e)
		}
		if u.role != domain.RoleStaff {
			continue
		}
		// A staff member away for a while: disabled, enabled, a new password.
		for _, step := range []func() ([]domain.Event, error){
			func() ([]domain.Event, error) { return usr.Disable(admin.ID, at) },
			func() ([]domain.Event, error) { return usr.Enable(admin.ID, at) },
			func() ([]domain.Event, error) { return usr.ChangePassword(admin.ID, "cred-sample-2-"+u.name, at) },
		} {
			evs, err := step()
			l.add(domain.UserStream(u.name), admin, at, evs, err)
			for _, e := range evs {
				usr.Apply(e)
			}
		}
	}
	var cat domain.Catalogue
	for _, s := range Services {
		evs, err := cat.DefineService(s)
		l.add(domain.CatalogueStream, admin, at, evs, err)
		for _, e := range evs {
			cat.Apply(e)
		}
	}
	st := &domain.Station{}
	for _, step := range []func() ([]domain.Event, error){
		func() ([]domain.Event, error) {
			return st.Register(domain.StationRegistered{ID: "gulou", Name: "鼓楼派出所"})
		},
		func() ([]domain.Event, error) {
			return st.AddCounter(domain.Counter{ID: "w1", Name: "1号窗口", ServiceIDs: []string{"birth", "permit"}}, cat.Services)
		},
		func() ([]domain.Event, error) {
			return st.AddCounter(domain.Counter{ID: "w2", Name: "2号窗口", ServiceIDs: []string{"idcard", "permit"}}, cat.Services)
		},
		func() ([]domain.Event, error) {
			var weekly []domain.Hours
			for wd := 1; wd <= 5; wd++ {
				weekly = append(weekly, domain.Hours{Weekday: wd, Start: 9 * 60, End: 17 * 60, ServiceIDs: []string{"birth", "idcard", "permit"}, SlotMinutes: 30, Capacity: 4, WalkIn: 1})
			}
			weekend := []domain.Hours{{Weekday: 6, Start: 9 * 60, End: 12 * 60, ServiceIDs: []string{"birth", "permit"}, SlotMinutes: 30, Capacity: 3}}
			return st.SetHours(weekly, weekend, cat.Services)
		},
	} {
		evs, err := step()
		l.add(domain.StationStream("gulou"), admin, at, evs, err)
		for _, e := range evs {
			st.Apply(e)
		}
	}

	// An outbound webhook, one batch delivered, one delivery dead-lettered
	// and replayed.
	hooks := &domain.Webhooks{}
	for _, step := range []func() ([]domain.Event, error){
		func() ([]domain.Event, error) {
			return hooks.Subscribe(domain.WebhookSubscribed{ID: "hook-1", URL: "https://example.org/hook", EventTypes: []string{"StationRegistered"},
				Secret: []byte("sealed-secret"), After: 1, At: at})
		},
		func() ([]domain.Event, error) { return hooks.Deliver(2) },
		func() ([]domain.Event, error) {
			return hooks.Fail(domain.DeadLetter{ID: "hook-1-2", Subscription: "hook-1", Position: 2, EventType: "StationRegistered", Error: "503 Service Unavailable", At: at})
		},
		func() ([]domain.Event, error) { return hooks.Replayed("hook-1-2", at) },
	} {
		evs, err := step()
		l.add(domain.WebhooksStream, admin, at, evs, err)
		for _, e := range evs {
			hooks.Apply(e)
		}
	}

	apps := map[string]*domain.Application{}
	ratings := map[string]*domain.TicketRating{} // by ticket
	slow := map[string]bool{}                    // left alone until escalated twice
	residents := map[string]*domain.Resident{}
	var open []string
	seq := 0
	end := start
	for d := start; l.count < n; d = d.AddDays(1) {
		end = d
		slots := st.SlotsOn(d, cal)
		if len(slots) == 0 {
			continue
		}
		morning := d.In(loc).Add(8 * time.Hour)
		q := &domain.Queue{}
		qs := domain.QueueStream("gulou", d)
		do := func(actor eventstore.Actor, at time.Time, evs []domain.Event, err error) {
			l.add(qs, actor, at, evs, err)
			for _, e := range evs {
				q.Apply(e)
			}
		}
		for _, c := range st.Counters {
			evs, err := q.OpenCounter(c.ID, c.ServiceIDs, c.ServiceIDs)
			do(staff, morning, evs, err)
		}
		for _, spec := range slots {
			slot := &domain.Slot{}
			evs, err := slot.Release(spec, loc)
			l.add(spec.Stream(), system, morning.Add(-48*time.Hour), evs, err)
			for _, e := range evs {
				slot.Apply(e)
			}
			if spec == slots[len(slots)-1] && d.Day%4 == 1 {
				// The hall closes the day's last slot (临时闭厅): its one
				// booking is cancelled and its resident told.
				seq++
				id, ref := fmt.Sprintf("a%d-%d", seed, seq), fmt.Sprintf("c%d-%d", seed, seq)
				who := eventstore.Actor{ID: ref, Role: "resident"}
				booked, closed := morning.Add(-24*time.Hour), morning.Add(-2*time.Hour)
				res, rs := &domain.Resident{}, domain.AccountStream(ref)
				appt, as := &domain.Appointment{}, domain.AppointmentStream(id)
				evs, err := slot.Book(id, ref, booked)
				l.add(spec.Stream(), who, booked, evs, err)
				evs, err = res.Hold(id, ref, spec.Service, d, booked, domain.DefaultPolicy)
				l.add(rs, who, booked, evs, err)
				res.Apply(evs[0])
				evs, err = appt.Book(domain.AppointmentBooked{ID: id, StationID: "gulou", ServiceID: spec.Service, Date: d, Start: spec.Start, End: spec.End,
					EndsAt: spec.End.On(d, loc), Resident: domain.Person{Ref: ref, Name: "李*", ID: "110***********002X", Phone: "139****5678"}, Account: ref})
				l.add(as, who, booked, evs, err)
				appt.Apply(evs[0])
				evs, err = slot.Close("停电检修", closed)
				l.add(spec.Stream(), staff, closed, append(evs, domain.SlotFreed{AppointmentID: id, ReturnsAt: closed}), err)
				evs, err = appt.CancelByHall("停电检修")
				l.add(as, staff, closed, evs, err)
				evs, err = res.End(id, "closed by the hall")
				l.add(rs, staff, closed, evs, err)
				evs, err = res.Grant(id, "gulou", spec.Service, closed.Add(domain.DefaultPolicy.RebookWindow))
				l.add(rs, staff, closed, evs, err)
				res.Apply(evs[0])
				evs, err = res.UseRight(id, id+"-again") // rebooked first (the sample does not follow it)
				l.add(rs, who, closed.Add(time.Hour), evs, err)
				evs, err = appt.Notify(domain.NoticeCancelled, closed.Add(time.Minute))
				l.add(as, system, closed.Add(time.Minute), evs, err)
				continue
			}
			for b := 0; b < slot.Online(); b++ {
				seq++
				id := fmt.Sprintf("a%d-%d", seed, seq)
				ref := fmt.Sprintf("r%d-%d", seed, rng.IntN(5000))
				booked := morning.Add(-24 * time.Hour)
				if res := residents[ref]; res != nil {
					if _, err := res.Hold(id, ref, spec.Service, d, booked, domain.DefaultPolicy); err != nil {
						continue
					}
				}
				evs, err := slot.Book(id, ref, booked)
				l.add(spec.Stream(), eventstore.Actor{ID: ref, Role: "resident"}, booked, evs, err)
				slot.Apply(evs[0])
				res := residents[ref]
				if res == nil {
					res = &domain.Resident{}
					residents[ref] = res
				}
				rs := domain.AccountStream(ref) // each books for themself
				resident := func(at time.Time, evs []domain.Event, err error) {
					l.add(rs, eventstore.Actor{ID: ref, Role: "resident"}, at, evs, err)
					for _, e := range evs {
						res.Apply(e)
					}
				}
				if _, err := res.Hold(id, ref, spec.Service, d, booked, domain.DefaultPolicy); err != nil {
					continue // this resident is at a limit: the place stays free
				}
				evs, err = res.Hold(id, ref, spec.Service, d, booked, domain.DefaultPolicy)
				resident(booked, evs, err)
				appt := &domain.Appointment{}
				person := domain.Person{Ref: ref, Name: "张*", ID: "330***********447X", Phone: "138****5678"}
				evs, err = appt.Book(domain.AppointmentBooked{ID: id, StationID: "gulou", ServiceID: spec.Service, Date: d,
					Start: spec.Start, End: spec.End, EndsAt: spec.End.On(d, loc), Resident: person, Account: ref})
				as := domain.AppointmentStream(id)
				l.add(as, eventstore.Actor{ID: ref, Role: "resident"}, booked, evs, err)
				appt.Apply(evs[0])
				slotStart := spec.Start.On(d, loc)
				switch r := rng.IntN(10); {
				case r == 0:
					evs, err = appt.Cancel("plans changed", false)
					l.add(as, eventstore.Actor{ID: ref, Role: "resident"}, booked.Add(time.Hour), evs, err)
					evs, err = slot.Free(id, booked.Add(time.Hour), 10*time.Minute)
					l.add(spec.Stream(), eventstore.Actor{ID: ref, Role: "resident"}, booked.Add(time.Hour), evs, err)
					slot.Apply(evs[0])
					evs, err = res.End(id, "cancelled")
					resident(booked.Add(time.Hour), evs, err)
				case r == 1:
					evs, err = appt.MarkNoShow(slotStart.Add(2*time.Hour), 15*time.Minute)
					l.add(as, system, slotStart.Add(2*time.Hour), evs, err)
					evs, err = res.CountNoShow(id, slotStart.Add(2*time.Hour))
					resident(slotStart.Add(2*time.Hour), evs, err)
				case r == 2:
					// Moved a week on, giving its place back; the sample does
					// not follow it further (the later slot is not released).
					later := d.AddDays(7)
					if _, err := res.Move(id, later); err != nil {
						continue
					}
					evs, err = appt.Reschedule(later, spec.Start, spec.End, spec.End.On(later, loc))
					l.add(as, eventstore.Actor{ID: ref, Role: "resident"}, booked.Add(time.Hour), evs, err)
					evs, err = res.Move(id, later)
					resident(booked.Add(time.Hour), evs, err)
					evs, err = slot.Free(id, booked.Add(time.Hour), 10*time.Minute)
					l.add(spec.Stream(), eventstore.Actor{ID: ref, Role: "resident"}, booked.Add(time.Hour), evs, err)
					slot.Apply(evs[0])
				default:
					if r%2 == 1 { // reminded by the evening job, or just after booking late
						evs, err = appt.Remind(booked.Add(time.Minute))
						l.add(as, eventstore.Actor{ID: "system:job-send-reminders", Role: domain.RoleSystem}, booked.Add(time.Minute), evs, err)
						appt.Apply(evs[0])
					}
					ticket := uuid.NewSHA1(uuid.NameSpaceOID, []byte(id)).String()
					svc, _ := cat.Services[spec.Service]
					evs, err = q.Issue(ticket, spec.Service, svc.Prefix(), domain.Normal, id, true, slotStart.Add(-5*time.Minute))
					do(eventstore.Actor{ID: ref, Role: "resident"}, slotStart.Add(-5*time.Minute), evs, err)
					evs, err = appt.CheckIn(ticket, ticketOf(q, ticket).Number, slotStart.Add(-5*time.Minute), slotStart, domain.DefaultPolicy, true)
					l.add(as, eventstore.Actor{ID: ref, Role: "resident"}, slotStart.Add(-5*time.Minute), evs, err)
					evs, err = res.End(id, "checked in")
					resident(slotStart.Add(-5*time.Minute), evs, err)
				}
			}
		}
		if d.Day%3 == 2 {
			// An evening slot of one place: booked, two people wait, the
			// booking is cancelled, the place is offered to the first, who
			// lets it lapse, then to the second, who books it.
			// (By the day of the month, as the closures: drawing from rng
			// would shift everything the sample draws after.)
			spec := domain.SlotSpec{Station: "gulou", Service: "birth", Date: d, Start: 17 * 60, End: 17*60 + 30, Capacity: 1}
			slot, who := &domain.Slot{}, eventstore.Actor{ID: "r-wait", Role: "resident"}
			t0 := morning.Add(-24 * time.Hour)
			step := func(at time.Time) func([]domain.Event, error) {
				return func(evs []domain.Event, err error) {
					l.add(spec.Stream(), who, at, evs, err)
					for _, e := range evs {
						slot.Apply(e)
					}
				}
			}
			step(t0)(slot.Release(spec, loc))
			seq++
			first, second := fmt.Sprintf("w%d-%d", seed, seq), fmt.Sprintf("v%d-%d", seed, seq)
			step(t0)(slot.Book("a-"+first, "r-"+first, t0))
			for _, ref := range []string{first, second} {
				step(t0)(slot.Join(domain.Person{Ref: "r-w-" + ref, Name: "王*", ID: "110***********002X", Phone: "139****5678"}, t0, domain.DefaultPolicy.MaxWaiting))
			}
			step(t0.Add(time.Hour))(slot.Give("a-"+first, t0.Add(time.Hour), domain.DefaultPolicy))
			step(t0.Add(time.Hour + time.Minute))(slot.Noticed("r-w-"+first, t0.Add(time.Hour+time.Minute)))
			step(t0.Add(2 * time.Hour))(slot.Lapse(t0.Add(2*time.Hour), domain.DefaultPolicy))
			step(t0.Add(2*time.Hour + time.Minute))(slot.Book("a-"+second, "r-w-"+second, t0.Add(2*time.Hour+time.Minute)))
			step(t0.Add(3 * time.Hour))(slot.Free("a-"+second, t0.Add(3*time.Hour), 0)) // and gives it back: the sample keeps no booking without its appointment
		}
		// Walk-ins, then the counters work the queue until it is empty.
		now := morning.Add(time.Hour)
		for w := 0; w < 6; w++ {
			seq++
			svc := Services[rng.IntN(len(Services))]
			prio := []domain.Priority{domain.Normal, domain.Normal, domain.Elderly, domain.Green}[rng.IntN(4)]
			evs, err := q.Issue(fmt.Sprintf("w%d-%d", seed, seq), svc.ID, svc.Prefix(), prio, "", false, now)
			do(staff, now, evs, err)
		}
		if rng.IntN(4) == 0 {
			evs, err := q.StopWalkIns("今日号已发完", now)
			do(staff, now, evs, err)
		}
		for round := 0; ; round++ {
			progress := false
			for _, c := range st.Counters {
				now = now.Add(time.Duration(2+rng.IntN(9)) * time.Minute)
				evs, err := q.CallNext(c.ID, now)
				do(staff, now, evs, err)
				if len(evs) == 0 {
					continue
				}
				progress = true
				called := evs[0].(domain.TicketCalled).TicketID
				switch r := rng.IntN(20); {
				case r == 0:
					for i := 0; i < 2; i++ {
						evs, err = q.Recall(c.ID, 2, now)
						do(staff, now, evs, err)
					}
					evs, err = q.NoShow(c.ID, now)
					do(staff, now, evs, err)
					continue
				case r == 1 && ticketOf(q, called).ServiceID != "permit":
					evs, err = q.Transfer(c.ID, "permit", now)
					do(staff, now, evs, err)
					continue
				case r == 2:
					evs, err = q.Park(c.ID, now)
					do(staff, now, evs, err)
					evs, err = q.Resume(c.ID, called, now.Add(time.Minute))
					do(staff, now, evs, err)
				}
				evs, err = q.Start(c.ID, now)
				do(staff, now, evs, err)
				now = now.Add(time.Duration(3+rng.IntN(12)) * time.Minute)
				// Some tickets become applications.
				if rng.IntN(3) == 0 {
					seq++
					id := fmt.Sprintf("p%d-%d", seed, seq)
					a := &domain.Application{}
					apps[id] = a
					open = append(open, id)
					slow[id] = rng.IntN(5) == 0
					as := domain.ApplicationStream(id)
					svc := cat.Services[ticketOf(q, called).ServiceID]
					evs, err = a.Submit(domain.ApplicationSubmitted{ID: id, StationID: "gulou", Channel: "counter", TicketID: called,
						Applicant: domain.Person{Ref: fmt.Sprintf("r%d-%d", seed, rng.IntN(5000))}}, svc)
					l.add(as, staff, now, evs, err)
					a.Apply(evs[0])
					evs, err = a.Accept(staff.ID, d, cal)
					l.add(as, staff, now, evs, err)
					a.Apply(evs[0])
					if d.Day%7 == 3 {
						// A later notice makes tomorrow a holiday: the
						// deadline is counted again.
						evs, err = a.Recompute(cal.With(withDay(ns, d.AddDays(1))))
						l.add(as, system, now.Add(time.Hour), evs, err)
						for _, e := range evs {
							a.Apply(e)
						}
					}
				}
				evs, err = q.Complete(c.ID, now)
				do(staff, now, evs, err)
			}
			if !progress {
				break
			}
		}
		evs, err := q.Pause("w2")
		do(staff, now, evs, err)
		for _, c := range st.Counters {
			evs, err = q.CloseCounter(c.ID)
			do(staff, now, evs, err)
		}
		evs, err = q.CloseDay("end of day", d.In(loc).Add(18*time.Hour))
		do(system, d.In(loc).Add(18*time.Hour), evs, err)
		rateVisits(l, q, d, d.In(loc).Add(17*time.Hour+30*time.Minute), cal, ratings)
		remedy(l, ratings, d, d.In(loc).Add(19*time.Hour), cal)

		// Applications move on each day: supplements, decisions, escalation.
		evening := d.In(loc).Add(17 * time.Hour)
		kept := open[:0]
		for _, id := range open {
			a, as := apps[id], domain.ApplicationStream(id)
			step := func(actor eventstore.Actor, evs []domain.Event, err error) {
				l.add(as, actor, evening, evs, err)
				for _, e := range evs {
					a.Apply(e)
				}
			}
			switch r := rng.IntN(12); {
			case slow[id] && a.Escalation < 2:
				evs, err := a.Check(d, cal, domain.DefaultEscalation)
				step(system, evs, err)
			case slow[id] && a.Status == domain.Accepted:
				evs, err := a.Approve(lead.ID, "逾期办结")
				step(lead, evs, err)
				evs, err = a.Complete(staff.ID, d)
				step(staff, evs, err)
				// Ready to collect, the applicant told, collected.
				evs, err = a.MarkReady(staff.ID, "3号窗口", d)
				step(staff, evs, err)
				evs, err = a.Notify(domain.NoticeReady, d)
				step(system, evs, err)
				evs, err = a.Collect(staff.ID, d)
				step(staff, evs, err)
			case a.Status == domain.Accepted && r == 0:
				evs, err := a.RequestSupplement(staff.ID, []string{"户口簿"}, d, cal)
				step(staff, evs, err)
			case a.Status == domain.Supplying && r < 4:
				evs, err := a.ReceiveSupplement(d, cal)
				step(staff, evs, err)
			case a.Status == domain.Accepted && r == 1 && !a.Extended:
				evs, err := a.Extend(lead.ID, "需上级审批", 5, d, cal)
				step(lead, evs, err)
			case a.Status == domain.Accepted && r == 2:
				evs, err := a.Reject(lead.ID, "不符合条件", "")
				step(lead, evs, err)
			case a.Status == domain.Accepted && r == 3:
				evs, err := a.Withdraw("resident", "", false)
				step(eventstore.Actor{ID: a.Applicant.Ref, Role: "resident"}, evs, err)
			case a.Status == domain.Accepted && r < 7:
				evs, err := a.Approve(lead.ID, "同意")
				step(lead, evs, err)
				evs, err = a.Complete(staff.ID, d)
				step(staff, evs, err)
				score := 1 + rng.IntN(5)
				evs, err = a.Rate(a.Applicant.Ref, domain.Scores{Score: score}, "", d, cal)
				step(eventstore.Actor{ID: a.Applicant.Ref, Role: "resident"}, evs, err)
				if score <= 2 {
					for _, s := range []string{"verify", "rectify", "reply"} {
						evs, err = a.Remediate(s, lead.ID, "已整改")
						step(lead, evs, err)
					}
					evs, err = a.Rate(a.Applicant.Ref, domain.Scores{Score: 4}, "", d, cal)
					step(eventstore.Actor{ID: a.Applicant.Ref, Role: "resident"}, evs, err)
				}
			default:
				evs, err := a.Check(d, cal, domain.DefaultEscalation)
				step(system, evs, err)
			}
			if a.Status == domain.Accepted || a.Status == domain.Supplying {
				kept = append(kept, id)
			}
		}
		if d.Day%5 == 0 {
			// An online application, promised an answer the next working
			// day: warned, late, then accepted.
			seq++
			id := fmt.Sprintf("o%d-%d", seed, seq)
			a, as := &domain.Application{}, domain.ApplicationStream(id)
			apps[id] = a
			who := eventstore.Actor{ID: fmt.Sprintf("r%d-o%d", seed, seq), Role: "resident"}
			for _, st := range []struct {
				actor  eventstore.Actor
				decide func() ([]domain.Event, error)
			}{
				{who, func() ([]domain.Event, error) {
					return a.Submit(domain.ApplicationSubmitted{ID: id, StationID: "gulou", Channel: "online", Applicant: domain.Person{Ref: who.ID},
						AcceptBy: cal.AddWorkingDays(d, domain.OnlineAcceptDays)}, cat.Services["permit"])
				}},
				{system, func() ([]domain.Event, error) { return a.Check(d, cal, domain.DefaultEscalation) }},
				{system, func() ([]domain.Event, error) {
					return a.Check(cal.AddWorkingDays(d, 2), cal, domain.DefaultEscalation)
				}},
				{staff, func() ([]domain.Event, error) { return a.Accept(staff.ID, cal.AddWorkingDays(d, 2), cal) }},
				// Then left past the statute's limit, concluded late, and
				// the document collected.
				{system, func() ([]domain.Event, error) {
					return a.Check(a.LegalDeadline.AddDays(1), cal, domain.DefaultEscalation)
				}},
				{lead, func() ([]domain.Event, error) { return a.Approve(lead.ID, "逾期办结") }},
				{staff, func() ([]domain.Event, error) { return a.Complete(staff.ID, a.LegalDeadline.AddDays(1)) }},
				{staff, func() ([]domain.Event, error) { return a.MarkReady(staff.ID, "3号窗口", a.LegalDeadline.AddDays(1)) }},
				{system, func() ([]domain.Event, error) { return a.Notify(domain.NoticeReady, a.LegalDeadline.AddDays(1)) }},
				{staff, func() ([]domain.Event, error) { return a.Collect(staff.ID, a.LegalDeadline.AddDays(2)) }},
			} {
				evs, err := st.decide()
				l.add(as, st.actor, evening, evs, err)
				for _, e := range evs {
					a.Apply(e)
				}
			}
		}
		open = kept
	}
	// The bad ratings still open are followed through on the days after:
	// the escalation job keeps running when the sample's halls stop.
	for d := end.AddDays(1); d.Before(end.AddDays(60)); d = d.AddDays(1) {
		remedy(l, ratings, d, d.In(loc).Add(19*time.Hour), cal)
	}
	// One resident asks to be erased at the end: the views forget them.
	if refs := slices.Sorted(maps.Keys(residents)); len(refs) > 0 {
		x := &domain.Erasure{}
		last := end.In(loc).Add(20 * time.Hour)
		evs, err := x.Erase(refs[0], admin.ID, last)
		l.add(domain.ErasureStream(refs[0]), admin, last, evs, err)
	}
	return l, nil
}

// Append writes the log to store, each stream in one append after what the
// stream holds (logs of different seeds share only the configuration
// streams), several streams at a time. It returns the number of events.
func (l *Log) Append(ctx context.Context, store eventstore.Store) (int, error) {
	work := make(chan string)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for stream := range work {
				items := l.streams[stream]
				evs := make([]eventstore.Event, len(items))
				for i, it := range items {
					typ, data, err := domain.Encode(it.event)
					if err != nil {
						errs <- err
						return
					}
					evs[i] = eventstore.Event{ID: uuid.Must(uuid.NewV7()), Type: typ, Data: data, OccurredAt: it.at.UTC(), Actor: it.actor, Schema: domain.Schema(typ)}
				}
				if _, err := store.Append(ctx, stream, eventstore.Any, evs...); err != nil {
					errs <- fmt.Errorf("sample %s: %w", stream, err)
					return
				}
			}
		}()
	}
	var err error
feed:
	for _, s := range l.order {
		select {
		case work <- s:
		case err = <-errs:
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return l.count, err
}

var kiosk = eventstore.Actor{ID: "kiosk.gulou", Role: domain.RoleKiosk}

// rateVisits rates some of the day's served tickets, by the day of the
// month (drawing from the sample's rng would shift everything it draws
// after): on days 2, 7, 12 … the first walk-in served is rated badly at
// the kiosk, which opens a remediation; on days divisible by 3 the first
// appointment served is rated well by its resident.
func rateVisits(l *Log, q *domain.Queue, d calendar.Date, at time.Time, cal *calendar.Calendar, ratings map[string]*domain.TicketRating) {
	rate := func(t domain.Ticket, who eventstore.Actor, sc domain.Scores, comment string) {
		r := &domain.TicketRating{}
		ratings[t.TicketID] = r
		served := domain.Served{TicketID: t.TicketID, StationID: "gulou", ServiceID: t.ServiceID, Date: d, CounterID: t.Counter, Staff: staff.ID, AppointmentID: t.AppointmentID}
		evs, err := r.Rate(served, who.ID, sc, comment, d, cal)
		l.add(domain.RatingStream(t.TicketID), who, at, evs, err)
		for _, e := range evs {
			r.Apply(e)
		}
	}
	walkIn, booked := d.Day%5 == 2, d.Day%3 == 0
	for _, t := range q.Tickets() {
		switch {
		case t.State != domain.Done:
		case walkIn && t.AppointmentID == "":
			rate(t, kiosk, domain.Scores{Score: 2, Attitude: 3, Efficiency: 1}, "等候时间太长")
			walkIn = false
		case booked && t.AppointmentID != "":
			rate(t, eventstore.Actor{ID: "r-" + t.AppointmentID, Role: domain.RoleResident}, domain.Scores{Score: 5, Attitude: 5, Efficiency: 5, Competence: 5}, "")
			booked = false
		}
	}
}

// remedy runs the escalation job's check on the open remediations of bad
// visit ratings; one escalated twice is verified, rectified and followed
// up, and its resident rates the visit again at the kiosk.
func remedy(l *Log, ratings map[string]*domain.TicketRating, d calendar.Date, at time.Time, cal *calendar.Calendar) {
	for _, id := range slices.Sorted(maps.Keys(ratings)) {
		r := ratings[id]
		if !r.Feedback.Remediating() {
			continue
		}
		step := func(who eventstore.Actor, evs []domain.Event, err error) {
			l.add(domain.RatingStream(id), who, at, evs, err)
			for _, e := range evs {
				r.Apply(e)
			}
		}
		evs, err := r.CheckRemediation(d, cal, domain.DefaultEscalation)
		step(system, evs, err)
		if r.Feedback.Escalation < 2 {
			continue
		}
		for _, s := range []string{"verify", "rectify", "reply"} {
			evs, err := r.Remediate(s, lead.ID, "已核实整改，电话回访")
			step(lead, evs, err)
		}
		served := domain.Served{TicketID: id, StationID: r.Ticket.StationID, ServiceID: r.Ticket.ServiceID, Date: r.Ticket.Date, CounterID: r.Ticket.CounterID, Staff: r.Ticket.Staff}
		evs, err = r.Rate(served, kiosk.ID, domain.Scores{Score: 4}, "", d, cal)
		step(kiosk, evs, err)
	}
}

// withDay is d's year's notice among ns with d made a holiday.
func withDay(ns []calendar.Notice, d calendar.Date) calendar.Notice {
	n := calendar.Notice{Year: d.Year}
	for _, x := range ns {
		if x.Year == d.Year {
			n.Days = slices.Clone(x.Days)
		}
	}
	n.Days = slices.DeleteFunc(n.Days, func(x calendar.Day) bool { return x.Date == d })
	n.Days = append(n.Days, calendar.Day{Name: "临时放假", Date: d, OffDay: true})
	return n
}

func ticketOf(q *domain.Queue, id string) domain.Ticket {
	t, _ := q.Ticket(id)
	return t
}
