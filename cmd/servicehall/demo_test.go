package main

import (
	"testing"
	"time"

	"github.com/servicehall/servicehall/domain/calendar"
)

// The demo, just started, shows what a newcomer should see: released slots
// with the next Saturday window, yesterday's counter figures, and an
// overdue application the escalation job has escalated.
func TestDemoSeedsAStationWithHistory(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	base, _, stop := start(t, "demo", data)
	api := base + "/api/v1"
	_, out := send(t, "POST", api+"/auth/login", "", `{"username":"zhao.lead","password":"demo-manager-pass"}`)
	lead, _ := out["token"].(string)
	if lead == "" {
		t.Fatalf("the demo manager cannot log in: %v", out)
	}
	var svcs []map[string]any
	getJSON(t, api+"/services", nil, &svcs)
	categories := map[any]int{}
	for _, s := range svcs {
		categories[s["category"]]++
	}
	if len(svcs) < 6 || categories["household"] < 2 || categories["license"] < 2 {
		t.Fatalf("catalogue: %v", svcs)
	}
	today := calendar.DateOf(time.Now().In(shanghai(t)))
	sat := today.AddDays(1)
	for sat.Weekday() != 6 {
		sat = sat.AddDays(1)
	}
	var slots []map[string]any
	getJSON(t, api+"/stations/gulou/availability?service_id=birth&from="+sat.String()+"&to="+sat.String(), nil, &slots)
	cal, _ := calendar.Official()
	if w, _, _ := calendar.New(cal...).Describe(sat); !w && len(slots) != 6 { // an ordinary Saturday: the 09:00–12:00 window
		t.Fatalf("next Saturday %s: %v", sat, slots)
	}
	var sla []map[string]any
	getJSONAuth(t, api+"/sla?state=overdue", lead, nil, &sla)
	if len(sla) != 1 || sla[0]["escalation_level"].(float64) < 1 {
		t.Fatalf("overdue applications: %v", sla)
	}
	var trail []map[string]any
	getJSONAuth(t, api+"/audit?stream=application-"+sla[0]["application_id"].(string), lead, nil, &trail)
	if last := trail[len(trail)-1]; last["type"] != "ApplicationEscalated" || last["actor"] != "system:job-escalate-overdue" {
		t.Fatalf("audit of the overdue application: %v", trail)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// A second start finds the seed and writes it no second time.
	base, _, stop = start(t, "demo", data)
	defer stop()
	var again []map[string]any
	getJSON(t, base+"/api/v1/services", nil, &again)
	getJSONAuth(t, base+"/api/v1/sla?state=overdue", lead, nil, &sla)
	if len(again) != len(svcs) || len(sla) != 1 {
		t.Fatalf("after a restart: %d services, %d overdue", len(again), len(sla))
	}
}
