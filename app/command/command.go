// Package command is the command path: every write, from HTTP or from a job,
// loads a stream, lets the domain decide, and appends what it decided with
// the version it read, retrying on a conflict.
package command

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/eventstore"
)

// Actor is who causes a command's events.
type Actor = eventstore.Actor

// ErrConflict is matched by a write that another writer got in before,
// after the handler's patience ran out.
var ErrConflict = eventstore.ErrConflict

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
	shared   bool          // other processes write to the store too
}

type entry struct {
	mu      sync.Mutex // held by the command that writes for the others
	state   domain.Aggregate
	version uint64
	last    uint64
	loaded  bool        // read from the store at least once
	fresh   bool        // read from the store during the current batch
	behind  atomic.Bool // written by a command queued on another stream

	qmu   sync.Mutex
	queue []*pending // commands waiting for the stream
}

// pending is one command in a stream's queue.
type pending struct {
	decide func(*Tx, domain.Aggregate) ([]Change, error)
	meta   Meta
	events []domain.Event
	last   int // the index in the write of the part holding its last event, -1 if none
	offset int // that event's index in the part
	mine   int // the index of its last event in the queued stream's part, -1 if none
	res    Result
	err    error
	done   chan struct{}
}

// Change is what a command decided for one stream. Undo takes the events
// back; it is used only on a store without atomic appends (KurrentDB), when
// a later stream of the same command refuses its part.
type Change struct {
	Stream string
	Events []domain.Event
	Undo   []domain.Event
}

// Tx is what a decision over several streams sees: the stream the command
// queued on, and each other stream it reads, read fresh for this attempt.
// Whatever it decides is written all at once, each stream at the version
// read, or not at all.
type Tx struct {
	ctx     context.Context
	h       *Handler
	primary string
	state   domain.Aggregate
	entry   *entry
	others  map[string]*loaded
}

type loaded struct {
	state   domain.Aggregate
	version uint64
}

// Read returns stream's state for the decision under way.
func Read[S any, P interface {
	*S
	domain.Aggregate
}](tx *Tx, stream string) (P, error) {
	if stream == tx.primary {
		return as[P](stream, tx.state)
	}
	if l, ok := tx.others[stream]; ok {
		return as[P](stream, l.state)
	}
	state, version, err := Load[S, P](tx.ctx, tx.h.store, stream)
	if err != nil {
		return nil, err
	}
	tx.others[stream] = &loaded{state, version}
	return state, nil
}

func as[P domain.Aggregate](stream string, a domain.Aggregate) (P, error) {
	p, ok := a.(P)
	if !ok {
		var zero P
		return zero, fmt.Errorf("stream %s holds %T, not %T", stream, a, zero)
	}
	return p, nil
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
	ex, ok := store.(eventstore.Exclusive)
	return &Handler{store: store, streams: c, patience: 3 * time.Second, shared: !ok || !ex.Exclusive()}, nil
}

// Store is the store the handler writes to.
func (h *Handler) Store() eventstore.Store { return h.store }

// Execute decides on stream's state and appends the events decided. decide
// must only read the state it is given.
func Execute[S any, P interface {
	*S
	domain.Aggregate
}](ctx context.Context, h *Handler, stream string, m Meta, decide func(P) ([]domain.Event, error)) (Result, error) {
	return ExecuteTx(ctx, h, stream, m, func(_ *Tx, s P) ([]Change, error) {
		evs, err := decide(s)
		return []Change{{Stream: stream, Events: evs}}, err
	})
}

// ExecuteTx decides on stream's state and any other stream the decision
// reads through tx, and appends every change decided in one atomic write.
// decide must only read the states it is given.
//
// Commands for one stream queue up while an append is under way; the next
// to hold the stream decides them all in order, each on the state the
// ones before it left, and appends their events in one durable write: a
// busy stream (the day's queue, a slot in a rush) pays one fsync for many
// commands. A refusal is decided only on fresh state; a conflict with
// another writer discards the state, reloads and decides again.
func ExecuteTx[S any, P interface {
	*S
	domain.Aggregate
}](ctx context.Context, h *Handler, stream string, m Meta, decide func(*Tx, P) ([]Change, error)) (Result, error) {
	e, _ := h.streams.Get(stream)
	if e == nil {
		e = &entry{}
		if prev, ok, _ := h.streams.PeekOrAdd(stream, e); ok {
			e = prev
		}
	}
	p := &pending{meta: m, done: make(chan struct{}), decide: func(tx *Tx, a domain.Aggregate) ([]Change, error) {
		state, err := as[P](stream, a)
		if err != nil {
			return nil, err
		}
		return decide(tx, state)
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

// part is one stream's share of a batch's write.
type part struct {
	stream  string
	version uint64 // expected
	events  []eventstore.Event
	undo    []domain.Event
	undoBy  Meta
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
	round := 0 // bumped after an undo, so that the next try's event ids are new
	for attempt := 0; ; attempt++ {
		if e.behind.Swap(false) && e.state != nil && e.loaded {
			if err := h.catchUp(ctx, stream, e); err != nil {
				fail(err)
				return
			}
		}
		if e.state == nil || !e.loaded {
			e.state, e.version, e.last, e.loaded = fresh(), 0, 0, false
			if err := h.catchUp(ctx, stream, e); err != nil {
				fail(err)
				return
			}
		}
		tx := &Tx{ctx: ctx, h: h, primary: stream, state: e.state, entry: e, others: map[string]*loaded{}}
		var parts []*part
		index := map[string]int{}
		decided := false // the state holds events not yet written
		for _, p := range batch {
			p.events, p.err, p.last, p.mine = nil, nil, -1, -1
			changes, err := p.decide(tx, e.state)
			if (err != nil || h.shared && empty(changes)) && !e.fresh && !decided {
				// The cache may be behind another process: refuse, or (on a
				// store other processes write) do nothing, only on what the
				// stream holds now.
				if err := h.catchUp(ctx, stream, e); err != nil {
					fail(err)
					return
				}
				changes, err = p.decide(tx, e.state)
			}
			if err == nil {
				err = h.stage(tx, p, changes, round, &parts, index)
			}
			if err != nil {
				p.err = err
				continue
			}
			decided = decided || len(p.events) > 0
		}
		if len(parts) == 0 {
			for _, p := range batch {
				p.res = Result{Version: e.version, Position: e.last}
			}
			return
		}
		results, err := h.write(ctx, parts, &round)
		if err != nil {
			e.state, e.loaded = nil, false // it holds what was not written
			if errors.Is(err, eventstore.ErrConflict) && time.Since(start) < h.patience {
				// Someone else wrote: wait a little, so that two writers do
				// not collide again in step, then read and decide again.
				time.Sleep(rand.N(time.Duration(min(attempt, 10)+1) * 200 * time.Microsecond))
				continue
			}
			fail(err)
			return
		}
		if k, ok := index[stream]; ok {
			e.version, e.last = results[k].Version, results[k].Position
		}
		for _, pt := range parts {
			if other, ok := h.streams.Peek(pt.stream); ok && pt.stream != stream {
				other.behind.Store(true)
			}
		}
		for _, p := range batch {
			p.res = Result{Events: p.events, Version: e.version, Position: e.last}
			if p.err == nil && p.last >= 0 {
				r, n := results[p.last], len(parts[p.last].events)
				p.res.Position = r.Position - uint64(n-1-p.offset)
			}
			if k := index[stream]; p.err == nil && p.mine >= 0 {
				p.res.Version = results[k].Version - uint64(len(parts[k].events)-1-p.mine)
			}
		}
		return
	}
}

func empty(changes []Change) bool {
	for _, c := range changes {
		if len(c.Events) > 0 {
			return false
		}
	}
	return true
}

// stage adds what one command decided to the batch's write and applies it
// to the states the next commands decide on. A command that fails to stage
// adds nothing.
func (h *Handler) stage(tx *Tx, p *pending, changes []Change, round int, parts *[]*part, index map[string]int) error {
	type staged struct {
		target domain.Aggregate
		env    []eventstore.Event
		c      Change
	}
	var all []staged
	for _, c := range changes {
		if len(c.Events) == 0 {
			continue
		}
		target := tx.state
		if c.Stream != tx.primary {
			l, ok := tx.others[c.Stream]
			if !ok {
				return fmt.Errorf("app: a decision wrote to %s without reading it", c.Stream)
			}
			target = l.state
		}
		env, err := h.envelope(c.Stream, p.meta, c.Events, round)
		if err != nil {
			return err
		}
		all = append(all, staged{target, env, c})
	}
	for _, s := range all {
		for _, ev := range s.c.Events {
			s.target.Apply(ev)
		}
		k, ok := index[s.c.Stream]
		if !ok {
			k = len(*parts)
			index[s.c.Stream] = k
			pt := &part{stream: s.c.Stream, undoBy: p.meta}
			if s.c.Stream == tx.primary {
				pt.version = tx.entry.version
			} else {
				pt.version = tx.others[s.c.Stream].version
			}
			*parts = append(*parts, pt)
		}
		pt := (*parts)[k]
		pt.events = append(pt.events, s.env...)
		pt.undo = append(pt.undo, s.c.Undo...)
		p.events = append(p.events, s.c.Events...)
		p.last, p.offset = k, len(pt.events)-1
		if s.c.Stream == tx.primary {
			p.mine = p.offset
		}
	}
	return nil
}

// write appends the parts, all or nothing: in one transaction where the
// store can, else one by one, undoing the earlier parts if a later one is
// refused. A crash between two parts there leaves what the recovery job
// gives back.
func (h *Handler) write(ctx context.Context, parts []*part, round *int) ([]eventstore.Result, error) {
	if len(parts) == 1 {
		r, err := h.store.Append(ctx, parts[0].stream, eventstore.Exactly(parts[0].version), parts[0].events...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", parts[0].stream, err)
		}
		return []eventstore.Result{r}, nil
	}
	if m, ok := h.store.(eventstore.Atomic); ok {
		ps := make([]eventstore.Part, len(parts))
		for i, pt := range parts {
			ps[i] = eventstore.Part{Stream: pt.stream, Expected: eventstore.Exactly(pt.version), Events: pt.events}
		}
		return m.AppendAll(ctx, ps...)
	}
	results := make([]eventstore.Result, len(parts))
	for k, pt := range parts {
		r, err := h.store.Append(ctx, pt.stream, eventstore.Exactly(pt.version), pt.events...)
		if err == nil {
			results[k] = r
			continue
		}
		err = fmt.Errorf("%s: %w", pt.stream, err)
		undone := false
		for j := k - 1; j >= 0; j-- {
			u := parts[j]
			if len(u.undo) == 0 {
				continue
			}
			m := u.undoBy
			m.CommandID = "" // fresh ids: an undo may be needed again later
			env, uerr := h.envelope(u.stream, m, u.undo, 0)
			if uerr == nil {
				_, uerr = h.store.Append(ctx, u.stream, eventstore.Any, env...)
			}
			if uerr != nil {
				err = errors.Join(err, fmt.Errorf("undo %s: %w", u.stream, uerr))
			}
			undone = true
		}
		if undone {
			*round++
		}
		return nil, err
	}
	return results, nil
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
		ev, err := domain.DecodeSchema(r.Type, r.Schema, r.Data)
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

func (h *Handler) envelope(stream string, m Meta, events []domain.Event, round int) ([]eventstore.Event, error) {
	out := make([]eventstore.Event, len(events))
	for i, ev := range events {
		typ, data, err := domain.Encode(ev)
		if err != nil {
			return nil, err
		}
		id := uuid.Must(uuid.NewV7())
		if m.CommandID != "" {
			id = uuid.NewSHA1(namespace, fmt.Appendf(nil, "%s\x00%s\x00%d", m.CommandID, stream, i))
			if round > 0 {
				id = uuid.NewSHA1(namespace, fmt.Appendf(nil, "%s\x00%s\x00%d\x00%d", m.CommandID, stream, i, round))
			}
		}
		out[i] = eventstore.Event{ID: id, Type: typ, Data: data, OccurredAt: m.At.UTC(), Actor: m.Actor,
			CorrelationID: m.CorrelationID, CausationID: m.CausationID, Schema: domain.Schema(typ)}
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
		ev, err := domain.DecodeSchema(r.Type, r.Schema, r.Data)
		if err != nil {
			return nil, 0, fmt.Errorf("load %s at version %d: %w", stream, r.Version, err)
		}
		state.Apply(ev)
		version = r.Version
	}
	return state, version, nil
}

// First returns the first event of type E a command wrote.
func First[E domain.Event](res Result) (E, bool) {
	for _, ev := range res.Events {
		if e, ok := ev.(E); ok {
			return e, true
		}
	}
	var zero E
	return zero, false
}
