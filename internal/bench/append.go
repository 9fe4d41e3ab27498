package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/eventstore/sqlitestore"
)

// benchAppend measures durable single-event appends by concurrent writers,
// each to its own stream, against the embedded store's ceiling: the same rows
// inserted by one writer into a bare table in transactions of 1 000, with the
// same pragmas (WAL, fsync on commit). Both files live in the data folder so
// that both pay the same disk.
func Append(ctx context.Context, c Config, writers, ops int, stderr io.Writer) (Result, error) {
	if writers < 1 || ops < writers {
		return Result{}, fmt.Errorf("bench append: want writers >= 1 and ops >= writers, got %d and %d", writers, ops)
	}
	if err := os.MkdirAll(c.Data, 0o750); err != nil {
		return Result{}, err
	}
	dir, err := os.MkdirTemp(c.Data, "bench-append-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)

	events := make([]eventstore.Event, ops)
	now := time.Now().UTC()
	for i := range events {
		events[i] = eventstore.Event{
			ID:            uuid.Must(uuid.NewV7()),
			Type:          "SlotBooked",
			Data:          fmt.Appendf(nil, `{"appointment_id":"%s","station_id":"demo","service_id":"hukou-birth","date":"2025-10-11","start":"09:30","resident_ref":"r-%08d"}`, uuid.NewString(), i),
			OccurredAt:    now,
			Actor:         eventstore.Actor{ID: "resident:r", Role: "resident"},
			CorrelationID: uuid.NewString(),
			Schema:        1,
		}
	}

	fmt.Fprintf(stderr, "bench append: baseline, one writer, transactions of 1000, %d rows\n", ops)
	baseline, err := bareInserts(ctx, filepath.Join(dir, "bare.db"), events)
	if err != nil {
		return Result{}, fmt.Errorf("bench append baseline: %w", err)
	}

	fmt.Fprintf(stderr, "bench append: %d writers, %d durable appends\n", writers, ops)
	store, err := sqlitestore.Open(filepath.Join(dir, "events.db"))
	if err != nil {
		return Result{}, err
	}
	defer store.Close()
	var next atomic.Int64
	var errs atomic.Int64
	lat := make([]latencies, writers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("bench-%d", w)
			var version uint64
			for {
				i := next.Add(1) - 1
				if i >= int64(ops) {
					return
				}
				t := time.Now()
				res, err := store.Append(ctx, stream, eventstore.Exactly(version), events[i])
				if err != nil {
					errs.Add(1)
					continue
				}
				lat[w] = append(lat[w], time.Since(t))
				version = res.Version
			}
		}()
	}
	wg.Wait()
	r := summarize("append", lat, int(errs.Load()), time.Since(start))
	r.BaselineOpsPerSec = round(baseline)
	r.Ratio = round(r.OpsPerSec / baseline)
	r.Extra = map[string]any{"writers": writers, "store": "sqlite", "durability": "WAL, synchronous=FULL"}
	return r, nil
}

func bareInserts(ctx context.Context, path string, events []eventstore.Event) (float64, error) {
	db, err := sql.Open("sqlite", sqlitestore.DSN(path))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE events (position INTEGER PRIMARY KEY, id BLOB, stream TEXT, version INTEGER, type TEXT,
		occurred_at INTEGER, actor_id TEXT, actor_role TEXT, correlation_id TEXT, causation_id TEXT, schema INTEGER, data TEXT)`); err != nil {
		return 0, err
	}
	start := time.Now()
	for lo := 0; lo < len(events); lo += 1000 {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		stmt, err := tx.Prepare(`INSERT INTO events VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return 0, err
		}
		for i := lo; i < min(lo+1000, len(events)); i++ {
			e := events[i]
			if _, err := stmt.Exec(e.ID[:], fmt.Sprintf("bench-%d", i%256), i/256+1, e.Type, e.OccurredAt.UnixNano(),
				e.Actor.ID, e.Actor.Role, e.CorrelationID, e.CausationID, e.Schema, string(e.Data)); err != nil {
				return 0, err
			}
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			return 0, err
		}
	}
	return float64(len(events)) / time.Since(start).Seconds(), nil
}
