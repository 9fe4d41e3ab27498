// Package bench holds the benchmarks of the contract (servicehall bench …):
// appends, the booking rush, the counters' calls, rebuilding the views, the
// real binary killed under load, and the back-test of the wait estimates.
// Each prints one Result.
package bench

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"time"

	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/projections"
)

// Config is what the benchmarks need of the program that runs them.
type Config struct {
	Data    string         // a folder for the stores a benchmark makes
	Loc     *time.Location // the stations' time zone
	Horizon int            // days of slots released ahead
	// Exe is the program itself, which the crash benchmark runs and kills,
	// and the rush runs as its load generator and its baseline server
	// (servicehall bench rush-load, bench rush-baseline).
	Exe string
	// Serve runs the product in-process on the embedded stores in data,
	// with the login codes in responses and no abuse limits, until ctx
	// ends. It prints "servicehall listening on ADDR" to out once it answers.
	Serve func(ctx context.Context, data, adminPassword string, out io.Writer) error
	// Open opens the log and the live views kept in data (embedded stores).
	Open func(ctx context.Context, data string) (eventstore.Store, *projections.Engine, func(), error)
	// Demo seeds the demo into a log in memory, as of DemoAsOf, with its
	// counter day on that many working days.
	Demo     func(ctx context.Context, days int) (eventstore.Store, error)
	DemoAsOf string
}

// Result is the contract's benchmark output, plus what a scenario adds.
type Result struct {
	Scenario          string         `json:"scenario"`
	Ops               int            `json:"ops"`
	Seconds           float64        `json:"seconds"`
	OpsPerSec         float64        `json:"ops_per_sec"`
	P50ms             float64        `json:"p50_ms"`
	P99ms             float64        `json:"p99_ms"`
	Errors            int            `json:"errors"`
	BaselineOpsPerSec float64        `json:"baseline_ops_per_sec,omitempty"`
	Ratio             float64        `json:"ratio,omitempty"`
	Extra             map[string]any `json:"-"`
}

func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	b, err := json.Marshal(plain(r))
	if err != nil || len(r.Extra) == 0 {
		return b, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range r.Extra {
		m[k] = v
	}
	return json.Marshal(m)
}

// latencies records how long each operation took, safe for one goroutine
// each; merge them at the end.
type latencies []time.Duration

func summarize(name string, all []latencies, errs int, elapsed time.Duration) Result {
	var lat []time.Duration
	for _, l := range all {
		lat = append(lat, l...)
	}
	slices.Sort(lat)
	r := Result{Scenario: name, Ops: len(lat), Seconds: round(elapsed.Seconds()), Errors: errs}
	if elapsed > 0 {
		r.OpsPerSec = round(float64(len(lat)) / elapsed.Seconds())
	}
	r.P50ms = round(ms(percentile(lat, 0.50)))
	r.P99ms = round(ms(percentile(lat, 0.99)))
	return r
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func round(f float64) float64 {
	return float64(int64(f*1000+0.5)) / 1000
}
