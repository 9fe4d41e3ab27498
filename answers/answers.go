// Package answers keeps the answers to requests sent with an
// Idempotency-Key, so that a retry is answered again instead of acted on
// twice: in memory for one process, or in SQLite or PostgreSQL for every
// process sharing the store and across restarts.
package answers

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
)

// Answer is what a store holds for one key.
type Answer struct {
	Fingerprint string // of the request: method, route, caller and body
	ClaimedAt   time.Time
	Status      int // 0 while the first request is under way
	Header      http.Header
	Body        []byte
}

// Done says whether the first request has answered.
func (a Answer) Done() bool { return a.Status != 0 }

// Store keeps answers. Keys are opaque: the caller scopes them.
type Store interface {
	// Claim records that a request with fingerprint is under way for key,
	// unless an answer is held already: then it returns that answer and
	// false. A claim older than ttl is forgotten; one left unanswered for
	// longer than abandoned (its process died) is taken over by a request
	// with the same fingerprint.
	Claim(ctx context.Context, key, fingerprint string, now time.Time) (Answer, bool, error)
	// Get returns the answer held for key.
	Get(ctx context.Context, key string) (Answer, bool, error)
	// Finish records the answer to a claimed request.
	Finish(ctx context.Context, key string, status int, header http.Header, body []byte) error
	// Forget drops a claim, so that a retry acts again (after a failure
	// that wrote nothing worth replaying).
	Forget(ctx context.Context, key string) error
	Close() error
}

// How long answers are kept, and how long an unanswered claim blocks
// retries before another request may take it over.
const (
	TTL       = 24 * time.Hour
	Abandoned = 15 * time.Second // far longer than a command takes (its patience is 3 s)
)

// ErrInFlight is returned by Wait when the first request is still under way.
var ErrInFlight = errors.New("answers: the first request is still under way")

// Wait polls for the answer to key until it is done, ctx ends, or limit
// passes.
func Wait(ctx context.Context, s Store, key string, limit time.Duration) (Answer, error) {
	deadline := time.Now().Add(limit)
	for {
		a, ok, err := s.Get(ctx, key)
		if err != nil {
			return Answer{}, err
		}
		if !ok {
			return Answer{}, ErrInFlight // forgotten: the first failed; the caller may retry
		}
		if a.Done() {
			return a, nil
		}
		if time.Now().After(deadline) {
			return Answer{}, ErrInFlight
		}
		select {
		case <-ctx.Done():
			return Answer{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Memory is a Store for one process.
type Memory struct {
	mu sync.Mutex
	m  map[string]Answer
}

func NewMemory() *Memory { return &Memory{m: map[string]Answer{}} }

func (s *Memory) Claim(_ context.Context, key, fp string, now time.Time) (Answer, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) > 100_000 { // forget the expired before growing further
		for k, a := range s.m {
			if now.Sub(a.ClaimedAt) > TTL {
				delete(s.m, k)
			}
		}
	}
	if a, ok := s.m[key]; ok && !takeOver(a, fp, now) {
		return a, false, nil
	}
	s.m[key] = Answer{Fingerprint: fp, ClaimedAt: now}
	return Answer{}, true, nil
}

func takeOver(a Answer, fp string, now time.Time) bool {
	return now.Sub(a.ClaimedAt) > TTL || !a.Done() && a.Fingerprint == fp && now.Sub(a.ClaimedAt) > Abandoned
}

func (s *Memory) Get(_ context.Context, key string) (Answer, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.m[key]
	return a, ok, nil
}

func (s *Memory) Finish(_ context.Context, key string, status int, header http.Header, body []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.m[key]
	if !ok {
		return nil
	}
	a.Status, a.Header, a.Body = status, header.Clone(), append([]byte(nil), body...)
	s.m[key] = a
	return nil
}

func (s *Memory) Forget(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

func (s *Memory) Close() error { return nil }
