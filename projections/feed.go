package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/servicehall/servicehall/eventstore"
)

// Bus is a watermill transport: GoChannel in one process, or NATS
// JetStream between several.
type Bus struct {
	Topic      string
	Publisher  message.Publisher
	Subscriber func(handler string) (message.Subscriber, error)
}

// DefaultTopic is where the pump publishes the log.
const DefaultTopic = "servicehall_events"

// GoChannel is the in-process bus. Publishing waits for every projection
// to acknowledge, so a slow one holds the pump back instead of piling up
// messages in memory.
func GoChannel(logger *slog.Logger) Bus {
	ch := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 256, BlockPublishUntilSubscriberAck: true}, watermill.NewSlogLogger(logger))
	return Bus{Topic: DefaultTopic, Publisher: ch, Subscriber: func(string) (message.Subscriber, error) { return ch, nil }}
}

// RunFeed catches the projections up from the log, then moves each new
// event from the log into the bus (the pump) and from the bus into every
// projection (the router), until ctx ends. The pump starts from the slowest
// projection's checkpoint, so an event appended but never published before
// a crash is published after the restart; projections skip what they have
// seen, so publishing twice is harmless.
func RunFeed(ctx context.Context, e *Engine, log eventstore.Store, bus Bus, logger *slog.Logger) error {
	if err := e.CatchUp(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while catching up
		}
		return fmt.Errorf("catch up: %w", err)
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, watermill.NewSlogLogger(logger))
	if err != nil {
		return err
	}
	router.AddMiddleware(
		middleware.Recoverer,
		middleware.CorrelationID,
		middleware.Retry{MaxRetries: 5, InitialInterval: 100 * time.Millisecond, MaxInterval: 5 * time.Second, Multiplier: 2, Logger: watermill.NewSlogLogger(logger)}.Middleware,
	)
	for _, name := range e.Names() {
		sub, err := bus.Subscriber(name)
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", name, err)
		}
		router.AddConsumerHandler(name, bus.Topic, sub, func(msg *message.Message) error {
			var rec eventstore.Record
			if err := json.Unmarshal(msg.Payload, &rec); err != nil {
				return fmt.Errorf("message %s: %w", msg.UUID, err)
			}
			// A message that does not follow what the projection has read
			// means one went missing on the way: read the gap from the log.
			if prev, _ := strconv.ParseUint(msg.Metadata.Get("prev"), 10, 64); prev > e.Position(name) {
				if err := e.catchUpOne(msg.Context(), name, prev); err != nil {
					return err
				}
			}
			return e.Handle(msg.Context(), name, []eventstore.Record{rec})
		})
	}
	routerDone := make(chan error, 1)
	go func() { routerDone <- router.Run(ctx) }()
	select {
	case <-router.Running():
	case err := <-routerDone:
		return fmt.Errorf("router: %w", err)
	}
	pumpErr := pump(ctx, e.MinPosition(), log, bus)
	router.Close()
	if rerr := <-routerDone; rerr != nil && pumpErr == nil {
		pumpErr = rerr
	}
	if errors.Is(pumpErr, context.Canceled) {
		return nil
	}
	return pumpErr
}

func pump(ctx context.Context, from uint64, log eventstore.Store, bus Bus) error {
	prev := from
	for rec, err := range log.Subscribe(ctx, from) {
		if err != nil {
			return err
		}
		payload, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		msg := message.NewMessage(rec.ID.String(), payload)
		msg.Metadata.Set("position", strconv.FormatUint(rec.Position, 10))
		msg.Metadata.Set("prev", strconv.FormatUint(prev, 10))
		msg.Metadata.Set("type", rec.Type)
		prev = rec.Position
		if rec.CorrelationID != "" {
			middleware.SetCorrelationID(rec.CorrelationID, msg)
		}
		if err := bus.Publisher.Publish(bus.Topic, msg); err != nil {
			return fmt.Errorf("publish %d: %w", rec.Position, err)
		}
	}
	return ctx.Err()
}
