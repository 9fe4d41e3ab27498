// Package projections turns the log into the views people read: the live
// queue, free slots, deadlines, completion rates, the audit trail and each
// resident's own bookings. Views are thrown away and rebuilt at will.
package projections

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// KV is one stored document: a JSON value under a key in a namespace
// ("{projection}/{generation}/{table}").
type KV struct {
	NS, Key string
	Doc     []byte
}

// Checkpoint is how far a projection has read the log, and which
// generation of its views is the live one.
type Checkpoint struct {
	Name       string
	Generation int
	Position   uint64
}

// Batch is written atomically: a view's documents and its checkpoint
// commit together or not at all, so a view never runs ahead of or behind
// the position it claims.
type Batch struct {
	Puts        []KV
	Deletes     []KV     // NS and Key only
	Drops       []string // every namespace that starts with one of these
	Checkpoints []Checkpoint
}

// Store is the read-model port.
type Store interface {
	Get(ctx context.Context, ns, key string) ([]byte, bool, error)
	// Scan returns the documents of ns with keys in [from, to), in key
	// order; an empty to means no upper bound.
	Scan(ctx context.Context, ns, from, to string) ([]KV, error)
	Write(ctx context.Context, b Batch) error
	Checkpoints(ctx context.Context) (map[string]Checkpoint, error)
	Close() error
}

// PrefixEnd is a key after every key that starts with prefix: the highest
// code point, valid UTF-8 for every store, and last in byte order.
func PrefixEnd(prefix string) string { return prefix + "\U0010FFFF" }

// Memory is a Store in memory: for time travel and tests.
type Memory struct {
	mu    sync.RWMutex
	docs  map[string]map[string][]byte
	check map[string]Checkpoint
}

func NewMemory() *Memory {
	return &Memory{docs: map[string]map[string][]byte{}, check: map[string]Checkpoint{}}
}

func (m *Memory) Get(_ context.Context, ns, key string) ([]byte, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	d, ok := m.docs[ns][key]
	return d, ok, nil
}

func (m *Memory) Scan(_ context.Context, ns, from, to string) ([]KV, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []KV
	for k, d := range m.docs[ns] {
		if k >= from && (to == "" || k < to) {
			out = append(out, KV{ns, k, d})
		}
	}
	slices.SortFunc(out, func(a, b KV) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func (m *Memory) Write(_ context.Context, b Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, prefix := range b.Drops {
		for ns := range m.docs {
			if strings.HasPrefix(ns, prefix) {
				delete(m.docs, ns)
			}
		}
	}
	for _, kv := range b.Puts {
		if m.docs[kv.NS] == nil {
			m.docs[kv.NS] = map[string][]byte{}
		}
		m.docs[kv.NS][kv.Key] = slices.Clone(kv.Doc)
	}
	for _, kv := range b.Deletes {
		delete(m.docs[kv.NS], kv.Key)
	}
	for _, c := range b.Checkpoints {
		m.check[c.Name] = c
	}
	return nil
}

func (m *Memory) Checkpoints(context.Context) (map[string]Checkpoint, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[string]Checkpoint, len(m.check))
	for k, v := range m.check {
		out[k] = v
	}
	return out, nil
}

func (m *Memory) Close() error { return nil }
