// Package webhooks delivers chosen events of the log to other systems,
// at least once, signed: HMAC-SHA256 of the body, keyed by the
// subscription's secret, in X-Servicehall-Signature. Deliveries go through
// a watermill router whose retry middleware tries each one again with
// backoff and whose poison-queue middleware turns one that still fails into
// a dead letter, recorded in the log for the admin to replay. How far the
// log was delivered is recorded in the log too, after each batch: a crash
// in between delivers that batch again, never skips it.
package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/google/uuid"

	"github.com/servicehall/servicehall/app"
	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
)

// Locker lets one process of several deliver (the jobs' lock).
type Locker interface {
	TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error)
}

// Config is what the dispatcher needs; zero fields take the defaults.
type Config struct {
	App    *app.Application
	Logger *slog.Logger
	Lock   Locker        // default: this process delivers
	Client *http.Client  // default: 10 s timeout
	Poll   time.Duration // how often the log is looked at (default 1 s)
	// Retries after the first try, the first after Backoff, then doubling
	// (defaults 4 and 1 s: about 15 s in all before a dead letter).
	Retries int
	Backoff time.Duration
	Now     func() time.Time
}

const (
	deliveries = "webhooks.deliveries"
	poisoned   = "webhooks.poison"
	batch      = 500
)

// Dispatcher follows the log and delivers what the subscriptions ask for.
type Dispatcher struct {
	c      Config
	pubsub *gochannel.GoChannel
	router *message.Router
}

// New returns a dispatcher, not yet running.
func New(c Config) (*Dispatcher, error) {
	if c.App == nil || c.Logger == nil {
		return nil, errors.New("webhooks: New needs the application and a logger")
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Retries <= 0 {
		c.Retries = 4
	}
	if c.Backoff <= 0 {
		c.Backoff = time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	logger := watermill.NewSlogLogger(c.Logger)
	// Publishing waits for the handler's ack: a batch is recorded as
	// delivered only once each of its deliveries succeeded or became a
	// dead letter.
	ps := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, logger)
	router, err := message.NewRouter(message.RouterConfig{}, logger)
	if err != nil {
		return nil, err
	}
	d := &Dispatcher{c: c, pubsub: ps, router: router}
	poison, err := middleware.PoisonQueue(ps, poisoned)
	if err != nil {
		return nil, err
	}
	h := router.AddConsumerHandler("deliver", deliveries, ps, d.deliver)
	h.AddMiddleware(poison, middleware.Retry{MaxRetries: c.Retries, InitialInterval: c.Backoff, Multiplier: 2, MaxInterval: time.Minute, Logger: logger}.Middleware)
	router.AddConsumerHandler("dead-letters", poisoned, ps, d.deadLetter)
	return d, nil
}

// Run delivers until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- d.router.Run(ctx) }()
	select {
	case <-d.router.Running():
	case err := <-done:
		return err
	}
	defer func() { <-done }()
	for ctx.Err() == nil {
		unlock, ok := func() (func(), bool) {
			if d.c.Lock == nil {
				return func() {}, true
			}
			unlock, ok, err := d.c.Lock.TryLock(ctx, "webhooks")
			if err != nil && ctx.Err() == nil {
				d.c.Logger.Warn("webhooks: lock", "error", err)
			}
			return unlock, ok && err == nil
		}()
		if ok {
			d.follow(ctx)
			unlock()
		}
		sleep(ctx, 5*d.c.Poll)
	}
	return nil
}

// follow delivers batch after batch until ctx ends or a step fails.
func (d *Dispatcher) follow(ctx context.Context) {
	var seen uint64 // scanned with nothing to deliver: not recorded
	for ctx.Err() == nil {
		n, last, err := d.step(ctx, seen)
		if err != nil {
			if ctx.Err() == nil {
				d.c.Logger.Warn("webhooks: delivery", "error", err)
			}
			return
		}
		seen = max(seen, last)
		if n < batch {
			sleep(ctx, d.c.Poll)
		}
	}
}

// step delivers one batch of the log after what was delivered (or seen),
// and answers how many events it read and the last one's position.
func (d *Dispatcher) step(ctx context.Context, seen uint64) (int, uint64, error) {
	w, err := d.c.App.Commands.Webhooks(ctx)
	if err != nil || len(w.Subscriptions) == 0 {
		return 0, 0, err
	}
	from := max(w.Through, seen)
	first := w.Subscriptions[0].After
	for _, s := range w.Subscriptions {
		first = min(first, s.After)
	}
	from = max(from, first)
	records, err := d.c.App.Queries.Since(ctx, from, batch)
	if err != nil || len(records) == 0 {
		return 0, from, err
	}
	sent := 0
	for _, r := range records {
		if r.Stream == domain.WebhooksStream {
			continue
		}
		for _, s := range w.Subscriptions {
			if r.Position <= s.After || !slices.Contains(s.EventTypes, r.Type) {
				continue
			}
			body, err := Body(r.ID.String(), r.Type, r.Stream, r.Position, r.OccurredAt, r.Actor.Role, r.Schema, r.Data, s.Personal)
			if err != nil {
				return 0, 0, err
			}
			msg, err := d.message(s, r.Type, r.Position, body)
			if err != nil {
				return 0, 0, err
			}
			if err := d.pubsub.Publish(deliveries, msg); err != nil {
				return 0, 0, err
			}
			sent++
		}
	}
	last := records[len(records)-1].Position
	if sent > 0 {
		if _, err := d.c.App.Commands.Delivered(ctx, last, d.meta("delivered-"+strconv.FormatUint(last, 10))); err != nil {
			return 0, 0, err
		}
	}
	return len(records), last, nil
}

func (d *Dispatcher) meta(id string) command.Meta {
	return command.Meta{Actor: command.Actor{ID: "system:webhooks", Role: domain.RoleSystem}, At: d.c.Now(), CommandID: "webhooks-" + id}
}

// message is one delivery of body to a subscription, signed.
func (d *Dispatcher) message(s domain.WebhookSubscribed, typ string, position uint64, body []byte) (*message.Message, error) {
	secret, err := d.c.App.Commands.Secret(s)
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", s.ID, err)
	}
	msg := message.NewMessage(uuid.NewString(), body)
	msg.Metadata.Set("subscription", s.ID)
	msg.Metadata.Set("url", s.URL)
	msg.Metadata.Set("type", typ)
	msg.Metadata.Set("position", strconv.FormatUint(position, 10))
	msg.Metadata.Set("signature", Sign(secret, body))
	return msg, nil
}

// Sign is the signature of body under secret, as X-Servicehall-Signature
// carries it.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// deliver posts one delivery; anything but a 2xx is an error, retried.
func (d *Dispatcher) deliver(msg *message.Message) error {
	return post(msg.Context(), d.c.Client, msg.Metadata.Get("url"), msg.Metadata.Get("subscription")+"-"+msg.Metadata.Get("position"),
		msg.Metadata.Get("type"), msg.Metadata.Get("signature"), msg.Payload)
}

func post(ctx context.Context, client *http.Client, url, delivery, typ, signature string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Servicehall-Signature", signature)
	req.Header.Set("X-Servicehall-Event", typ)
	req.Header.Set("X-Servicehall-Delivery", delivery) // the same on every retry: receivers drop repeats by it
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", url, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook %s: %s", url, resp.Status)
	}
	return nil
}

// deadLetter records a delivery that failed every retry.
func (d *Dispatcher) deadLetter(msg *message.Message) error {
	position, err := strconv.ParseUint(msg.Metadata.Get("position"), 10, 64)
	if err != nil {
		return nil // not a delivery of ours: nothing to keep
	}
	sub := msg.Metadata.Get("subscription")
	id := sub + "-" + msg.Metadata.Get("position")
	_, err = d.c.App.Commands.DeadLetter(msg.Context(), domain.DeadLetter{ID: id, Subscription: sub, Position: position,
		EventType: msg.Metadata.Get("type"), Error: msg.Metadata.Get(middleware.ReasonForPoisonedKey), At: d.c.Now()}, d.meta("dead-"+id))
	return err
}

// Body is what a delivery carries: the event's envelope and its data as
// the current schema has it, with residents' details masked when the
// subscription allows them and left out when it does not. The sealed
// details and the sealing key's name never leave.
func Body(id, typ, stream string, position uint64, at time.Time, role string, schema int, data []byte, personal bool) ([]byte, error) {
	ev, err := domain.DecodeSchema(typ, schema, data)
	if err != nil {
		return nil, err
	}
	_, current, err := domain.Encode(ev)
	if err != nil {
		return nil, err
	}
	var fields any
	if err := json.Unmarshal(current, &fields); err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		ID       string    `json:"id"`
		Type     string    `json:"type"`
		Stream   string    `json:"stream"`
		Position uint64    `json:"position"`
		At       time.Time `json:"at"`
		Role     string    `json:"actor_role,omitempty"`
		Data     any       `json:"data"`
	}{id, typ, stream, position, at, role, scrub(fields, personal)})
}

// scrub rewrites a person (the shape domain.Person encodes to) as its
// masked forms, or drops it.
func scrub(v any, personal bool) any {
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v["name_masked"]; ok {
			if !personal {
				return nil
			}
			return map[string]any{"name_masked": v["name_masked"], "id_masked": v["id_masked"], "phone_masked": v["phone_masked"]}
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			if x := scrub(x, personal); x != nil {
				out[k] = x
			}
		}
		return out
	case []any:
		out := make([]any, 0, len(v))
		for _, x := range v {
			if x := scrub(x, personal); x != nil {
				out = append(out, x)
			}
		}
		return out
	}
	return v
}

// Replayed is the outcome of one dead letter's replay.
type Replayed struct {
	ID       string `json:"id"`
	Replayed bool   `json:"replayed"`
	Error    string `json:"error,omitempty"`
}

// Replay delivers dead letters again, once each (all of them when ids is
// empty); each that gets through is recorded as replayed.
func Replay(ctx context.Context, a *app.Application, client *http.Client, ids []string, m command.Meta) ([]Replayed, error) {
	w, err := a.Commands.Webhooks(ctx)
	if err != nil {
		return nil, err
	}
	out := []Replayed{}
	for _, dl := range w.Dead() {
		if len(ids) > 0 && !slices.Contains(ids, dl.ID) {
			continue
		}
		r := Replayed{ID: dl.ID}
		if err := replay(ctx, a, client, w, dl); err != nil {
			r.Error = err.Error()
		} else if _, err := a.Commands.Replayed(ctx, dl.ID, m); err != nil {
			return out, err
		} else {
			r.Replayed = true
		}
		out = append(out, r)
	}
	return out, nil
}

func replay(ctx context.Context, a *app.Application, client *http.Client, w *domain.Webhooks, dl domain.DeadLetter) error {
	s, ok := w.Subscription(dl.Subscription)
	if !ok {
		return fmt.Errorf("webhook %s is gone", dl.Subscription)
	}
	records, err := a.Queries.Since(ctx, dl.Position-1, 1)
	if err != nil {
		return err
	}
	if len(records) == 0 || records[0].Position != dl.Position {
		return fmt.Errorf("event %d not in the log", dl.Position)
	}
	r := records[0]
	body, err := Body(r.ID.String(), r.Type, r.Stream, r.Position, r.OccurredAt, r.Actor.Role, r.Schema, r.Data, s.Personal)
	if err != nil {
		return err
	}
	secret, err := a.Commands.Secret(s)
	if err != nil {
		return err
	}
	return post(ctx, client, s.URL, dl.ID, r.Type, Sign(secret, body), body)
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
