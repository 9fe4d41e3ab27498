package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/domain/idnumber"
	"github.com/servicehall/servicehall/eventstore/sqlitestore"
)

// RushP99 is the latency a sustained rate keeps its p99 under.
const RushP99 = 50 * time.Millisecond

// DefaultRates are the rush's arrival rates, requests a second, in the
// order they are tried.
var DefaultRates = []int{50, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 4000, 6000, 8000, 12000, 16000, 24000, 32000, 48000}

// RushOptions are the rush's knobs.
type RushOptions struct {
	Residents int           // residents logged in beforehand; 0: enough for every place
	Places    int           // places released, in slots of 10 (more when too few slots are released)
	Rates     []int         // arrival rates tried in turn
	Step      time.Duration // how long each rate lasts
}

// passes says whether a step holds its rate: every request sent and
// answered, none an error, p99 under RushP99.
func passes(s Step) bool {
	return !s.Short && s.Errors == 0 && s.Answered() == s.Sent && s.P99ms < ms(RushP99)
}

// ramp runs step at each rate in turn until two steps in a row fail, a step
// fails far off (p99 over ten times the limit, or errors), or requests run
// out. It returns the steps run and the index of the highest rate that
// passed, or -1.
func ramp(rates []int, step func(rate int) (Step, error), stderr io.Writer, who string) ([]Step, int, error) {
	var steps []Step
	best, failed := -1, 0
	for _, rate := range rates {
		s, err := step(rate)
		if err != nil {
			return steps, best, err
		}
		steps = append(steps, s)
		ok := passes(s)
		fmt.Fprintf(stderr, "%s: %6d/s sent %6d, 201 %6d, 409 %5d, errors %5d, p50 %8.3f ms, p99 %8.3f ms, max %8.3f ms%s\n",
			who, rate, s.Sent, s.OK, s.Full, s.Errors, s.P50ms, s.P99ms, s.MaxMs, map[bool]string{true: "", false: "  (fails)"}[ok])
		if s.Error != "" && s.Errors > 0 {
			fmt.Fprintf(stderr, "%s: first error: %s\n", who, s.Error)
		}
		switch {
		case s.Short:
			fmt.Fprintf(stderr, "%s: out of places: higher rates not tried (raise --slots)\n", who)
			return steps, best, nil
		case ok:
			best, failed = len(steps)-1, 0
			continue
		}
		failed++
		if failed == 2 || s.P99ms > 10*ms(RushP99) || s.Errors > 0 {
			break
		}
	}
	return steps, best, nil
}

// rushLayout places the bookings: booking k goes to slot k/capacity, so
// that slots fill one after another; slots run day by day, perDay a day;
// resident k%residents makes it, so a resident's (at most three) bookings
// lie perDay*capacity bookings or more apart, on different days.
type rushLayout struct {
	bookings, residents, capacity, perDay, days int
}

func planRush(places, residents, days int) (rushLayout, error) {
	const maxPerDay = 190 // 5-minute slots from 08:00 to 23:50
	if places < 1 {
		return rushLayout{}, errors.New("bench rush: --slots: at least one place")
	}
	if days < 3 {
		return rushLayout{}, errors.New("bench rush: at least three days of slots must be released")
	}
	if residents <= 0 {
		residents = (places + 2) / 3
	}
	l := rushLayout{bookings: min(places, 3*residents), residents: residents, capacity: 10, days: days}
	l.capacity = max(l.capacity, (l.bookings+maxPerDay*days-1)/(maxPerDay*days))
	l.perDay = min(maxPerDay, residents/l.capacity)
	if l.perDay < 1 {
		return l, fmt.Errorf("bench rush: --residents: at least %d", l.capacity)
	}
	if need := (l.bookings + l.capacity*l.perDay - 1) / (l.capacity * l.perDay); need > days {
		return l, fmt.Errorf("bench rush: %d places need %d days of %d slots, %d are released: more --residents or fewer --slots", l.bookings, need, l.perDay, days)
	}
	return l, nil
}

// released waits for the availability view to show the slots Setup
// released (the view follows the log) and returns their days and starts.
func released(s *Client, today calendar.Date, l rushLayout) ([]calendar.Date, []domain.Clock, error) {
	need := (l.bookings + l.capacity*l.perDay - 1) / (l.capacity * l.perDay)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var free []struct {
			Date  calendar.Date `json:"date"`
			Start domain.Clock  `json:"start"`
		}
		if _, err := s.Call("GET", fmt.Sprintf("/stations/bench/availability?service_id=birth&from=%s&to=%s", today.AddDays(1), today.AddDays(l.days)), "", nil, &free); err != nil {
			return nil, nil, err
		}
		perDay := map[calendar.Date]int{}
		var starts []domain.Clock
		for _, f := range free {
			perDay[f.Date]++
			if !slices.Contains(starts, f.Start) {
				starts = append(starts, f.Start)
			}
		}
		var days []calendar.Date
		for d, n := range perDay {
			if n == l.perDay {
				days = append(days, d)
			}
		}
		if len(days) >= need && len(starts) == l.perDay {
			slices.SortFunc(days, func(a, b calendar.Date) int { return strings.Compare(a.String(), b.String()) })
			slices.Sort(starts)
			return days, starts, nil
		}
		if time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("bench rush: %d days of %d slots released, want %d", len(days), l.perDay, need)
		}
	}
}

func (l rushLayout) slot(k int) (day, start int) {
	j := k / l.capacity
	return j / l.perDay, j % l.perDay
}

// Rush: residents log in beforehand; then a load generator in its own
// process books, open loop, at rising arrival rates, each booking aimed at
// the slot being filled. Every 201 must be in the log afterwards and no
// slot may hold more bookings than places. The same generator then runs
// against a minimal gin server in its own process, the baseline.
func Rush(ctx context.Context, c Config, o RushOptions, stderr io.Writer) (Result, error) {
	// The child processes' stderr is copied in by os/exec's goroutines
	// while this one reports its steps.
	stderr = &lockedWriter{w: stderr}
	if len(o.Rates) == 0 {
		o.Rates = DefaultRates
	}
	if o.Step <= 0 {
		o.Step = 3 * time.Second
	}
	today := calendar.DateOf(time.Now().In(c.Loc))
	l, err := planRush(o.Places, o.Residents, c.Horizon-1)
	if err != nil {
		return Result{}, err
	}
	tmp, err := os.MkdirTemp("", "servicehall-rush-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(tmp)

	s, err := startServer(ctx, c)
	if err != nil {
		return Result{}, err
	}
	defer s.close()
	setupStart := time.Now()
	if err := s.Setup(0, l.perDay*5, l.capacity); err != nil {
		return Result{}, err
	}
	days, starts, err := released(s, today, l)
	if err != nil {
		return Result{}, err
	}
	fmt.Fprintf(stderr, "rush: %d residents log in; %d places in slots of %d, %d slots a day from %s\n",
		l.residents, l.bookings, l.capacity, l.perDay, days[0])

	tokens := make([]string, l.residents)
	people := make([]domain.Applicant, l.residents)
	born := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := Parallel(l.residents, 64, func(i int) error {
		phone := fmt.Sprintf("139%08d", i)
		first := fmt.Sprintf("110105%s%03d", born.AddDate(0, 0, i/1000).Format("20060102"), i%1000)
		people[i] = domain.Applicant{Name: "居民" + fmt.Sprint(i), IDNumber: first + string(idnumber.CheckDigit(first)), Phone: phone}
		var code struct {
			DevCode string `json:"dev_code"`
		}
		if _, err := s.Call("POST", "/auth/otp", "", map[string]string{"phone": phone}, &code); err != nil {
			return err
		}
		var tok struct{ Token string }
		if _, err := s.Call("POST", "/auth/verify", "", map[string]string{"phone": phone, "code": code.DevCode}, &tok); err != nil {
			return err
		}
		tokens[i] = tok.Token
		return nil
	}); err != nil {
		return Result{}, err
	}
	login := time.Since(setupStart)
	reqs := make([]Request, l.bookings)
	for k := range reqs {
		d, st := l.slot(k)
		i := k % l.residents
		body, err := json.Marshal(map[string]any{"station_id": "bench", "service_id": "birth", "date": days[d], "start": starts[st], "resident": people[i]})
		if err != nil {
			return Result{}, err
		}
		reqs[k] = Request{Token: tokens[i], Body: body}
	}
	file := filepath.Join(tmp, "requests")
	if err := WriteRequests(file, reqs); err != nil {
		return Result{}, err
	}
	fmt.Fprintf(stderr, "rush: setup and %d logins took %.1f s\n", l.residents, login.Seconds())
	s.HTTP.CloseIdleConnections()

	gen, err := startGenerator(c.Exe, s.Base+"/appointments", file, false, true, stderr)
	if err != nil {
		return Result{}, err
	}
	steps, best, err := ramp(o.Rates, func(rate int) (Step, error) { return gen.step(rate, o.Step) }, stderr, "rush")
	if cerr := gen.close(); err == nil && cerr != nil {
		err = fmt.Errorf("bench rush: the load generator: %w", cerr)
	}
	if err != nil {
		return Result{}, err
	}
	if err := s.stop(); err != nil {
		return Result{}, fmt.Errorf("bench rush: the server stopped with %w", err)
	}

	// What the log holds, read after the server is gone.
	var acked []string
	sent := 0
	for i := range steps {
		acked = append(acked, steps[i].IDs...)
		sent += steps[i].Sent
		steps[i].IDs, steps[i].Error = nil, ""
	}
	log, err := sqlitestore.Open(filepath.Join(s.data, "events.db"))
	if err != nil {
		return Result{}, err
	}
	defer log.Close()
	lost, overbooked, inLog := 0, 0, 0
	for _, id := range acked {
		recs, err := log.ReadStream(ctx, domain.AppointmentStream(id), 0)
		if err != nil {
			return Result{}, err
		}
		if len(recs) == 0 {
			lost++
		}
	}
	for j := range (sent + l.capacity - 1) / l.capacity {
		d, st := l.slot(j * l.capacity)
		sl, _, err := command.Load[domain.Slot](ctx, log, domain.SlotStream("bench", days[d], starts[st], "birth"))
		if err != nil {
			return Result{}, err
		}
		inLog += len(sl.Holders())
		overbooked += max(0, len(sl.Holders())-sl.Online())
	}

	// The same generator against the baseline.
	addr, stopBaseline, err := startBaseline(c.Exe, stderr)
	if err != nil {
		return Result{}, err
	}
	bgen, err := startGenerator(c.Exe, "http://"+addr+"/api/v1/appointments", file, true, false, stderr)
	if err != nil {
		stopBaseline()
		return Result{}, err
	}
	bsteps, bbest, err := ramp(o.Rates, func(rate int) (Step, error) { return bgen.step(rate, o.Step) }, stderr, "baseline")
	err = errors.Join(err, bgen.close(), stopBaseline())
	if err != nil {
		return Result{}, fmt.Errorf("bench rush: baseline: %w", err)
	}
	for i := range bsteps {
		bsteps[i].Error = ""
	}

	r := Result{Scenario: "rush"}
	sustained := 0
	if best >= 0 {
		b := steps[best]
		sustained = b.Rate
		r.Ops, r.Seconds, r.Errors, r.P50ms, r.P99ms = b.Answered(), b.Seconds, b.Errors, b.P50ms, b.P99ms
		if b.Seconds > 0 {
			r.OpsPerSec = round(float64(b.Answered()) / b.Seconds)
		}
	}
	full := 0
	for _, st := range steps {
		full += st.Full
	}
	r.Extra = map[string]any{"sustained_rate": sustained, "residents": l.residents, "places": l.bookings, "capacity": l.capacity,
		"sent": sent, "booked": len(acked), "booked_in_log": inLog, "full_409": full, "overbooked": overbooked, "lost": lost,
		"login_seconds": round(login.Seconds()), "step_seconds": o.Step.Seconds(), "p99_limit_ms": ms(RushP99),
		"steps": steps, "baseline_steps": bsteps, "baseline_ops_per_sec": 0, "ratio": 0}
	if bbest >= 0 { // else both are 0, there all the same
		r.BaselineOpsPerSec = float64(bsteps[bbest].Rate)
		r.Ratio = round(float64(sustained) / r.BaselineOpsPerSec)
		delete(r.Extra, "baseline_ops_per_sec")
		if r.Ratio != 0 { // else the field is left out: Extra says 0
			delete(r.Extra, "ratio")
		}
	}
	return r, nil
}

// lockedWriter serialises writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
