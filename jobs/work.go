package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/projections"
)

// Each job does everything that is due at now, whatever ran before: that is
// how a missed tick is caught up. The views say where to look; the command
// path decides on fresh state, so a view that lags only delays the work.
type work struct {
	Config
	Hall  *command.Hall
	Views *projections.Engine
}

func (w work) meta(job, id string, now time.Time) command.Meta {
	return command.Meta{Actor: command.Actor{ID: "system:job-" + job, Role: domain.RoleSystem}, At: now, CommandID: id}
}

func (w work) today(now time.Time) calendar.Date { return calendar.DateOf(now.In(w.Loc)) }

// config is the stations and the calendar, as the views hold them.
func (w work) config(ctx context.Context) ([]projections.StationView, *calendar.Calendar, error) {
	stations, err := w.App.Queries.Stations(ctx)
	if err != nil {
		return nil, nil, err
	}
	cal, err := w.App.Queries.Calendar(ctx)
	return stations, cal, err
}

// releaseSlots opens every station's slots from today to the horizon.
func (w work) releaseSlots(ctx context.Context, now time.Time) (string, error) {
	stations, cal, err := w.config(ctx)
	if err != nil {
		return "", err
	}
	today := w.today(now)
	opened := 0
	for _, st := range stations {
		n, err := w.Hall.ReleaseSlots(ctx, st.ID, today, today.AddDays(w.Horizon-1), cal, w.meta("release-slots", "", now))
		opened += n
		if err != nil {
			return "", fmt.Errorf("station %s: %w", st.ID, err)
		}
	}
	withdrawn, cancelled, err := w.withdraw(ctx, stations, cal, today, now)
	if err != nil {
		return "", err
	}
	out := fmt.Sprintf("opened %d slots at %d stations, through %s", opened, len(stations), today.AddDays(w.Horizon-1))
	if withdrawn > 0 {
		out += fmt.Sprintf("; withdrew %d slots on public holidays, %d bookings cancelled and their residents told", withdrawn, cancelled)
	}
	for _, y := range []int{today.Year, today.Year + 1} {
		if cal.Provisional(y) {
			out += fmt.Sprintf("; warning: the State Council's holiday notice for %d is not imported, its statutory holidays are computed and make-up days unknown (%d 年放假安排尚未导入，节假日为推算，调休未知)", y, y)
		}
	}
	return out, nil
}

// withdraw closes released slots that fall on a public holiday: a holiday
// notice imported after their release made the day off. Their bookings are
// cancelled by the hall, and the send-notices job tells the residents.
func (w work) withdraw(ctx context.Context, stations []projections.StationView, cal *calendar.Calendar, today calendar.Date, now time.Time) (slots, cancelled int, err error) {
	services, err := w.App.Queries.Services(ctx)
	if err != nil {
		return 0, 0, err
	}
	const reason = "国务院放假通知：该日为法定节假日 (a public holiday by the State Council's notice)"
	for _, st := range stations {
		for _, svc := range services {
			released, err := w.App.Queries.FreeSlots(ctx, st.ID, svc.ID, today, today.AddDays(w.Horizon-1))
			if err != nil {
				return 0, 0, err
			}
			for _, sl := range released {
				if sl.Closed != "" || !cal.IsHoliday(sl.Date) {
					continue
				}
				stream := domain.SlotStream(st.ID, sl.Date, sl.Start, svc.ID)
				gone, res, err := w.Hall.CloseSlot(ctx, st.ID, sl.Date, sl.Start, svc.ID, reason, w.meta("release-slots", "withdraw-"+stream, now))
				if err != nil {
					return 0, 0, fmt.Errorf("withdraw %s: %w", stream, err)
				}
				if len(res.Events) > 0 {
					slots++
				}
				cancelled += len(gone)
			}
		}
	}
	return slots, cancelled, nil
}

// escalateOverdue warns, marks overdue and escalates open applications, and
// the open remediations of bad ratings (remediations.go).
func (w work) escalateOverdue(ctx context.Context, now time.Time) (string, error) {
	cal, err := w.App.Queries.Calendar(ctx)
	if err != nil {
		return "", err
	}
	today := w.today(now)
	open, err := w.App.Queries.SLA(ctx, today, cal, w.Escalation, "")
	if err != nil {
		return "", err
	}
	steps := 0
	for _, a := range open {
		m := w.meta("escalate-overdue", "escalate-"+a.ID+"-"+today.String(), now)
		res, err := w.Hall.CheckDeadline(ctx, a.ID, cal, w.Escalation, m)
		if err != nil {
			return "", fmt.Errorf("application %s: %w", a.ID, err)
		}
		steps += len(res.Events)
	}
	remedies, remedySteps, err := w.escalateRemediations(ctx, cal, now)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("checked %d open applications, %d steps; %d open remediations of bad ratings, %d steps", len(open), steps, remedies, remedySteps), nil
}

// sweepNoShows marks missed appointments and frees counters held by a
// called ticket nobody answered after its recalls.
func (w work) sweepNoShows(ctx context.Context, now time.Time) (string, error) {
	today := w.today(now)
	booked, err := w.App.Queries.BookedBetween(ctx, calendar.Date{}, today)
	if err != nil {
		return "", err
	}
	grace := w.Hall.Policy().Grace
	missed := 0
	for _, a := range booked {
		d, _ := calendar.ParseDate(a.Date)
		if now.Before(a.End.On(d, w.Loc).Add(grace)) {
			continue
		}
		res, err := w.Hall.NoShow(ctx, a.ID, w.meta("sweep-no-shows", "no-show-"+a.ID, now))
		if errors.Is(err, domain.ErrState) { // checked in or cancelled since the view was read
			continue
		}
		if err != nil {
			return "", fmt.Errorf("appointment %s: %w", a.ID, err)
		}
		if len(res.Events) > 0 {
			missed++
		}
	}
	stations, err := w.App.Queries.Stations(ctx)
	if err != nil {
		return "", err
	}
	closed := 0
	for _, st := range stations {
		abandoned, err := w.Hall.Abandoned(ctx, st.ID, today, 5*time.Minute, now)
		if err != nil {
			return "", err
		}
		for counter, ticket := range abandoned {
			res, err := w.Hall.CloseUnansweredCall(ctx, st.ID, counter, ticket, w.meta("sweep-no-shows", "abandoned-"+ticket, now))
			if err != nil && !errors.Is(err, domain.ErrState) {
				return "", fmt.Errorf("station %s counter %s: %w", st.ID, counter, err)
			}
			closed += len(res.Events)
		}
	}
	return fmt.Sprintf("%d appointments missed, %d unanswered calls closed", missed, closed), nil
}

// closeDays closes each station's queue an hour after its last opening
// hours end (at 20:00 on a day without hours), and any earlier day left
// open: waiting tickets are cancelled with the reason, and the closing
// event records the day's figures.
func (w work) closeDays(ctx context.Context, now time.Time) (string, error) {
	stations, cal, err := w.config(ctx)
	if err != nil {
		return "", err
	}
	today := w.today(now)
	closed := 0
	for _, sv := range stations {
		days, err := w.App.Queries.Days(ctx, sv.ID, today.AddDays(1))
		if err != nil {
			return "", err
		}
		end, err := w.Hall.LastHour(ctx, sv.ID, today, cal)
		if err != nil {
			return "", err
		}
		for _, day := range days {
			d, err := calendar.ParseDate(day.Date)
			if err != nil || day.Closed || (d == today && now.Before(end.On(today, w.Loc).Add(time.Hour))) {
				continue
			}
			stream := domain.QueueStream(sv.ID, d) // the command id, as before
			res, err := w.Hall.CloseDay(ctx, sv.ID, d, "the hall closed for the day (今日已结束办理)", w.meta("close-day", "close-"+stream, now))
			if err != nil {
				return "", fmt.Errorf("%s: %w", stream, err)
			}
			closed += len(res.Events)
		}
	}
	return fmt.Sprintf("closed %d days", closed), nil
}

// sendReminders reminds residents of tomorrow's appointments (and today's
// still to come, when the evening run was missed). The reminder is sent,
// then recorded: a crash in between sends it again, never loses it.
func (w work) sendReminders(ctx context.Context, now time.Time) (string, error) {
	today := w.today(now)
	booked, err := w.App.Queries.BookedBetween(ctx, today, today.AddDays(1))
	if err != nil {
		return "", err
	}
	sent := 0
	for _, a := range booked {
		d, _ := calendar.ParseDate(a.Date)
		if a.Reminded || !now.Before(a.Start.On(d, w.Loc)) {
			continue
		}
		if err := w.Notifier.Notify(ctx, a.Resident, reminderText(a)); err != nil {
			return "", fmt.Errorf("remind %s: %w", a.ID, err)
		}
		if _, err := w.Hall.Reminded(ctx, a.ID, w.meta("send-reminders", "remind-"+a.ID, now)); err != nil {
			return "", fmt.Errorf("record reminder %s: %w", a.ID, err)
		}
		sent++
	}
	return fmt.Sprintf("sent %d reminders", sent), nil
}

// sendNotices tells each resident whose appointment the hall cancelled (a
// closure, a new holiday) why, and each applicant whose document is ready
// where to collect it, once: sent, then recorded, as reminders are.
func (w work) sendNotices(ctx context.Context, now time.Time) (string, error) {
	due, err := w.App.Queries.NoticesDue(ctx)
	if err != nil {
		return "", err
	}
	sent := 0
	for _, a := range due {
		if err := w.Notifier.Notify(ctx, a.Resident, cancelText(a)); err != nil {
			return "", fmt.Errorf("notify %s: %w", a.ID, err)
		}
		if _, err := w.Hall.Noticed(ctx, a.ID, domain.NoticeCancelled, w.meta("send-notices", "notice-"+a.ID, now)); err != nil {
			return "", fmt.Errorf("record notice %s: %w", a.ID, err)
		}
		sent++
	}
	ready, err := w.App.Queries.ReadyToTell(ctx)
	if err != nil {
		return "", err
	}
	for _, a := range ready {
		text := fmt.Sprintf("您的办件（%s）已办结，证件可领取%s。Your document is ready to collect%s.", a.ID[:min(8, len(a.ID))], at(a.Where, "，地点："), at(a.Where, " at "))
		if err := w.Notifier.Notify(ctx, a.Applicant, text); err != nil {
			return "", fmt.Errorf("notify %s: %w", a.ID, err)
		}
		if _, err := w.Hall.AppNoticed(ctx, a.ID, domain.NoticeReady, w.meta("send-notices", "ready-"+a.ID, now)); err != nil {
			return "", fmt.Errorf("record notice %s: %w", a.ID, err)
		}
		sent++
	}
	return fmt.Sprintf("sent %d notices", sent), nil
}

// at prefixes where with prefix, if there is a where.
func at(where, prefix string) string {
	if where == "" {
		return ""
	}
	return prefix + where
}

// sendTurnNotices tells each checked-in resident with TurnAhead tickets
// or fewer before them in today's queue that their turn is coming, once.
// Walk-in tickets carry no phone: they watch the board.
func (w work) sendTurnNotices(ctx context.Context, now time.Time) (string, error) {
	stations, err := w.App.Queries.Stations(ctx)
	if err != nil {
		return "", err
	}
	sent := 0
	for _, st := range stations {
		day, err := w.App.Queries.Day(ctx, st.ID, w.today(now))
		if err != nil {
			return "", err
		}
		places := map[string]int{} // tickets before the next one, per service
		for _, t := range day.Waiting() {
			ahead := places[t.Service]
			places[t.Service]++
			if ahead > w.TurnAhead || t.Appointment == "" {
				continue
			}
			a, err := w.App.Queries.Appointment(ctx, t.Appointment)
			if err != nil {
				return "", err
			}
			if a.Noticed[domain.NoticeTurn] {
				continue
			}
			v, ok, err := w.App.Queries.AppointmentView(ctx, t.Appointment)
			if err != nil || !ok {
				return "", cmp.Or(err, fmt.Errorf("appointment %s not in the view", t.Appointment))
			}
			text := fmt.Sprintf("您的号 %s 前面还有 %d 位，请到等候区留意叫号。Ticket %s: %d ahead of you; please wait near the counters.", t.Number, ahead, t.Number, ahead)
			if err := w.Notifier.Notify(ctx, v.Resident, text); err != nil {
				return "", fmt.Errorf("turn notice %s: %w", t.Number, err)
			}
			if _, err := w.Hall.Noticed(ctx, t.Appointment, domain.NoticeTurn, w.meta("send-turn-notices", "turn-"+t.Appointment, now)); err != nil {
				return "", fmt.Errorf("record turn notice %s: %w", t.Number, err)
			}
			sent++
		}
	}
	return fmt.Sprintf("sent %d turn notices", sent), nil
}

// offerPlaces tells each person offered a place from a waitlist, once, and
// passes the places not taken in time to the next person waiting.
func (w work) offerPlaces(ctx context.Context, now time.Time) (string, error) {
	offers, err := w.App.Queries.Offers(ctx)
	if err != nil {
		return "", err
	}
	told, lapsed := 0, 0
	for _, o := range offers {
		slot := fmt.Sprintf("%s-%s-%s-%s", o.Station, o.Date, o.Start, o.Service)
		if !now.Before(o.Until) {
			res, err := w.Hall.LapseOffers(ctx, o.Station, o.Date, o.Start, o.Service, w.meta("offer-places", "lapse-"+slot+"-"+o.Person.Ref, now))
			if err != nil {
				return "", fmt.Errorf("lapse offers of %s: %w", slot, err)
			}
			for _, e := range res.Events {
				if _, ok := e.(domain.OfferLapsed); ok {
					lapsed++
				}
			}
			continue
		}
		if o.Noticed {
			continue
		}
		text := fmt.Sprintf("候补成功：%s %s 的名额为您保留至 %s，请尽快预约。A place on %s at %s is held for you until %s: book it now.",
			o.Date, o.Start, o.Until.In(w.Loc).Format("15:04"), o.Date, o.Start, o.Until.In(w.Loc).Format("15:04"))
		if err := w.Notifier.Notify(ctx, o.Person, text); err != nil {
			return "", fmt.Errorf("offer %s: %w", slot, err)
		}
		if _, err := w.Hall.OfferNoticed(ctx, o.Station, o.Date, o.Start, o.Service, o.Person.Ref, w.meta("offer-places", "offer-"+slot+"-"+o.Person.Ref+"-"+o.Until.Format(time.RFC3339), now)); err != nil {
			return "", fmt.Errorf("record offer %s: %w", slot, err)
		}
		told++
	}
	return fmt.Sprintf("told %d of a place held for them, %d offers lapsed", told, lapsed), nil
}

// Notifier sends a resident a text.
type Notifier interface {
	Notify(ctx context.Context, to domain.Person, text string) error
}

func reminderText(a projections.AppointmentView) string {
	return fmt.Sprintf("您预约了 %s %s 的业务，请准时到达。Your appointment is on %s at %s.", a.Date, a.Start, a.Date, a.Start)
}

func cancelText(a projections.AppointmentView) string {
	return fmt.Sprintf("很抱歉，您 %s %s 的预约因“%s”已取消，请重新预约。Sorry: your appointment on %s at %s was cancelled (%s); please book again.",
		a.Date, a.Start, a.Reason, a.Date, a.Start, a.Reason)
}

// LogNotifier logs the texts, masked: for a machine without an SMS gateway.
type LogNotifier struct{ Logger *slog.Logger }

func (l LogNotifier) Notify(_ context.Context, to domain.Person, text string) error {
	l.Logger.Info("notice", "phone", to.Phone, "text", text)
	return nil
}

// SMSNotifier sends the texts to the phone sealed in the appointment, which
// only the hall's key opens.
type SMSNotifier struct {
	Send   func(ctx context.Context, phone, text string) error
	Unseal func(context.Context, domain.Person) (domain.Applicant, error)
}

func (n SMSNotifier) Notify(ctx context.Context, to domain.Person, text string) error {
	who, err := n.Unseal(ctx, to)
	if err != nil {
		return fmt.Errorf("text to %s: %w", to.Phone, err)
	}
	return n.Send(ctx, who.Phone, text)
}

// recoverPlaces gives back places and holds that no live appointment owns.
// On SQLite and PostgreSQL a booking is written at once and there are none;
// on KurrentDB a crash between a command's streams can leave some. One
// that is younger than two minutes may belong to a command still under way.
func (w work) recoverPlaces(ctx context.Context, now time.Time) (string, error) {
	n, err := w.Hall.Recover(ctx, 2*time.Minute, w.meta("recover-places", "recover-"+now.UTC().Format(time.RFC3339), now))
	return fmt.Sprintf("gave back %d places or holds", n), err
}
