// Package eventstore is the log servicehall keeps: streams of events, each
// appended with an expected version, and one global log over all streams.
// Adapters live in sub-packages; conformance holds the suite they all pass.
package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/google/uuid"
)

// Actor is who caused an event: a user id or "system:job-NAME", and a role.
type Actor struct {
	ID   string `json:"id"`
	Role string `json:"role"`
}

// Event is what a caller appends: the payload and the envelope around it.
type Event struct {
	ID            uuid.UUID
	Type          string
	Data          json.RawMessage
	OccurredAt    time.Time
	Actor         Actor
	CorrelationID string
	CausationID   string
	Schema        int // the payload's schema version, 1 for the first
}

// Record is a stored event: its envelope, stream version and global position.
type Record struct {
	Event
	Stream   string
	Version  uint64 // 1 for a stream's first event
	Position uint64 // global; increases in commit order, never reused, > 0
}

// Expected is the version a stream must be at for an append to succeed.
type Expected int64

const (
	Any      Expected = -1 // no check
	NoStream Expected = 0  // the stream must not exist yet
)

// Exactly expects the stream to hold exactly v events.
func Exactly(v uint64) Expected { return Expected(v) }

func (e Expected) String() string {
	switch e {
	case Any:
		return "any"
	case NoStream:
		return "no stream"
	}
	return fmt.Sprintf("version %d", e)
}

// Result is where an append left the stream: its version and the global
// position of its last event.
type Result struct {
	Version  uint64
	Position uint64
}

// ErrConflict is matched by every *ConflictError.
var ErrConflict = errors.New("wrong expected version")

// ConflictError reports an append refused by optimistic concurrency. Nothing
// of that append was written.
type ConflictError struct {
	Stream   string
	Expected Expected
	Actual   int64 // -1 when the adapter cannot tell
}

func (e *ConflictError) Error() string {
	if e.Actual < 0 {
		return fmt.Sprintf("append to %s: %v, expected %v", e.Stream, ErrConflict, e.Expected)
	}
	return fmt.Sprintf("append to %s: %v, expected %v, stream is at %d", e.Stream, ErrConflict, e.Expected, e.Actual)
}

func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Store is the port every adapter implements.
type Store interface {
	// Append writes events to the end of stream if it is at the expected
	// version, atomically, and returns once they are durable. Appending
	// events whose ids are all stored in that stream already writes nothing
	// and returns their result: a retried append is not an error.
	Append(ctx context.Context, stream string, expected Expected, events ...Event) (Result, error)
	// ReadStream returns the stream's events after version after, in order.
	ReadStream(ctx context.Context, stream string, after uint64) ([]Record, error)
	// ReadAll returns up to limit events of the global log after position after.
	ReadAll(ctx context.Context, after uint64, limit int) ([]Record, error)
	// Subscribe yields every event after position after, in order, first
	// those stored and then each as it is appended. It ends with an error:
	// the context's when it is cancelled.
	Subscribe(ctx context.Context, after uint64) iter.Seq2[Record, error]
	// Head is the position of the last event in the global log, 0 if none.
	Head(ctx context.Context) (uint64, error)
	Close() error
}

// Part is one stream's share of an append to several streams.
type Part struct {
	Stream   string
	Expected Expected
	Events   []Event
}

// Atomic is a store that appends to several streams all or nothing, in one
// transaction: every part is at its expected version and all are written,
// or nothing is and the error is the first part's *ConflictError. A part
// whose events are all stored in its stream already is a retry: it writes
// nothing and gets its stored result. KurrentDB has no such append; app
// completes multi-stream commands there with compensation instead.
type Atomic interface {
	AppendAll(ctx context.Context, parts ...Part) ([]Result, error)
}

// Exclusive is a store that one process alone can open (an embedded file,
// memory): what a process caches over it changes only by its own writes.
type Exclusive interface {
	Exclusive() bool
}

// CheckParts refuses a multi-stream append that no adapter should store:
// a bad part, or one stream twice.
func CheckParts(parts []Part) error {
	if len(parts) == 0 {
		return errors.New("append: no parts")
	}
	seen := make(map[string]bool, len(parts))
	for _, p := range parts {
		if err := Check(p.Stream, p.Events); err != nil {
			return err
		}
		if seen[p.Stream] {
			return fmt.Errorf("append to %s: the stream is in two parts", p.Stream)
		}
		seen[p.Stream] = true
	}
	return nil
}

// Check refuses an append that no adapter should store.
func Check(stream string, events []Event) error {
	if stream == "" {
		return errors.New("append: empty stream name")
	}
	if len(events) == 0 {
		return fmt.Errorf("append to %s: no events", stream)
	}
	for i, e := range events {
		switch {
		case e.ID == uuid.Nil:
			return fmt.Errorf("append to %s: event %d has no id", stream, i)
		case e.Type == "":
			return fmt.Errorf("append to %s: event %d has no type", stream, i)
		case !json.Valid(e.Data):
			return fmt.Errorf("append to %s: event %d (%s) data is not JSON", stream, i, e.Type)
		}
	}
	return nil
}

// Tail is the subscription loop adapters share: it reads the log after
// after in pages and yields each record; at the end of the log it waits
// for the channel changed returns (taken before each read, so that no
// commit slips in between), for poll if it is not zero, or for stop or
// ctx to end it with closed or the context's error.
func Tail(ctx context.Context, s Store, after uint64, changed func() <-chan struct{}, poll time.Duration, stop <-chan struct{}, closed error) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		const page = 1000
		for {
			wake := changed()
			recs, err := s.ReadAll(ctx, after, page)
			if err != nil {
				yield(Record{}, err)
				return
			}
			for _, r := range recs {
				if !yield(r, nil) {
					return
				}
				after = r.Position
			}
			if len(recs) == page {
				continue
			}
			var timeout <-chan time.Time
			if poll > 0 {
				timeout = time.After(poll)
			}
			select {
			case <-wake:
			case <-timeout:
			case <-ctx.Done():
				yield(Record{}, ctx.Err())
				return
			case <-stop:
				yield(Record{}, closed)
				return
			}
		}
	}
}
