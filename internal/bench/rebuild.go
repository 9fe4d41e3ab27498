package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore/sqlitestore"
	"github.com/servicehall/servicehall/internal/sample"
	"github.com/servicehall/servicehall/projections"
	"github.com/servicehall/servicehall/projections/sqlviews"
)

// Rebuild measures rebuilding every projection from a generated log of
// about n events, against reading the same events without applying them.
// Both run in a child process (RebuildLog), so that its peak memory is the
// rebuild's, not the generator's.
func Rebuild(ctx context.Context, c Config, n int, stderr io.Writer) (Result, error) {
	if n < 1000 {
		return Result{}, fmt.Errorf("bench rebuild: want --events of 1000 or more, got %d", n)
	}
	if err := os.MkdirAll(c.Data, 0o750); err != nil {
		return Result{}, err
	}
	dir, err := os.MkdirTemp(c.Data, "bench-rebuild-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(stderr, "bench rebuild: generating a log of %d events\n", n)
	l, err := sample.Generate(n, calendar.Date{Year: 2025, Month: 1, Day: 6}, 1, c.Loc)
	if err != nil {
		return Result{}, err
	}
	log, err := sqlitestore.Open(filepath.Join(dir, "events.db"))
	if err != nil {
		return Result{}, err
	}
	_, err = l.Append(ctx, log)
	log.Close()
	if err != nil {
		return Result{}, err
	}
	l = nil
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, c.Exe, "bench", "rebuild-log", "--data", dir, "--json")
	cmd.Stdout, cmd.Stderr = &out, stderr
	if err := cmd.Run(); err != nil {
		return Result{}, fmt.Errorf("bench rebuild: %w", err)
	}
	var r Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return Result{}, fmt.Errorf("bench rebuild: %w in %q", err, out.String())
	}
	if err := json.Unmarshal(out.Bytes(), &r.Extra); err != nil {
		return Result{}, err
	}
	return r, nil
}

// RebuildLog reads the log kept in dir bare, then rebuilds every projection
// from it into fresh views there.
func RebuildLog(ctx context.Context, dir string, stderr io.Writer) (Result, error) {
	log, err := sqlitestore.Open(filepath.Join(dir, "events.db"))
	if err != nil {
		return Result{}, err
	}
	defer log.Close()
	fmt.Fprintln(stderr, "bench rebuild: baseline, reading the log")
	start := time.Now()
	read := 0
	for from := uint64(0); ; {
		recs, err := log.ReadAll(ctx, from, 10000)
		if err != nil {
			return Result{}, err
		}
		if len(recs) == 0 {
			break
		}
		read += len(recs)
		from = recs[len(recs)-1].Position
	}
	baseline := float64(read) / time.Since(start).Seconds()

	fmt.Fprintln(stderr, "bench rebuild: rebuilding every projection")
	os.Remove(filepath.Join(dir, "views.db"))
	views, err := sqlviews.OpenSQLite(filepath.Join(dir, "views.db"))
	if err != nil {
		return Result{}, err
	}
	defer views.Close()
	e, err := projections.NewEngine(ctx, log, views, projections.All()...)
	if err != nil {
		return Result{}, err
	}
	var lat latencies
	last := time.Now()
	start = last
	if err := e.Rebuild(ctx, e.Names(), func(uint64, uint64) {
		now := time.Now()
		lat = append(lat, now.Sub(last))
		last = now
	}); err != nil {
		return Result{}, err
	}
	r := summarize("rebuild", []latencies{lat}, 0, time.Since(start))
	r.Ops = read
	r.OpsPerSec = round(float64(read) / r.Seconds)
	r.BaselineOpsPerSec = round(baseline)
	r.Ratio = round(r.OpsPerSec / baseline)
	r.Extra = map[string]any{"events": read, "projections": len(e.Names()), "batch": 10000, "latency_of": "one batch of 10000 events"}
	// The process's own peak: the parent's count of its child would include
	// the parent's memory, shared with the child until it ran this program.
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err == nil {
		r.Extra["rss_mb"] = round(float64(u.Maxrss) / 1024) // kilobytes on Linux
	}
	return r, nil
}
