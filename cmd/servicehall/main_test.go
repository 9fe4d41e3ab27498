package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/servicehall/servicehall/eventstore/sqlitestore"
)

func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestImportCalendar(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	// A notice that forgets a festival would make it a working day.
	partial := filepath.Join(t.TempDir(), "2025.json")
	doc := `{"year":2025,"papers":[],"days":[{"name":"春节","date":"2025-01-26","isOffDay":false},{"name":"春节","date":"2025-01-28","isOffDay":true}]}`
	if err := os.WriteFile(partial, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd(t, "import-calendar", partial, "--data", data); err == nil || !strings.Contains(err.Error(), "缺少法定节假日 2025-01-01") {
		t.Fatalf("a notice without New Year's Day: %v", err)
	}
	file := filepath.Join("..", "..", "domain", "calendar", "official", "2025.json") // the State Council's
	out, _, err := runCmd(t, "import-calendar", file, "--data", data)
	if err != nil || !strings.Contains(out, "imported: 28 holidays, 5 make-up") {
		t.Fatalf("first import: %q, %v", out, err)
	}
	out, _, err = runCmd(t, "import-calendar", "--data", data, file)
	if err != nil || !strings.Contains(out, "unchanged") {
		t.Fatalf("second import: %q, %v", out, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"year":2025,"days":[{"name":"x","date":"2025-02-03","isOffDay":false}]}`), 0o600)
	if _, _, err := runCmd(t, "import-calendar", bad, "--data", data); err == nil || !strings.Contains(err.Error(), "not a weekend") {
		t.Fatalf("bad notice: %v", err)
	}
	store, err := sqlitestore.Open(filepath.Join(data, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	recs, err := store.ReadStream(context.Background(), "calendar-2025", 0)
	if err != nil || len(recs) != 1 || recs[0].Type != "CalendarImported" || recs[0].Actor.Role != "admin" {
		t.Fatalf("calendar-2025 holds %+v, %v; want one CalendarImported by admin", recs, err)
	}
}

func TestBenchAppendJSON(t *testing.T) {
	t.Parallel()
	out, _, err := runCmd(t, "bench", "append", "--json", "--ops", "2000", "--writers", "16", "--data", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output is not one JSON object: %q", out)
	}
	for _, k := range []string{"scenario", "ops", "seconds", "ops_per_sec", "p50_ms", "p99_ms", "errors", "baseline_ops_per_sec"} {
		if _, ok := r[k]; !ok {
			t.Errorf("missing %s in %s", k, out)
		}
	}
	if r["scenario"] != "append" || r["ops"].(float64) != 2000 || r["errors"].(float64) != 0 || r["ops_per_sec"].(float64) <= 0 {
		t.Errorf("result %s", out)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{}, {"nope"}, {"bench"}, {"bench", "warp", "--json"}, {"import-calendar"}} {
		if _, _, err := runCmd(t, args...); err == nil {
			t.Errorf("servicehall %v succeeded", args)
		}
	}
	if _, _, err := runCmd(t, "bench", "append", "--tz", "Mars/Base"); err == nil {
		t.Error("an unknown time zone was accepted")
	}
	for _, flag := range []string{"--warn-days=-1", "--escalate-after-days=0", "--release-horizon-days=0"} {
		if _, _, err := runCmd(t, "serve", flag, "--data", t.TempDir()); err == nil || !strings.Contains(err.Error(), "want") {
			t.Errorf("serve %s: %v", flag, err)
		}
	}
}

func TestRebuild(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	if _, _, err := runCmd(t, "rebuild", "--data", data); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("rebuild of an empty log: %v", err)
	}
	file := filepath.Join("..", "..", "domain", "calendar", "official", "2025.json")
	if _, _, err := runCmd(t, "import-calendar", file, "--data", data); err != nil {
		t.Fatal(err)
	}
	out, progress, err := runCmd(t, "rebuild", "--data", data)
	if err != nil || !strings.Contains(out, "rebuilt availability, applications, completion, queue, audit, residents, config, ratings up to position 1") {
		t.Fatalf("rebuild: %q, %v", out, err)
	}
	if !strings.Contains(progress, "100%") {
		t.Errorf("no progress bar on stderr: %q", progress)
	}
	out, _, err = runCmd(t, "rebuild", "--projection", "audit", "--data", data)
	if err != nil || !strings.Contains(out, "rebuilt audit ") {
		t.Fatalf("rebuild one: %q, %v", out, err)
	}
	if _, _, err := runCmd(t, "rebuild", "--projection", "nope", "--data", data); err == nil || !strings.Contains(err.Error(), "there are availability") {
		t.Fatalf("unknown projection: %v", err)
	}
}

func TestBenchRebuildJSON(t *testing.T) {
	t.Parallel()
	out, _, err := runCmd(t, "bench", "rebuild", "--events", "3000", "--json", "--data", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not one JSON object: %q", out)
	}
	rss, _ := r["rss_mb"].(float64)
	if runtime.GOOS != "linux" {
		rss = 1 // read from /proc
	}
	if r["scenario"] != "rebuild" || r["ops"].(float64) < 3000 || r["baseline_ops_per_sec"].(float64) <= 0 || r["ops_per_sec"].(float64) <= 0 || rss <= 0 {
		t.Errorf("result %s", out)
	}
}

// A small rush: two short steps, open loop; every booking sent finds a
// place, every acknowledged one is in the log, none overbooks; the
// baseline ran too.
func TestBenchRushJSON(t *testing.T) {
	t.Parallel()
	out, _, err := runCmd(t, "bench", "rush", "--json", "--slots", "300", "--rates", "40,80", "--step", "1s")
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		Rate, Sent, OK, Errors int
		P99                    float64 `json:"p99_ms"`
	}
	var r struct {
		Scenario             string
		Places, Sent, Booked int
		BookedInLog          int `json:"booked_in_log"`
		Full                 int `json:"full_409"`
		Overbooked, Lost     int
		Baseline             *float64 `json:"baseline_ops_per_sec"`
		Ratio                *float64
		Steps                []step
		BaselineSteps        []step `json:"baseline_steps"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output is not one JSON object: %q", out)
	}
	if r.Scenario != "rush" || r.Places != 300 || r.Sent != 40+80 || r.Booked != r.Sent || r.BookedInLog != r.Sent || r.Full != 0 ||
		r.Overbooked != 0 || r.Lost != 0 || r.Baseline == nil || r.Ratio == nil || len(r.Steps) != 2 || len(r.BaselineSteps) != 2 {
		t.Fatalf("result %s", out)
	}
	for _, s := range append(r.Steps, r.BaselineSteps...) {
		if s.OK != s.Sent || s.Errors != 0 || s.P99 <= 0 {
			t.Errorf("step %+v in %s", s, out)
		}
	}
}

func TestBenchCallnextJSON(t *testing.T) {
	t.Parallel()
	out, _, err := runCmd(t, "bench", "callnext", "--json", "--tickets", "30", "--counters", "3")
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output is not one JSON object: %q", out)
	}
	// Each ticket is called, started and completed; each counter opens and
	// makes one last call that finds nobody.
	if r["scenario"] != "callnext" || r["served"].(float64) != 30 || r["errors"].(float64) != 0 || r["ops"].(float64) != 30*3+3*2 {
		t.Errorf("result %s", out)
	}
	// Every action's position was seen by the views.
	if lag, _ := r["view_lag_p99_ms"].(float64); lag <= 0 || r["view_lag_samples"] != r["ops"] {
		t.Errorf("view lag not measured: %s", out)
	}
}

// The back-test of the wait estimates gives each estimator's figures on
// both data sets, each with tickets called, and names the winner.
func TestBenchEstimatesJSON(t *testing.T) {
	t.Parallel()
	days := "20" // the benchmark's default: the figures the README gives
	if testing.Short() {
		days = "2"
	}
	out, _, err := runCmd(t, "bench", "estimates", "--json", "--days", days, "--data", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Scenario string  `json:"scenario"`
		Ops      float64 `json:"ops"`
		Errors   float64 `json:"errors"`
		Sets     map[string]struct {
			Days       float64                       `json:"days"`
			Best       string                        `json:"best"`
			Estimators map[string]map[string]float64 `json:"estimators"`
		} `json:"data_sets"`
		Winner string `json:"winner"`
		InUse  string `json:"in_use"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output is not one JSON object: %q", out)
	}
	if r.Scenario != "estimates" || r.Ops == 0 || r.Errors != 0 || len(r.Sets) != 2 {
		t.Fatalf("result %s", out)
	}
	for _, set := range []string{"demo", "warsaw"} {
		s := r.Sets[set]
		if s.Days == 0 || len(s.Estimators) < 3 || s.Estimators[s.Best] == nil {
			t.Errorf("%s: %+v", set, s)
		}
		for name, e := range s.Estimators {
			for _, k := range []string{"n", "mae_minutes", "p90_abs_error_minutes"} {
				if _, ok := e[k]; !ok {
					t.Errorf("%s %s: no %s", set, name, k)
				}
			}
			if e["n"] <= 0 || e["mae_minutes"] <= 0 || e["p90_abs_error_minutes"] < e["mae_minutes"]/2 {
				t.Errorf("%s %s: %v", set, name, e)
			}
		}
	}
	if r.Sets["demo"].Estimators[r.Winner] == nil {
		t.Errorf("the winner %q is none of the estimators", r.Winner)
	}
	// The hall tells tickets what the back-test found best.
	if !testing.Short() && r.Winner != r.InUse {
		t.Errorf("the back-test's winner is %s, the hall tells tickets by %s", r.Winner, r.InUse)
	}
	t.Log(out)
}

// TestMain lets the crash test run this test binary as the real server:
// with SERVICEHALL_TEST_AS_BINARY=1 it is servicehall, not a test.
func TestMain(m *testing.M) {
	if os.Getenv("SERVICEHALL_TEST_AS_BINARY") == "1" {
		main()
		return
	}
	// The servers the crash and three-process tests start are this binary,
	// and this process is past the check above.
	os.Setenv("SERVICEHALL_TEST_AS_BINARY", "1")
	os.Exit(m.Run())
}

// The real binary, killed with SIGKILL in the middle of bookings and
// counter work, reschedules and cancellations, and restarted, loses nothing
// it acknowledged, overbooks no slot, leaves no place without its
// appointment, serves no ticket twice, and its views equal a fresh rebuild.
func TestCrashLosesNothing(t *testing.T) {
	t.Parallel()
	kills := 10 // the benchmark's default is 20; ten find what twenty do in half the time
	if testing.Short() {
		kills = 5
	}
	out, _, err := runCmd(t, "bench", "crash", "--json", "--kills", fmt.Sprint(kills), "--residents", "80")
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output is not one JSON object: %q", out)
	}
	if r["kills"].(float64) != float64(kills) || r["acknowledged"].(float64) < 50 || r["lost"].(float64) != 0 || r["overbooked"].(float64) != 0 ||
		r["duplicates"].(float64) != 0 || r["orphaned"].(float64) != 0 || r["changed"].(float64) == 0 ||
		r["views_differ"].(float64) != 0 || r["errors"].(float64) != 0 {
		t.Fatalf("result %s", out)
	}
	t.Log(out)
}
