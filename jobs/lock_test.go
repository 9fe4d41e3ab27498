package jobs_test

import (
	"database/sql"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/servicehall/servicehall/internal/testenv"
	"github.com/servicehall/servicehall/jobs"
)

func TestPostgresLockIsHeldByOneProcess(t *testing.T) {
	url := testenv.Postgres(t)
	open := func() jobs.PostgresLock {
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return jobs.PostgresLock{DB: db}
	}
	a, b := open(), open() // two pools: two processes' sessions
	unlock, ok, err := a.TryLock(ctx, "close-day")
	if err != nil || !ok {
		t.Fatalf("first lock: %v %v", ok, err)
	}
	if _, ok, err := b.TryLock(ctx, "close-day"); err != nil || ok {
		t.Fatalf("second process took a held lock: %v %v", ok, err)
	}
	if un, ok, err := b.TryLock(ctx, "send-reminders"); err != nil || !ok {
		t.Fatalf("another job's lock: %v %v", ok, err)
	} else {
		un()
	}
	unlock()
	un, ok, err := b.TryLock(ctx, "close-day")
	if err != nil || !ok {
		t.Fatalf("lock after release: %v %v", ok, err)
	}
	un()
}
