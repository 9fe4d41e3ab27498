// Package app is the command path: every write, from HTTP or from a job,
// loads a stream, lets the domain decide, and appends what it decided with
// the version it read, retrying on a conflict.
package app

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/eventstore"
)

// Meta is what a command carries into every event it writes.
type Meta struct {
	Actor eventstore.Actor
	At    time.Time
	// CommandID, when set, makes event ids deterministic: the same command
	// run twice (a retried request, a job tick on two replicas) writes its
	// events once.
	CommandID     string
	CorrelationID string
	CausationID   string
}

// Result is what a command wrote: its events and where they landed. A
// command that decided nothing has no events and the stream's last position.
type Result struct {
	Events   []domain.Event
	Version  uint64
	Position uint64
}

// Handler runs commands against a store. It caches the state of recently
// used streams, so that a busy stream (a day's queue) is not read again for
// every command; a conflict with another process refreshes it.
type Handler struct {
	store    eventstore.Store
	streams  *lru.Cache[string, *entry]
	patience time.Duration // how long to keep retrying conflicts
}

type entry struct {
	mu      sync.Mutex
	state   domain.Aggregate
	version uint64
	last    uint64
	loaded  bool // read from the store at least once
	fresh   bool // read from the store since the last command
}

// New returns a Handler over store.
func New(store eventstore.Store) (*Handler, error) {
	if store == nil {
		return nil, errors.New("app: nil event store")
	}
	c, err := lru.New[string, *entry](20_000)
	if err != nil {
		return nil, err
	}
	return &Handler{store: store, streams: c, patience: 3 * time.Second}, nil
}

// Store is the store the handler writes to.
func (h *Handler) Store() eventstore.Store { return h.store }

// Execute decides on stream's state and appends the events decided. decide
// must only read the state it is given.
func Execute[S any, P interface {
	*S
	domain.Aggregate
}](ctx context.Context, h *Handler, stream string, m Meta, decide func(P) ([]domain.Event, error)) (Result, error) {
	e, _ := h.streams.Get(stream)
	if e == nil {
		e = &entry{}
		if prev, ok, _ := h.streams.PeekOrAdd(stream, e); ok {
			e = prev
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state == nil {
		e.state = P(new(S))
	}
	state, ok := e.state.(P)
	if !ok {
		return Result{}, fmt.Errorf("stream %s holds %T, not %T", stream, e.state, P(nil))
	}
	start := time.Now()
	if !e.loaded {
		if err := h.catchUp(ctx, stream, e); err != nil {
			return Result{}, err
		}
	}
	for attempt := 0; ; attempt++ {
		events, err := decide(state)
		if err != nil && !e.fresh {
			// The cache may be behind another process: refuse only on what
			// the stream holds now.
			if err := h.catchUp(ctx, stream, e); err != nil {
				return Result{}, err
			}
			events, err = decide(state)
		}
		if err != nil || len(events) == 0 {
			return Result{Version: e.version, Position: e.last}, err
		}
		recs, err := h.envelope(stream, m, events)
		if err != nil {
			return Result{}, err
		}
		res, err := h.store.Append(ctx, stream, eventstore.Exactly(e.version), recs...)
		if errors.Is(err, eventstore.ErrConflict) && time.Since(start) < h.patience && ctx.Err() == nil {
			// Someone else wrote: wait a little, so that two writers do not
			// collide again in step, then read what they wrote and decide again.
			time.Sleep(rand.N(time.Duration(min(attempt, 10)+1) * 200 * time.Microsecond))
			if err := h.catchUp(ctx, stream, e); err != nil {
				return Result{}, err
			}
			continue
		}
		if err != nil {
			h.streams.Remove(stream)
			return Result{}, fmt.Errorf("%s: %w", stream, err)
		}
		for _, ev := range events {
			state.Apply(ev)
		}
		e.version, e.last, e.fresh = res.Version, res.Position, false
		return Result{Events: events, Version: res.Version, Position: res.Position}, nil
	}
}

// catchUp applies what the stream holds beyond the cached version. On
// failure the entry is dropped, so that the next command starts clean.
func (h *Handler) catchUp(ctx context.Context, stream string, e *entry) error {
	recs, err := h.store.ReadStream(ctx, stream, e.version)
	if err != nil {
		h.streams.Remove(stream)
		return fmt.Errorf("load %s: %w", stream, err)
	}
	for _, r := range recs {
		ev, err := domain.Decode(r.Type, r.Data)
		if err != nil {
			h.streams.Remove(stream)
			return fmt.Errorf("load %s at version %d: %w", stream, r.Version, err)
		}
		e.state.Apply(ev)
		e.version, e.last = r.Version, r.Position
	}
	e.loaded, e.fresh = true, true
	return nil
}

var namespace = uuid.MustParse("6f1d7b52-3c8e-4a53-9f1e-5e2a4c0b9d11")

func (h *Handler) envelope(stream string, m Meta, events []domain.Event) ([]eventstore.Event, error) {
	out := make([]eventstore.Event, len(events))
	for i, ev := range events {
		typ, data, err := domain.Encode(ev)
		if err != nil {
			return nil, err
		}
		id := uuid.Must(uuid.NewV7())
		if m.CommandID != "" {
			id = uuid.NewSHA1(namespace, fmt.Appendf(nil, "%s\x00%s\x00%d", m.CommandID, stream, i))
		}
		out[i] = eventstore.Event{ID: id, Type: typ, Data: data, OccurredAt: m.At.UTC(), Actor: m.Actor,
			CorrelationID: m.CorrelationID, CausationID: m.CausationID, Schema: 1}
	}
	return out, nil
}

// Load reads a stream's current state without caching it.
func Load[S any, P interface {
	*S
	domain.Aggregate
}](ctx context.Context, store eventstore.Store, stream string) (P, uint64, error) {
	state := P(new(S))
	recs, err := store.ReadStream(ctx, stream, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("load %s: %w", stream, err)
	}
	var version uint64
	for _, r := range recs {
		ev, err := domain.Decode(r.Type, r.Data)
		if err != nil {
			return nil, 0, fmt.Errorf("load %s at version %d: %w", stream, r.Version, err)
		}
		state.Apply(ev)
		version = r.Version
	}
	return state, version, nil
}
