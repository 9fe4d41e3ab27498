package projections

import (
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	natsgo "github.com/nats-io/nats.go"
)

// NATS is the bus over NATS JetStream at url. Each projection reads through
// a durable consumer of its own, with one message in flight, so that a
// redelivery can never overtake the message after it. topic names the
// JetStream stream (no dots).
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
		cfg.SubscribeOptions = []natsgo.SubOpt{natsgo.DeliverAll(), natsgo.AckExplicit(), natsgo.MaxAckPending(1)}
		return nats.NewSubscriber(nats.SubscriberConfig{
			URL: url, QueueGroupPrefix: durable, SubscribersCount: 1,
			AckWaitTimeout: 30 * time.Second, CloseTimeout: 10 * time.Second,
			Unmarshaler: &nats.NATSMarshaler{}, JetStream: cfg,
			NatsOptions: []natsgo.Option{natsgo.Timeout(5 * time.Second)},
		}, wlog)
	}}, nil
}
