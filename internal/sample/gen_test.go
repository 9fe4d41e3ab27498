package sample_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore/sqlitestore"
	"github.com/servicehall/servicehall/internal/sample"
)

func TestLogMixesEveryEventType(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	l, err := sample.Generate(30000, calendar.Date{Year: 2025, Month: 9, Day: 22}, 1, loc)
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	n, err := l.Append(context.Background(), store)
	if err != nil || n < 30000 {
		t.Fatalf("appended %d, %v", n, err)
	}
	seen := map[string]int{}
	for from := uint64(0); ; {
		recs, err := store.ReadAll(context.Background(), from, 5000)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			seen[r.Type]++
		}
		from = recs[len(recs)-1].Position
	}
	var missing []string
	for _, typ := range domain.EventTypes() {
		if seen[typ] == 0 {
			missing = append(missing, typ)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Fatalf("no %v in a generated log of %d events", missing, n)
	}
	// The sample is a log the product could have written: no place is held
	// by an appointment that does not own it.
	if orphans, err := command.Orphans(context.Background(), store); err != nil || len(orphans) > 0 {
		t.Fatalf("%d places or holds owned by no live appointment (the first: %+v), %v", len(orphans), orphans[:min(1, len(orphans))], err)
	}
}
