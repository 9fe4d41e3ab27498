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
	"strings"
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
	if mb, ok := peakMB(); ok {
		r.Extra["rss_mb"] = mb
	}
	return r, nil
}

// peakMB is this program's peak resident memory since it started. Not
// getrusage: for a child it counts the parent's memory too, which the child
// shared until it ran this program (vfork).
func peakMB() (float64, bool) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%f kB", &kb); err == nil {
				return round(kb / 1024), true
			}
		}
	}
	return 0, false
}
