package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/servicehall/servicehall/domain/calendar"
)

// escalateRemediations warns, marks overdue and escalates the open
// remediations of bad ratings, by the rule deadlines follow. The command
// id is the remediation's and the day's, as an application's deadline
// check is: a tick run twice writes each step once.
func (w work) escalateRemediations(ctx context.Context, cal *calendar.Calendar, now time.Time) (checked, steps int, err error) {
	today := w.today(now)
	open, err := w.App.Queries.Remediations(ctx, "", today, cal, w.Escalation, "open")
	if err != nil {
		return 0, 0, err
	}
	for _, r := range open {
		m := w.meta("escalate-overdue", "remedy-"+r.Kind+"-"+r.ID+"-"+today.String(), now)
		res, err := w.Hall.CheckRemediation(ctx, r.Kind, r.ID, cal, w.Escalation, m)
		if err != nil {
			return 0, 0, fmt.Errorf("remediation of %s %s: %w", r.Kind, r.ID, err)
		}
		steps += len(res.Events)
	}
	return len(open), steps, nil
}
