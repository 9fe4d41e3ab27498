// Package memstore keeps the log in memory: for tests, and for trying the
// product without a file. Nothing survives the process.
package memstore

import (
	"context"
	"errors"
	"iter"
	"sync"

	"github.com/google/uuid"

	"github.com/servicehall/servicehall/eventstore"
)

// Store is the in-memory adapter. It is safe for concurrent use.
type Store struct {
	mu      sync.RWMutex
	log     []eventstore.Record // position n is log[n-1]
	streams map[string][]uint64 // positions of each stream's events
	ids     map[uuid.UUID]uint64
	changed chan struct{} // closed and replaced after every append
	stop    chan struct{}
	closing sync.Once
}

// New returns an empty store.
func New() *Store {
	return &Store{streams: map[string][]uint64{}, ids: map[uuid.UUID]uint64{},
		changed: make(chan struct{}), stop: make(chan struct{})}
}

var errClosed = errors.New("memstore: closed")

func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.Event) (eventstore.Result, error) {
	if err := eventstore.Check(stream, events); err != nil {
		return eventstore.Result{}, err
	}
	res, err := s.AppendAll(ctx, eventstore.Part{Stream: stream, Expected: expected, Events: events})
	if err != nil {
		return eventstore.Result{}, err
	}
	return res[0], nil
}

// AppendAll appends to several streams at once, all or nothing.
func (s *Store) AppendAll(ctx context.Context, parts ...eventstore.Part) ([]eventstore.Result, error) {
	if err := eventstore.CheckParts(parts); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.stop:
		return nil, errClosed
	default:
	}
	results := make([]eventstore.Result, len(parts))
	write := make([]bool, len(parts))
	for k, p := range parts {
		if res, ok := s.stored(p); ok {
			results[k] = res
			continue
		}
		version := uint64(len(s.streams[p.Stream]))
		if p.Expected != eventstore.Any && uint64(p.Expected) != version {
			return nil, &eventstore.ConflictError{Stream: p.Stream, Expected: p.Expected, Actual: int64(version)}
		}
		for _, e := range p.Events {
			if _, ok := s.ids[e.ID]; ok {
				return nil, &eventstore.ConflictError{Stream: p.Stream, Expected: p.Expected, Actual: -1}
			}
		}
		write[k] = true
	}
	if n := len(parts) - countTrue(write); n > 0 && n < len(parts) {
		// A retry has every part stored; some stored and some not is an
		// append reusing another's event ids.
		return nil, &eventstore.ConflictError{Stream: parts[0].Stream, Expected: parts[0].Expected, Actual: -1}
	}
	for k, p := range parts {
		if !write[k] {
			continue
		}
		for _, e := range p.Events {
			pos := uint64(len(s.log)) + 1
			version := uint64(len(s.streams[p.Stream])) + 1
			e.Data = append([]byte(nil), e.Data...)
			s.log = append(s.log, eventstore.Record{Event: e, Stream: p.Stream, Version: version, Position: pos})
			s.streams[p.Stream] = append(s.streams[p.Stream], pos)
			s.ids[e.ID] = pos
			results[k] = eventstore.Result{Version: version, Position: pos}
		}
	}
	close(s.changed)
	s.changed = make(chan struct{})
	return results, nil
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// stored reports whether p's events are all in its stream, in order.
func (s *Store) stored(p eventstore.Part) (eventstore.Result, bool) {
	var res eventstore.Result
	for i, e := range p.Events {
		pos, ok := s.ids[e.ID]
		if !ok {
			return res, false
		}
		r := s.log[pos-1]
		if r.Stream != p.Stream || (i > 0 && r.Version != res.Version+1) {
			return res, false
		}
		res = eventstore.Result{Version: r.Version, Position: r.Position}
	}
	return res, true
}

func (s *Store) ReadStream(ctx context.Context, stream string, after uint64) ([]eventstore.Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	positions := s.streams[stream]
	if after >= uint64(len(positions)) {
		return nil, nil
	}
	out := make([]eventstore.Record, 0, uint64(len(positions))-after)
	for _, p := range positions[after:] {
		out = append(out, s.log[p-1])
	}
	return out, nil
}

func (s *Store) ReadAll(ctx context.Context, after uint64, limit int) ([]eventstore.Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if after >= uint64(len(s.log)) {
		return nil, nil
	}
	end := min(uint64(len(s.log)), after+uint64(limit))
	return append([]eventstore.Record(nil), s.log[after:end]...), nil
}

func (s *Store) Subscribe(ctx context.Context, after uint64) iter.Seq2[eventstore.Record, error] {
	return eventstore.Tail(ctx, s, after, s.changes, 0, s.stop, errClosed)
}

func (s *Store) changes() <-chan struct{} {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.changed
}

func (s *Store) Head(context.Context) (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return uint64(len(s.log)), nil
}

func (s *Store) Close() error {
	s.closing.Do(func() { close(s.stop) })
	return nil
}

// Exclusive says the store is this process's alone.
func (s *Store) Exclusive() bool { return true }

// String names the adapter in logs and benchmark output.
func (s *Store) String() string { return "memory" }

var (
	_ eventstore.Store  = (*Store)(nil)
	_ eventstore.Atomic = (*Store)(nil)
)
