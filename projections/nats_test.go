package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	natsgo "github.com/nats-io/nats.go"

	"github.com/servicehall/servicehall/internal/testenv"
	"github.com/servicehall/servicehall/projections"
)

// The feed over NATS JetStream brings every event to every view once.
func TestFeedOverNATS(t *testing.T) {
	url := testenv.NATS(t)
	topic := "servicehall_test_" + uuid.NewString()[:8]
	t.Cleanup(func() {
		if nc, err := natsgo.Connect(url); err == nil {
			if js, err := nc.JetStream(); err == nil {
				js.DeleteStream(topic)
			}
			nc.Close()
		}
	})
	log := openLog(t)
	generate(t, log, 1500)
	e, err := projections.NewEngine(ctx, log, openViews(t), projections.All()...)
	if err != nil {
		t.Fatal(err)
	}
	bus, err := projections.NATS(url, topic, quiet)
	if err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- projections.RunFeed(fctx, e, log, bus, quiet) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("feed: %v", err)
		}
	}()
	// Events appended after the catch-up travel through JetStream.
	before, _ := log.Head(ctx)
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	for _, name := range e.Names() {
		if err := e.WaitFor(wctx, name, before); err != nil {
			t.Fatal(err)
		}
	}
	more := generate(t, log, 600)
	head, _ := log.Head(ctx)
	for _, name := range e.Names() {
		if err := e.WaitFor(wctx, name, head); err != nil {
			t.Fatal(err)
		}
	}
	if entries, want := auditMarks(t, e.Store(), e.NS("audit", "by-actor")), int(head); entries != want {
		t.Fatalf("audit holds %d entries, the log %d events (%d through NATS)", entries, want, more)
	}
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := nc.JetStream()
	info, err := js.StreamInfo(topic)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs == 0 {
		t.Fatalf("nothing went through JetStream stream %s", topic)
	}
	t.Logf("%d events, %d of them published to JetStream", head, info.State.Msgs)
}
