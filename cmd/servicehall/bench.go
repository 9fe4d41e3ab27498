package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"time"
)

// result is the contract's benchmark output, plus what a scenario adds.
type result struct {
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

func (r result) MarshalJSON() ([]byte, error) {
	type plain result
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

func summarize(name string, all []latencies, errs int, elapsed time.Duration) result {
	var lat []time.Duration
	for _, l := range all {
		lat = append(lat, l...)
	}
	slices.Sort(lat)
	r := result{Scenario: name, Ops: len(lat), Seconds: round(elapsed.Seconds()), Errors: errs}
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

func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var asJSON bool
	var cpuprofile string
	var writers, ops, events, residents, slots, tickets, counters, kills int
	c, pos, err := parse("bench", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print one JSON object")
		fs.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
		fs.IntVar(&writers, "writers", 256, "append: concurrent writers")
		fs.IntVar(&ops, "ops", 100_000, "append: events to append in all")
		fs.IntVar(&events, "events", 1_000_000, "rebuild: events in the generated log")
		fs.IntVar(&residents, "residents", 2000, "rush: residents booking at once, each with their own login")
		fs.IntVar(&slots, "slots", 500, "rush: places to book, in slots of 10")
		fs.IntVar(&tickets, "tickets", 2000, "callnext: tickets waiting")
		fs.IntVar(&counters, "counters", 8, "callnext: counters serving them")
		fs.IntVar(&kills, "kills", 20, "crash: times the server is killed with SIGKILL")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("bench: name one scenario: append, rush, rebuild, callnext or crash")
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	var r result
	switch pos[0] {
	case "append":
		r, err = benchAppend(ctx, c, writers, ops, stderr)
	case "rebuild":
		r, err = benchRebuild(ctx, c, events, stderr)
	case "rush":
		r, err = benchRush(ctx, c, residents, slots, stderr)
	case "callnext":
		r, err = benchCallnext(ctx, c, tickets, counters, stderr)
	case "crash":
		r, err = benchCrash(ctx, c, kills, min(residents, 300), stderr)
	default:
		return fmt.Errorf("bench: unknown scenario %q: want append, rush, rebuild, callnext or crash", pos[0])
	}
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	fmt.Fprintf(stdout, "%s\n", b)
	return nil
}
