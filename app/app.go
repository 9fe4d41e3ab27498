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
	mu      sync.Mutex // held by the command that writes for the others
	state   domain.Aggregate
	version uint64
	last    uint64
	loaded  bool // read from the store at least once
	fresh   bool // read from the store during the current batch

	qmu   sync.Mutex
	queue []*pending // commands waiting for the stream
}

// pending is one command in a stream's queue.
type pending struct {
	decide func(domain.Aggregate) ([]domain.Event, error)
	meta   Meta
	events []domain.Event
	res    Result
	err    error
	done   chan struct{}
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
//
// Commands for one stream queue up while an append is under way; the next
// to hold the stream decides them all in order, each on the state the
// ones before it left, and appends their events in one durable write: a
// busy stream (the day's queue, a slot in a rush) pays one fsync for many
// commands. A refusal is decided only on fresh state; a conflict with
// another writer discards the state, reloads and decides again.
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
	p := &pending{meta: m, done: make(chan struct{}), decide: func(a domain.Aggregate) ([]domain.Event, error) {
		state, ok := a.(P)
		if !ok {
			return nil, fmt.Errorf("stream %s holds %T, not %T", stream, a, P(nil))
		}
		return decide(state)
	}}
	e.qmu.Lock()
	e.queue = append(e.queue, p)
	e.qmu.Unlock()
	e.mu.Lock()
	select {
	case <-p.done: // decided and written with the commands before it
		e.mu.Unlock()
		return p.res, p.err
	default:
	}
	e.qmu.Lock()
	batch := e.queue
	e.queue = nil
	e.qmu.Unlock()
	h.run(context.WithoutCancel(ctx), stream, e, batch, func() domain.Aggregate { return P(new(S)) })
	e.mu.Unlock()
	return p.res, p.err
}

// run decides a batch of commands in order and appends what they decided
// in one write, retrying conflicts for up to the handler's patience.
func (h *Handler) run(ctx context.Context, stream string, e *entry, batch []*pending, fresh func() domain.Aggregate) {
	defer func() {
		// What was read is fresh for this batch only: another process may
		// write before the next, so its refusals read again.
		e.fresh = false
		for _, p := range batch {
			close(p.done)
		}
	}()
	fail := func(err error) {
		for _, p := range batch {
			p.err = err
		}
	}
	start := time.Now()
	for attempt := 0; ; attempt++ {
		if e.state == nil || !e.loaded {
			e.state, e.version, e.last, e.loaded = fresh(), 0, 0, false
			if err := h.catchUp(ctx, stream, e); err != nil {
				fail(err)
				return
			}
		}
		var recs []eventstore.Event
		decided := false // the state holds events not yet written
		for _, p := range batch {
			p.events, p.err = nil, nil
			evs, err := p.decide(e.state)
			if err != nil && !e.fresh && !decided {
				// The cache may be behind another process: refuse only on
				// what the stream holds now.
				if err := h.catchUp(ctx, stream, e); err != nil {
					fail(err)
					return
				}
				evs, err = p.decide(e.state)
			}
			if err != nil || len(evs) == 0 {
				p.err = err
				continue
			}
			rs, err := h.envelope(stream, p.meta, evs)
			if err != nil {
				p.err = err
				continue
			}
			for _, ev := range evs {
				e.state.Apply(ev)
			}
			p.events, decided = evs, true
			recs = append(recs, rs...)
		}
		if len(recs) == 0 {
			for _, p := range batch {
				p.res = Result{Version: e.version, Position: e.last}
			}
			return
		}
		res, err := h.store.Append(ctx, stream, eventstore.Exactly(e.version), recs...)
		if err != nil {
			e.state, e.loaded = nil, false // it holds what was not written
			if errors.Is(err, eventstore.ErrConflict) && time.Since(start) < h.patience {
				// Someone else wrote: wait a little, so that two writers do
				// not collide again in step, then read and decide again.
				time.Sleep(rand.N(time.Duration(min(attempt, 10)+1) * 200 * time.Microsecond))
				continue
			}
			fail(fmt.Errorf("%s: %w", stream, err))
			return
		}
		// One append: its events are numbered one after another, so each
		// command's last event has its own version and position.
		after := uint64(len(recs))
		for _, p := range batch {
			if p.err != nil {
				continue
			}
			after -= uint64(len(p.events))
			p.res = Result{Events: p.events, Version: res.Version - after, Position: res.Position - after}
			if len(p.events) == 0 {
				p.res = Result{Version: res.Version, Position: res.Position}
			}
		}
		e.version, e.last = res.Version, res.Position
		return
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
