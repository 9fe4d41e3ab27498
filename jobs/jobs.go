// Package jobs runs the scheduled work of a service hall (robfig/cron, in
// the stations' time zone): releasing slots, escalating overdue work,
// sweeping no-shows, closing days, sending reminders and giving back places
// a crash left owned by no appointment. Every job issues
// ordinary commands through the command path as "system:job-NAME", with
// command ids derived from what it acts on, so a tick run twice, by two
// replicas or after a crash, writes each event once.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/servicehall/servicehall/app"
	"github.com/servicehall/servicehall/domain"
)

// Config is what the jobs need; zero fields take the defaults.
type Config struct {
	App    *app.Application
	Loc    *time.Location
	Logger *slog.Logger
	// Horizon is how many days of slots are open ahead (default 14).
	Horizon int
	// ReleaseAt is the daily release time, "HH:MM" (default "08:00").
	ReleaseAt  string
	Escalation domain.Escalation
	// TurnAhead is how many tickets ahead a checked-in resident is told
	// their turn is coming (default 3).
	TurnAhead int
	// Notifier sends reminders and notices (default: logged, masked).
	Notifier Notifier
	// Lock decides which process runs a tick (default: in this process).
	Lock Locker
	Now  func() time.Time
}

// Status is one job as GET /admin/jobs shows it.
type Status struct {
	Name       string    `json:"name"`
	Schedule   string    `json:"schedule"`
	LastRun    time.Time `json:"last_run,omitzero"`
	NextRun    time.Time `json:"next_run,omitzero"`
	LastResult string    `json:"last_result,omitempty"`
}

// ErrUnknown is returned for a job name that does not exist.
var ErrUnknown = fmt.Errorf("%w: no such job (无此任务)", domain.ErrNotFound)

type job struct {
	name, schedule string
	run            func(ctx context.Context, now time.Time) (string, error)
	entry          cron.EntryID
	lastRun        time.Time
	lastResult     string
}

// Runner schedules the jobs and runs them on demand.
type Runner struct {
	c    Config
	cron *cron.Cron
	mu   sync.Mutex // guards the jobs' last run and result
	jobs []*job
}

// New returns a Runner with the jobs, not yet started.
func New(c Config) (*Runner, error) {
	if c.App == nil || c.Loc == nil || c.Logger == nil {
		return nil, errors.New("jobs: New needs the application, a location and a logger")
	}
	if c.Horizon < 1 {
		c.Horizon = 14
	}
	if c.ReleaseAt == "" {
		c.ReleaseAt = "08:00"
	}
	at, err := domain.ParseClock(c.ReleaseAt)
	if err != nil {
		return nil, fmt.Errorf("jobs: release time: %w", err)
	}
	if c.Escalation == (domain.Escalation{}) {
		c.Escalation = domain.DefaultEscalation
	}
	if c.TurnAhead <= 0 {
		c.TurnAhead = 3
	}
	if c.Notifier == nil {
		c.Notifier = LogNotifier{c.Logger}
	}
	if c.Lock == nil {
		c.Lock = &LocalLock{}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	r := &Runner{c: c, cron: cron.New(cron.WithLocation(c.Loc))}
	w := work{c, c.App.Commands, c.App.Queries.Views()}
	r.jobs = []*job{
		{name: "release-slots", schedule: fmt.Sprintf("%d %d * * *", int(at)%60, int(at)/60), run: w.releaseSlots},
		{name: "escalate-overdue", schedule: "*/10 * * * *", run: w.escalateOverdue},
		{name: "sweep-no-shows", schedule: "*/5 * * * *", run: w.sweepNoShows},
		{name: "close-day", schedule: "*/15 * * * *", run: w.closeDays},
		{name: "send-reminders", schedule: "0 18 * * *", run: w.sendReminders},
		{name: "send-notices", schedule: "* * * * *", run: w.sendNotices},
		{name: "send-turn-notices", schedule: "* * * * *", run: w.sendTurnNotices},
		{name: "offer-places", schedule: "* * * * *", run: w.offerPlaces},
		{name: "recover-places", schedule: "*/30 * * * *", run: w.recoverPlaces},
	}
	for _, j := range r.jobs {
		id, err := r.cron.AddFunc(j.schedule, func() {
			if _, err := r.Run(context.Background(), j.name, r.c.Now()); err != nil {
				r.c.Logger.Error("job", "job", j.name, "error", err)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("jobs: schedule of %s: %w", j.name, err)
		}
		j.entry = id
	}
	return r, nil
}

// Start keeps the schedule until Stop.
func (r *Runner) Start() { r.cron.Start() }

// CatchUp runs every job once at now, in order: what was missed while no
// process ran is done, because every job does all that is due at now.
func (r *Runner) CatchUp(ctx context.Context, now time.Time) {
	for _, j := range r.jobs {
		if _, err := r.Run(ctx, j.name, now); err != nil {
			r.c.Logger.Error("job catch-up", "job", j.name, "error", err)
		}
	}
}

// Stop ends the schedule and waits for running jobs.
func (r *Runner) Stop() { <-r.cron.Stop().Done() }

// Run runs one job at now, if this process wins its lock; otherwise it
// does nothing and says so.
func (r *Runner) Run(ctx context.Context, name string, now time.Time) (string, error) {
	var j *job
	for _, x := range r.jobs {
		if x.name == name {
			j = x
		}
	}
	if j == nil {
		return "", fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	unlock, ok, err := r.c.Lock.TryLock(ctx, name)
	if err != nil {
		return "", fmt.Errorf("job %s: lock: %w", name, err)
	}
	if !ok {
		return "skipped: another run holds the lock", nil
	}
	defer unlock()
	start := time.Now()
	result, err := j.run(ctx, now)
	if err != nil {
		result = "error: " + err.Error()
	}
	r.mu.Lock()
	j.lastRun, j.lastResult = now, result
	r.mu.Unlock()
	r.c.Logger.Info("job", "job", name, "at", now, "result", result, "ms", time.Since(start).Milliseconds())
	if err != nil {
		return result, fmt.Errorf("job %s: %w", name, err)
	}
	return result, nil
}

// Status lists the jobs with their schedule, last and next run.
func (r *Runner) Status() []Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Status, 0, len(r.jobs))
	for _, j := range r.jobs {
		out = append(out, Status{j.name, j.schedule, j.lastRun, r.cron.Entry(j.entry).Next, j.lastResult})
	}
	return out
}

// Locker decides which process runs a tick.
type Locker interface {
	// TryLock takes the named lock if it is free; unlock gives it back.
	TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error)
}

// LocalLock is a Locker for one process: the embedded store allows only
// one process anyway.
type LocalLock struct {
	mu   sync.Mutex
	held map[string]bool
}

func (l *LocalLock) TryLock(_ context.Context, name string) (func(), bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[name] {
		return nil, false, nil
	}
	if l.held == nil {
		l.held = map[string]bool{}
	}
	l.held[name] = true
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.held, name)
	}, true, nil
}
