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

	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/internal/bench"
	"github.com/servicehall/servicehall/projections"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
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
	}
	var r bench.Result
	switch pos[0] {
	case "append":
		r, err = bench.Append(ctx, bc, writers, ops, stderr)
	case "rebuild":
		r, err = bench.Rebuild(ctx, bc, events, stderr)
	case "rush":
		r, err = bench.Rush(ctx, bc, residents, slots, stderr)
	case "callnext":
		r, err = bench.Callnext(ctx, bc, tickets, counters, stderr)
	case "crash":
		r, err = bench.Crash(ctx, bc, kills, min(residents, 300), stderr)
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
