// Command servicehall runs the service hall: serve, demo, rebuild,
// import-calendar, bench and rotate-token-key. Run it without arguments for help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `servicehall: appointments and counters for a public-security service hall
(派出所户籍与证照窗口预约排队系统)

usage: servicehall COMMAND [flags]

commands:
  serve                    run the API, pages, projections and jobs
  demo                     serve with a seeded demo station
  rebuild [--projection N] rebuild read models from the log
  import-calendar FILE     import an official holiday calendar (holiday-cn JSON)
  bench SCENARIO --json    run a benchmark: append, rush, rebuild, callnext
  rotate-token-key         put a new key first in the data folder's token.key

Every command reads SERVICEHALL_* variables; a flag of the same name
(--addr, --data, --eventstore, ...) overrides. "servicehall COMMAND -h" lists them.
`

var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "servicehall:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "import-calendar":
		return importCalendar(ctx, args, stdout, stderr)
	case "bench":
		return runBench(ctx, args, stdout, stderr)
	case "rebuild":
		return rebuild(ctx, args, stdout, stderr)
	case "serve":
		return serve(ctx, args, stdout, stderr)
	case "demo":
		return demo(ctx, args, stdout, stderr)
	case "rotate-token-key":
		return rotateTokenKey(args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
	return errUsage
}
