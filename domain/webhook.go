package domain

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// WebhooksStream holds the outbound subscriptions, how far they were
// delivered, and the deliveries that failed (the dead letters).
const WebhooksStream = "webhooks"

// Events of the webhooks stream.
type (
	WebhookSubscribed struct {
		ID         string   `json:"ID"`
		URL        string   `json:"URL"`
		EventTypes []string `json:"EventTypes"`
		// Secret signs the deliveries; sealed, for the log holds no
		// secret in clear.
		Secret []byte `json:"Secret"`
		// Personal lets residents' masked details leave with the events;
		// without it they are left out.
		Personal bool `json:"Personal,omitempty"`
		// After is the log's position when it subscribed: only later
		// events are delivered.
		After uint64    `json:"After"`
		At    time.Time `json:"At"`
	}
	// WebhooksDelivered records that every delivery of the events through
	// position Through was acknowledged or dead-lettered.
	WebhooksDelivered struct {
		Through uint64 `json:"Through"`
	}
	WebhookDeadLettered struct {
		ID           string    `json:"ID"`
		Subscription string    `json:"Subscription"`
		Position     uint64    `json:"Position"`
		EventType    string    `json:"EventType"`
		Error        string    `json:"Error"`
		At           time.Time `json:"At"`
	}
	WebhookReplayed struct {
		ID string    `json:"ID"`
		At time.Time `json:"At"`
	}
)

// DeadLetter is a delivery that failed every retry and waits for a replay.
type DeadLetter = WebhookDeadLettered

// Webhooks is the outbound subscriptions and their deliveries.
type Webhooks struct {
	Subscriptions []WebhookSubscribed
	Through       uint64
	dead          map[string]DeadLetter
}

func (w *Webhooks) Apply(e Event) {
	if w.dead == nil {
		w.dead = map[string]DeadLetter{}
	}
	switch e := e.(type) {
	case WebhookSubscribed:
		w.Subscriptions = append(w.Subscriptions, e)
	case WebhooksDelivered:
		w.Through = max(w.Through, e.Through)
	case WebhookDeadLettered:
		w.dead[e.ID] = e
	case WebhookReplayed:
		delete(w.dead, e.ID)
	}
}

// Dead lists the dead letters not replayed, oldest first.
func (w *Webhooks) Dead() []DeadLetter {
	out := make([]DeadLetter, 0, len(w.dead))
	for _, d := range w.dead {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b DeadLetter) int {
		return cmp.Or(cmp.Compare(a.Position, b.Position), strings.Compare(a.ID, b.ID))
	})
	return out
}

// Subscription is one subscription by id.
func (w *Webhooks) Subscription(id string) (WebhookSubscribed, bool) {
	for _, s := range w.Subscriptions {
		if s.ID == id {
			return s, true
		}
	}
	return WebhookSubscribed{}, false
}

// Subscribe adds a subscription to some of the log's event types.
func (w *Webhooks) Subscribe(s WebhookSubscribed) ([]Event, error) {
	if old, ok := w.Subscription(s.ID); ok {
		if old.URL == s.URL && slices.Equal(old.EventTypes, s.EventTypes) {
			return nil, nil // a retry
		}
		return nil, illegal("webhook %s exists (订阅已存在)", s.ID)
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, &FieldError{"url", invalid("an http or https URL (须为 http 或 https 地址)")}
	}
	if len(s.EventTypes) == 0 {
		return nil, &FieldError{"event_types", invalid("at least one event type (至少订阅一种事件)")}
	}
	for _, t := range s.EventTypes {
		if _, ok := registry[t]; !ok {
			return nil, &FieldError{"event_types", invalid("unknown event type %q (未知事件类型)", t)}
		}
	}
	if len(s.Secret) == 0 {
		return nil, &FieldError{"secret", invalid("a secret is required (须提供签名密钥)")}
	}
	return []Event{s}, nil
}

// Deliver records deliveries through position, once.
func (w *Webhooks) Deliver(through uint64) ([]Event, error) {
	if through <= w.Through {
		return nil, nil
	}
	return []Event{WebhooksDelivered{through}}, nil
}

// Fail records a delivery that failed its retries, once.
func (w *Webhooks) Fail(d DeadLetter) ([]Event, error) {
	if _, ok := w.dead[d.ID]; ok {
		return nil, nil
	}
	return []Event{d}, nil
}

// Replayed records a dead letter delivered again.
func (w *Webhooks) Replayed(id string, at time.Time) ([]Event, error) {
	if _, ok := w.dead[id]; !ok {
		return nil, fmt.Errorf("%w: dead letter %s (无此投递失败记录)", ErrNotFound, id)
	}
	return []Event{WebhookReplayed{id, at}}, nil
}

func init() {
	register(map[string]Event{
		"WebhookSubscribed":   WebhookSubscribed{},
		"WebhooksDelivered":   WebhooksDelivered{},
		"WebhookDeadLettered": WebhookDeadLettered{},
		"WebhookReplayed":     WebhookReplayed{},
	})
}
