package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/projections"
	"github.com/servicehall/servicehall/projections/sqlviews"
)

// openViews opens the read models SERVICEHALL_READMODELS names.
func openViews(ctx context.Context, c *config) (projections.Store, error) {
	switch v := c.ReadModels; {
	case v == "" || strings.EqualFold(v, "sqlite"):
		return sqlviews.OpenSQLite(filepath.Join(c.Data, "views.db"))
	case strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://"):
		return sqlviews.OpenPostgres(ctx, v)
	case strings.EqualFold(v, "memory"): // tests; nothing survives the process
		return projections.NewMemory(), nil
	}
	return nil, fmt.Errorf("SERVICEHALL_READMODELS %q: want sqlite, memory or postgres://… (读模型配置不正确)", c.ReadModels)
}

// openEngine opens the log and the read models the configuration names,
// with every projection over them.
func openEngine(ctx context.Context, c *config) (eventstore.Store, *projections.Engine, func(), error) {
	log, err := openStore(ctx, c)
	if err != nil {
		return nil, nil, nil, err
	}
	views, err := openViews(ctx, c)
	if err != nil {
		log.Close()
		return nil, nil, nil, err
	}
	closeAll := func() { views.Close(); log.Close() }
	e, err := projections.NewEngine(ctx, log, views, projections.All()...)
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	return log, e, closeAll, nil
}

// rebuild builds fresh copies of read models from the log and swaps them
// in. Run it while no server uses the same read models; a running server
// rebuilds through POST /api/v1/admin/projections/{name}/rebuild.
func rebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var only string
	c, pos, err := parse("rebuild", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&only, "projection", "", "the projection to rebuild (all by default)")
	})
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("rebuild: unexpected %q", pos)
	}
	lean()
	log, e, closeAll, err := openEngine(ctx, c)
	if err != nil {
		return err
	}
	defer closeAll()
	names := e.Names()
	if only != "" {
		if !slices.Contains(names, only) {
			return fmt.Errorf("rebuild: no projection %q; there are %s", only, strings.Join(names, ", "))
		}
		names = []string{only}
	}
	head, err := log.Head(ctx)
	if err != nil {
		return err
	}
	if head == 0 {
		return errors.New("rebuild: the log is empty (事件日志为空)")
	}
	bar := progressbar.NewOptions64(int64(head), progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("rebuild "+strings.Join(names, ", ")),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionFullWidth())
	start := time.Now()
	var events uint64
	err = e.Rebuild(ctx, names, func(pos, head uint64) {
		events = pos
		bar.ChangeMax64(int64(head))
		bar.Set64(int64(pos))
	})
	bar.Finish()
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stdout, "rebuilt %s up to position %d in %.1fs: %.0f events/s (重建完成)\n", strings.Join(names, ", "), events, secs, float64(events)/secs)
	return nil
}

// lean makes a process that only rebuilds collect garbage at half the
// usual growth (GOGC=50) unless GOGC says otherwise: the views it gathers
// in memory then keep its peak near 310-320 MB for a million events
// (500-600 MB at GOGC=100), at no speed the runs could tell apart.
func lean() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
}
