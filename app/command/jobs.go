package command

import (
	"context"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
)

// The scheduled jobs' steps. Each decides on the stream, so a view that
// pointed a job at work already done makes it write nothing.

// ReleaseSlots opens a station's slots for every date in [from, to].
func (hl *Hall) ReleaseSlots(ctx context.Context, station string, from, to calendar.Date, cal *calendar.Calendar, m Meta) (int, error) {
	n, _, err := Release(ctx, hl.h, station, from, to, cal, hl.loc, m)
	return n, err
}

// CheckDeadline counts an open application's deadline again on cal, then
// warns, marks overdue or escalates it, as the rule says for today.
func (hl *Hall) CheckDeadline(ctx context.Context, id string, cal *calendar.Calendar, rule domain.Escalation, m Meta) (Result, error) {
	today := calendar.DateOf(m.At.In(hl.loc))
	// The deadline on today's calendar first, then the warnings it calls
	// for. The recomputation has no command id of its own: the calendar
	// may change again the same day, and the stream's version keeps two
	// runs from writing it twice.
	recompute := m
	recompute.CommandID = ""
	if _, err := Execute(ctx, hl.h, domain.ApplicationStream(id), recompute, func(a *domain.Application) ([]domain.Event, error) {
		return a.Recompute(cal)
	}); err != nil {
		return Result{}, err
	}
	return Execute(ctx, hl.h, domain.ApplicationStream(id), m, func(a *domain.Application) ([]domain.Event, error) {
		return a.Check(today, cal, rule)
	})
}

// Abandoned lists the counters of a station's day whose called ticket went
// unanswered after its recalls for longer than wait, with those tickets.
func (hl *Hall) Abandoned(ctx context.Context, station string, day calendar.Date, wait time.Duration, now time.Time) (map[string]string, error) {
	q, _, err := Load[domain.Queue](ctx, hl.h.Store(), domain.QueueStream(station, day))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, counter := range q.Abandoned(domain.MaxRecalls, wait, now) {
		k, _ := q.Counter(counter)
		out[counter] = k.Current
	}
	return out, nil
}

// CloseUnansweredCall marks the ticket a counter called a no-show, if the
// counter is still on it.
func (hl *Hall) CloseUnansweredCall(ctx context.Context, station, counter, ticket string, m Meta) (Result, error) {
	day := calendar.DateOf(m.At.In(hl.loc))
	return Execute(ctx, hl.h, domain.QueueStream(station, day), m, func(q *domain.Queue) ([]domain.Event, error) {
		if k, _ := q.Counter(counter); k.Current != ticket {
			return nil, nil // the counter moved on meanwhile
		}
		return q.NoShow(counter, m.At)
	})
}

// LastHour is when a station's day ends: its last hours' end on day, or
// 19:00 on a day without hours.
func (hl *Hall) LastHour(ctx context.Context, station string, day calendar.Date, cal *calendar.Calendar) (domain.Clock, error) {
	st, _, err := Load[domain.Station](ctx, hl.h.Store(), domain.StationStream(station))
	if err != nil {
		return 0, err
	}
	end := domain.Clock(19 * 60)
	if hours := st.HoursOn(day, cal); len(hours) > 0 {
		end = 0
		for _, h := range hours {
			end = max(end, h.End)
		}
	}
	return end, nil
}

// CloseDay closes a station's queue for day: waiting tickets are cancelled
// with the reason, and the closing records the day's figures.
func (hl *Hall) CloseDay(ctx context.Context, station string, day calendar.Date, reason string, m Meta) (Result, error) {
	return Execute(ctx, hl.h, domain.QueueStream(station, day), m, func(q *domain.Queue) ([]domain.Event, error) {
		return q.CloseDay(reason, m.At)
	})
}

// Reminded records that an appointment's reminder went out.
func (hl *Hall) Reminded(ctx context.Context, id string, m Meta) (Result, error) {
	return Execute(ctx, hl.h, domain.AppointmentStream(id), m, func(a *domain.Appointment) ([]domain.Event, error) {
		return a.Remind(m.At)
	})
}

// Noticed records that a notice of kind went to an appointment's resident.
func (hl *Hall) Noticed(ctx context.Context, id, kind string, m Meta) (Result, error) {
	return Execute(ctx, hl.h, domain.AppointmentStream(id), m, func(a *domain.Appointment) ([]domain.Event, error) {
		return a.Notify(kind, m.At)
	})
}

// AppNoticed records that a text of kind went to an application's applicant.
func (hl *Hall) AppNoticed(ctx context.Context, id, kind string, m Meta) (Result, error) {
	today := calendar.DateOf(m.At.In(hl.loc))
	return Execute(ctx, hl.h, domain.ApplicationStream(id), m, func(a *domain.Application) ([]domain.Event, error) {
		return a.Notify(kind, today)
	})
}
