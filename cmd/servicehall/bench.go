package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/internal/bench"
	"github.com/servicehall/servicehall/projections"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// The rush's own processes, run by the rush itself: the load generator
	// and the baseline server.
	if len(args) > 0 {
		switch args[0] {
		case "rush-load":
			return bench.LoadMain(ctx, args[1:], os.Stdin, stdout)
		case "rush-baseline":
			return bench.BaselineMain(ctx, os.Stdin, stdout)
		}
	}
	var asJSON bool
	var rates string
	var step time.Duration
	var cpuprofile string
	var writers, ops, events, residents, slots, tickets, counters, kills, days int
	c, pos, err := parse("bench", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print one JSON object")
		fs.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
		fs.IntVar(&writers, "writers", 256, "append: concurrent writers")
		fs.IntVar(&ops, "ops", 100_000, "append: events to append in all")
		fs.IntVar(&events, "events", 1_000_000, "rebuild: events in the generated log")
		fs.IntVar(&residents, "residents", 0, "rush: residents logged in beforehand, each booking at most 3 places (0: enough for every place); crash: residents booking, at most 300")
		fs.IntVar(&slots, "slots", 24000, "rush: places released, in slots of 10 filled one after another (larger slots when the release horizon holds too few); the rates stop when they are gone")
		fs.StringVar(&rates, "rates", joinInts(bench.DefaultRates), "rush: arrival rates tried in turn, bookings a second (open loop), until two in a row fail p99 < 50 ms without errors")
		fs.DurationVar(&step, "step", 3*time.Second, "rush: how long each arrival rate lasts")
		fs.IntVar(&tickets, "tickets", 2000, "callnext: tickets waiting")
		fs.IntVar(&counters, "counters", 8, "callnext: counters serving them")
		fs.IntVar(&kills, "kills", 20, "crash: times the server is killed with SIGKILL")
		fs.IntVar(&days, "days", 20, "estimates: working days of the demo's counter traffic")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("bench: name one scenario: append, rush, rebuild, callnext, crash or estimates")
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
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	bc := bench.Config{Data: c.Data, Loc: c.loc, Horizon: c.ReleaseHorizon, Exe: exe,
		Serve: func(ctx context.Context, data, password string, out io.Writer) error {
			cc := *c
			cc.Data, cc.Addr, cc.DemoOTP, cc.AdminPassword = data, "127.0.0.1:0", true, password
			cc.EventStore, cc.ReadModels, cc.Bus, cc.RateLimits = "sqlite", "sqlite", "gochannel", false
			return runServer(ctx, &cc, out, io.Discard, nil)
		},
		Open: func(ctx context.Context, data string) (eventstore.Store, *projections.Engine, func(), error) {
			cc := *c
			cc.Data, cc.EventStore, cc.ReadModels = data, "sqlite", "sqlite"
			return openEngine(ctx, &cc)
		},
		Demo: func(ctx context.Context, days int) (eventstore.Store, error) {
			return demoHistory(ctx, c.loc, days)
		},
		DemoAsOf: historyAsOf.String(),
	}
	var r bench.Result
	switch pos[0] {
	case "append":
		r, err = bench.Append(ctx, bc, writers, ops, stderr)
	case "rebuild":
		r, err = bench.Rebuild(ctx, bc, events, stderr)
	case "rebuild-log": // the measured half of rebuild, in its own process
		lean()
		r, err = bench.RebuildLog(ctx, c.Data, stderr)
	case "rush":
		var o bench.RushOptions
		if o.Rates, err = splitInts(rates); err != nil {
			return fmt.Errorf("bench: --rates: %w", err)
		}
		o.Residents, o.Places, o.Step = residents, slots, step
		r, err = bench.Rush(ctx, bc, o, stderr)
	case "callnext":
		r, err = bench.Callnext(ctx, bc, tickets, counters, stderr)
	case "crash":
		r, err = bench.Crash(ctx, bc, kills, min(cmp.Or(residents, 300), 300), stderr)
	case "estimates":
		r, err = bench.Estimates(ctx, bc, days, stderr)
	default:
		return fmt.Errorf("bench: unknown scenario %q: want append, rush, rebuild, callnext, crash or estimates", pos[0])
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

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// splitInts reads a comma-separated list of positive numbers.
func splitInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}
