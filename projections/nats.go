package projections

import (
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	natsgo "github.com/nats-io/nats.go"
)

// NATS is the bus over NATS JetStream at url. The views read through a
// durable consumer with many messages in flight: a message only wakes them
// (they read the log itself), so order and redelivery do not matter. topic
// names the JetStream stream (no dots).
func NATS(url, topic string, logger *slog.Logger) (Bus, error) {
	wlog := watermill.NewSlogLogger(logger)
	js := nats.JetStreamConfig{AutoProvision: true, TrackMsgId: true}
	pub, err := nats.NewPublisher(nats.PublisherConfig{URL: url, Marshaler: &nats.NATSMarshaler{}, JetStream: js,
		NatsOptions: []natsgo.Option{natsgo.Timeout(5 * time.Second)}}, wlog)
	if err != nil {
		return Bus{}, err
	}
	return Bus{Topic: topic, Publisher: pub, Subscriber: func(handler string) (message.Subscriber, error) {
		durable := topic + "_" + handler
		cfg := js
		cfg.DurablePrefix = durable
		cfg.SubscribeOptions = []natsgo.SubOpt{natsgo.DeliverAll(), natsgo.AckExplicit(), natsgo.MaxAckPending(inFlight)}
		return nats.NewSubscriber(nats.SubscriberConfig{
			URL: url, QueueGroupPrefix: durable, SubscribersCount: 1,
			AckWaitTimeout: 30 * time.Second, CloseTimeout: 10 * time.Second,
			Unmarshaler: &nats.NATSMarshaler{}, JetStream: cfg,
			NatsOptions: []natsgo.Option{natsgo.Timeout(5 * time.Second)},
		}, wlog)
	}}, nil
}

// inFlight is how many messages the views' consumer may hold unacknowledged.
const inFlight = 1024
