package answers_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/servicehall/servicehall/answers"
	"github.com/servicehall/servicehall/internal/testenv"
)

var ctx = context.Background()

// Every store passes the same tests; the SQL ones also outlive a reopen.
func TestStores(t *testing.T) {
	dir := t.TempDir()
	open := map[string]func(t *testing.T) answers.Store{
		"memory": func(t *testing.T) answers.Store { return answers.NewMemory() },
		"sqlite": func(t *testing.T) answers.Store {
			s, err := answers.OpenSQLite(filepath.Join(dir, "answers.db"))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"postgres": func(t *testing.T) answers.Store {
			s, err := answers.OpenPostgres(ctx, testenv.Postgres(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	for _, name := range []string{"memory", "sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			s := open[name](t)
			defer func() { s.Close() }()
			now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
			key := uuid.NewString()
			if _, claimed, err := s.Claim(ctx, key, "fp-1", now); err != nil || !claimed {
				t.Fatalf("first claim: %v %v", claimed, err)
			}
			// A second request while the first is under way sees it so.
			a, claimed, err := s.Claim(ctx, key, "fp-1", now.Add(time.Second))
			if err != nil || claimed || a.Done() || a.Fingerprint != "fp-1" {
				t.Fatalf("claim under way: %+v %v %v", a, claimed, err)
			}
			if _, err := answers.Wait(ctx, s, key, 50*time.Millisecond); err != answers.ErrInFlight {
				t.Fatalf("wait on a request under way: %v", err)
			}
			h := http.Header{"Content-Type": {"application/json"}, "X-Position": {"7"}}
			if err := s.Finish(ctx, key, 201, h, []byte(`{"id":"a-1"}`)); err != nil {
				t.Fatal(err)
			}
			if name != "memory" { // what was answered outlives a restart
				s.Close()
				s = open[name](t)
			}
			for _, fp := range []string{"fp-1", "fp-2"} {
				a, claimed, err := s.Claim(ctx, key, fp, now.Add(time.Hour))
				if err != nil || claimed || a.Status != 201 || string(a.Body) != `{"id":"a-1"}` || a.Header.Get("X-Position") != "7" || a.Fingerprint != "fp-1" {
					t.Fatalf("claim with %s after the answer: %+v %v %v", fp, a, claimed, err)
				}
			}
			if a, err := answers.Wait(ctx, s, key, time.Second); err != nil || a.Status != 201 {
				t.Fatalf("wait: %+v %v", a, err)
			}
			// After a day the key is free again.
			if _, claimed, err := s.Claim(ctx, key, "fp-2", now.Add(answers.TTL+time.Minute)); err != nil || !claimed {
				t.Fatalf("claim after the TTL: %v %v", claimed, err)
			}
			// A claim whose process died is taken over by the same request
			// only, and only once it is abandoned.
			dead := uuid.NewString()
			s.Claim(ctx, dead, "fp-1", now)
			for _, c := range []struct {
				fp    string
				after time.Duration
				want  bool
			}{{"fp-1", time.Second, false}, {"fp-2", time.Minute, false}, {"fp-1", time.Minute, true}} {
				if _, claimed, err := s.Claim(ctx, dead, c.fp, now.Add(c.after)); err != nil || claimed != c.want {
					t.Fatalf("claim by %s after %v: %v %v, want %v", c.fp, c.after, claimed, err, c.want)
				}
			}
			// A forgotten claim can be made again.
			if err := s.Forget(ctx, dead); err != nil {
				t.Fatal(err)
			}
			if _, claimed, err := s.Claim(ctx, dead, "fp-2", now.Add(time.Minute)); err != nil || !claimed {
				t.Fatalf("claim after forget: %v %v", claimed, err)
			}
		})
	}
}

// A SQLite file belongs to one process: a claim its last run left
// unanswered (killed in the middle of a request) does not hold up the
// retry after the restart.
func TestSQLiteForgetsTheLastRunsClaims(t *testing.T) {
	path := filepath.Join(t.TempDir(), "answers.db")
	s, err := answers.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s.Claim(ctx, "cut-off", "fp", now)
	s.Claim(ctx, "answered", "fp", now)
	s.Finish(ctx, "answered", 201, nil, []byte(`{}`))
	s.Close()
	if s, err = answers.OpenSQLite(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, claimed, err := s.Claim(ctx, "cut-off", "fp", now.Add(time.Second)); err != nil || !claimed {
		t.Fatalf("the retry of a request cut off by a restart: claimed %v, %v", claimed, err)
	}
	if a, claimed, err := s.Claim(ctx, "answered", "fp", now.Add(time.Second)); err != nil || claimed || a.Status != 201 {
		t.Fatalf("an answered request after a restart: %+v %v %v", a, claimed, err)
	}
}
