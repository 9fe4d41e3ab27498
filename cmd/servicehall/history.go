package main

import (
	"context"
	"fmt"
	"time"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/eventstore/memstore"
)

// historyAsOf is the day the demo's history for the back-test is seeded as
// of: a fixed day, so that the figures it gives are the same every run.
var historyAsOf = calendar.Date{Year: 2025, Month: time.December, Day: 1}

// demoHistory seeds the demo into an in-memory log as the demo command
// does when started on historyAsOf, with the demo's counter day on each of
// the days working days before it (the demo itself seeds the last one
// only): the demo's history for the back-test of wait estimates.
func demoHistory(ctx context.Context, loc *time.Location, days int) (eventstore.Store, error) {
	log := memstore.New()
	h, err := command.New(log)
	if err != nil {
		return nil, err
	}
	keys := command.Keys{Reference: []byte("demo-history-reference"), Seal: []byte("demo-history-sealing-key")}
	hl, err := command.NewHall(h, loc, domain.DefaultPolicy, keys, nil)
	if err != nil {
		return nil, err
	}
	asOf := historyAsOf.In(loc).Add(8 * time.Hour)
	if err := seedDemo(ctx, &hall{h: h, hall: hl, log: log}, asOf); err != nil {
		return nil, fmt.Errorf("demo history: %w", err)
	}
	notices, err := calendar.Official()
	if err != nil {
		return nil, fmt.Errorf("demo history: %w", err)
	}
	cal := calendar.New(notices...)
	cat := map[string]domain.Service{}
	for _, s := range demoServices {
		cat[s.ID] = s
	}
	// seedQueue plays the last working day before the day it is given.
	first := true
	for d, seeded := historyAsOf.AddDays(-1), 1; seeded < days; d = d.AddDays(-1) {
		if !cal.IsWorkingDay(d) {
			continue
		}
		if first { // the demo's own day
			first = false
			continue
		}
		if err := seedQueue(ctx, &hall{h: h, hall: hl, log: log}, cat, cal, d.AddDays(1), loc); err != nil {
			return nil, fmt.Errorf("demo history %s: %w", d, err)
		}
		seeded++
	}
	return log, nil
}
