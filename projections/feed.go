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
// event from the log into the bus (the pump), and lets what comes off the
// bus wake the views, until ctx ends. The views read the log itself from
// their checkpoints, in batches of whatever arrived meanwhile, every
// projection's documents and checkpoint in one transaction; so a message
// lost, repeated or out of order changes nothing, and an event appended
// but never published before a crash is read after the restart.
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
	router.AddMiddleware(middleware.Recoverer, middleware.CorrelationID)
	sub, err := bus.Subscriber(viewsHandler)
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", viewsHandler, err)
	}
	wake := make(chan struct{}, 1)
	router.AddConsumerHandler(viewsHandler, bus.Topic, sub, func(*message.Message) error {
		select {
		case wake <- struct{}{}:
		default: // a wake-up is pending: it will read this event too
		}
		return nil
	})
	routerDone := make(chan error, 1)
	go func() { routerDone <- router.Run(ctx) }()
	select {
	case <-router.Running():
	case err := <-routerDone:
		return fmt.Errorf("router: %w", err)
	}
	fctx, stopFollowing := context.WithCancel(ctx)
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		e.Follow(fctx, wake, logger)
	}()
	pumpErr := pump(ctx, e.MinPosition(), log, bus)
	stopFollowing()
	router.Close()
	if rerr := <-routerDone; rerr != nil && pumpErr == nil {
		pumpErr = rerr
	}
	<-followed
	if errors.Is(pumpErr, context.Canceled) {
		return nil
	}
	return pumpErr
}

// viewsHandler names the views' consumer on the bus.
const viewsHandler = "views"

func pump(ctx context.Context, from uint64, log eventstore.Store, bus Bus) error {
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
		if err := bus.Publisher.Publish(bus.Topic, msg); err != nil {
			return fmt.Errorf("publish %d: %w", rec.Position, err)
		}
	}
	return ctx.Err()
}
