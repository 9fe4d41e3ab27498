package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/estimate"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/internal/warsaw"
)

// WarsawSeed is the seed the Warsaw days are rebuilt with.
const WarsawSeed = 1

// Estimates back-tests the wait estimators on two data sets: the demo's
// history (its counter day on each of demoDays working days) and the
// Warsaw offices' recorded days rebuilt ticket by ticket. Each estimator's
// figures per data set and pooled, and the winner: the lowest mean
// absolute error averaged over the two sets, so that each counts the same
// (pooled, the Warsaw days' many more tickets would decide alone). Ops are
// day replays; p50_ms and p99_ms their times.
func Estimates(ctx context.Context, c Config, demoDays int, stderr io.Writer) (Result, error) {
	if c.Demo == nil {
		return Result{}, fmt.Errorf("bench estimates: no demo to seed")
	}
	if demoDays < 1 {
		return Result{}, fmt.Errorf("bench estimates: want --days of 1 or more, got %d", demoDays)
	}
	fmt.Fprintf(stderr, "bench estimates: seeding the demo's history, %d working days\n", demoDays)
	log, err := c.Demo(ctx, demoDays)
	if err != nil {
		return Result{}, fmt.Errorf("bench estimates: %w", err)
	}
	demo, err := queueDays(ctx, log)
	log.Close()
	if err != nil {
		return Result{}, fmt.Errorf("bench estimates: %w", err)
	}
	fmt.Fprintln(stderr, "bench estimates: rebuilding the Warsaw days")
	wdays, err := warsaw.Days(WarsawSeed)
	if err != nil {
		return Result{}, fmt.Errorf("bench estimates: %w", err)
	}
	rebuilt := make([][]estimate.Stamped, len(wdays))
	for i, d := range wdays {
		rebuilt[i] = d.Events
	}
	sets := []struct {
		name string
		days [][]estimate.Stamped
	}{{"demo", demo}, {"warsaw", rebuilt}}

	began := time.Now()
	var lat latencies
	out := map[string]any{}
	mean := map[string]float64{}          // estimator → its MAE averaged over the sets
	all := map[string][]estimate.Result{} // estimator → its replays of both sets
	for _, set := range sets {
		figures, maes := map[string]estimate.Summary{}, map[string]float64{}
		for _, e := range estimate.All() {
			var rs []estimate.Result
			for _, d := range set.days {
				t := time.Now()
				rs = append(rs, estimate.Replay(d, e.Estimator))
				lat = append(lat, time.Since(t))
			}
			all[e.Name] = append(all[e.Name], rs...)
			s := estimate.Summarize(rs...)
			if s.N == 0 {
				return Result{}, fmt.Errorf("bench estimates: no ticket called in the %s data", set.name)
			}
			figures[e.Name], maes[e.Name] = s, s.MAE
			mean[e.Name] += s.MAE / float64(len(sets))
		}
		out[set.name] = map[string]any{"days": len(set.days), "estimators": figures, "best": estimate.Best(maes)}
	}
	r := summarize("estimates", []latencies{lat}, 0, time.Since(began))
	pooled := map[string]estimate.Summary{} // every ticket of both sets counted once
	for name, rs := range all {
		pooled[name] = estimate.Summarize(rs...)
	}
	winner := estimate.Best(mean)
	var rest []string
	for _, e := range estimate.All() {
		if e.Name != winner {
			rest = append(rest, e.Name)
		}
	}
	slices.SortStableFunc(rest, func(a, b string) int { return cmp.Compare(mean[a], mean[b]) })
	r.Extra = map[string]any{
		"data_sets":        out,
		"mean_mae_minutes": roundAll(mean),
		"pooled":           pooled,
		"winner":           winner,
		"runner_up":        rest[0],
		"margin_minutes":   round(mean[rest[0]] - mean[winner]),
		"in_use":           estimate.InUse().Name,
		"demo_as_of":       c.DemoAsOf,
		"warsaw_seed":      WarsawSeed,
	}
	return r, nil
}

func roundAll(m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[k] = round(v)
	}
	return out
}

// queueDays reads every queue day of a log, each day's events with the
// time they happened.
func queueDays(ctx context.Context, log eventstore.Store) ([][]estimate.Stamped, error) {
	days := map[string][]estimate.Stamped{}
	var order []string
	for after := uint64(0); ; {
		recs, err := log.ReadAll(ctx, after, 1000)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			after = r.Position
			if _, _, ok := domain.ParseQueueStream(r.Stream); !ok {
				continue
			}
			e, err := domain.DecodeSchema(r.Type, r.Schema, r.Data)
			if err != nil {
				return nil, fmt.Errorf("%s at version %d: %w", r.Stream, r.Version, err)
			}
			if _, seen := days[r.Stream]; !seen {
				order = append(order, r.Stream)
			}
			days[r.Stream] = append(days[r.Stream], estimate.Stamped{At: r.OccurredAt, Event: e})
		}
	}
	slices.Sort(order)
	out := make([][]estimate.Stamped, len(order))
	for i, s := range order {
		out[i] = days[s]
	}
	return out, nil
}
