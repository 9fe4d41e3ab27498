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

// Topic is where the pump publishes the log.
const Topic = "servicehall.events"

// Bus is a watermill transport: GoChannel in one process, or NATS
// JetStream between several.
type Bus struct {
	Publisher  message.Publisher
	Subscriber func(handler string) (message.Subscriber, error)
}

// GoChannel is the in-process bus. Publishing waits for every projection
// to acknowledge, so a slow one holds the pump back instead of piling up
// messages in memory.
func GoChannel(logger *slog.Logger) Bus {
	ch := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 256, BlockPublishUntilSubscriberAck: true}, watermill.NewSlogLogger(logger))
	return Bus{Publisher: ch, Subscriber: func(string) (message.Subscriber, error) { return ch, nil }}
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
		router.AddConsumerHandler(name, Topic, sub, func(msg *message.Message) error {
			var rec eventstore.Record
			if err := json.Unmarshal(msg.Payload, &rec); err != nil {
				return fmt.Errorf("message %s: %w", msg.UUID, err)
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
	pumpErr := pump(ctx, e.MinPosition(), log, bus.Publisher)
	router.Close()
	if rerr := <-routerDone; rerr != nil && pumpErr == nil {
		pumpErr = rerr
	}
	if errors.Is(pumpErr, context.Canceled) {
		return nil
	}
	return pumpErr
}

func pump(ctx context.Context, from uint64, log eventstore.Store, pub message.Publisher) error {
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
		msg.Metadata.Set("type", rec.Type)
		if rec.CorrelationID != "" {
			middleware.SetCorrelationID(rec.CorrelationID, msg)
		}
		if err := pub.Publish(Topic, msg); err != nil {
			return fmt.Errorf("publish %d: %w", rec.Position, err)
		}
	}
	return ctx.Err()
}
