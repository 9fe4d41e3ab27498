// Package kurrentdb is the event store on a KurrentDB (EventStoreDB) server
// or cluster, through EventStore-Client-Go/v4.
//
// Versions map to revisions (version n is revision n-1) and positions to
// $all commit positions, which increase but are not contiguous. System
// events ($-prefixed types) are left out of the global log.
package kurrentdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/servicehall/servicehall/eventstore"
)

// Store is the KurrentDB adapter.
type Store struct {
	client *esdb.Client
}

// IsURL reports whether v is a KurrentDB connection string.
func IsURL(v string) bool {
	for _, p := range []string{"esdb://", "esdb+discover://", "kurrentdb://", "kurrentdb+discover://"} {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	return false
}

// Open connects to the server in conn (esdb://, esdb+discover://; the
// kurrentdb:// forms are read as esdb://).
func Open(conn string) (*Store, error) {
	conn = strings.Replace(conn, "kurrentdb", "esdb", 1)
	cfg, err := esdb.ParseConnectionString(conn)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb: %w", err)
	}
	c, err := esdb.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb: %w", err)
	}
	return &Store{client: c}, nil
}

func (s *Store) Close() error { return s.client.Close() }

func (s *Store) String() string { return "kurrentdb" }

// envelope is what KurrentDB keeps as an event's user metadata.
type envelope struct {
	OccurredAt    time.Time        `json:"occurred_at"`
	Actor         eventstore.Actor `json:"actor"`
	CorrelationID string           `json:"$correlationId,omitempty"`
	CausationID   string           `json:"$causationId,omitempty"`
	Schema        int              `json:"schema"`
}

func (s *Store) Append(ctx context.Context, stream string, expected eventstore.Expected, events ...eventstore.Event) (eventstore.Result, error) {
	if err := eventstore.Check(stream, events); err != nil {
		return eventstore.Result{}, err
	}
	data := make([]esdb.EventData, len(events))
	for i, e := range events {
		meta, err := json.Marshal(envelope{e.OccurredAt.UTC(), e.Actor, e.CorrelationID, e.CausationID, e.Schema})
		if err != nil {
			return eventstore.Result{}, err
		}
		data[i] = esdb.EventData{EventID: e.ID, EventType: e.Type, ContentType: esdb.ContentTypeJson, Data: e.Data, Metadata: meta}
	}
	var rev esdb.ExpectedRevision
	switch {
	case expected == eventstore.Any:
		rev = esdb.Any{}
	case expected == eventstore.NoStream:
		rev = esdb.NoStream{}
	default:
		rev = esdb.Revision(uint64(expected) - 1)
	}
	res, err := s.client.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: rev}, data...)
	var esErr *esdb.Error
	if errors.As(err, &esErr) && esErr.Code() == esdb.ErrorCodeWrongExpectedVersion {
		// A retry after more was written is no conflict: look for our events.
		if r, ok, serr := s.stored(ctx, stream, events); serr != nil || ok {
			return r, serr
		}
		return eventstore.Result{}, &eventstore.ConflictError{Stream: stream, Expected: expected, Actual: -1}
	}
	if err != nil {
		return eventstore.Result{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	if res.CommitPosition == 0 { // the server recognised a retry and sent no position
		if r, ok, serr := s.stored(ctx, stream, events); serr != nil || ok {
			return r, serr
		}
	}
	return eventstore.Result{Version: res.NextExpectedVersion + 1, Position: res.CommitPosition}, nil
}

// stored reports whether events are all in stream, in order.
func (s *Store) stored(ctx context.Context, stream string, events []eventstore.Event) (eventstore.Result, bool, error) {
	recs, err := s.ReadStream(ctx, stream, 0)
	if err != nil {
		return eventstore.Result{}, false, err
	}
	for i, r := range recs {
		if r.ID != events[0].ID {
			continue
		}
		if i+len(events) > len(recs) {
			return eventstore.Result{}, false, nil
		}
		for j, e := range events {
			if recs[i+j].ID != e.ID {
				return eventstore.Result{}, false, nil
			}
		}
		last := recs[i+len(events)-1]
		return eventstore.Result{Version: last.Version, Position: last.Position}, true, nil
	}
	return eventstore.Result{}, false, nil
}

func record(e *esdb.RecordedEvent) (eventstore.Record, error) {
	var env envelope
	if len(e.UserMetadata) > 0 {
		if err := json.Unmarshal(e.UserMetadata, &env); err != nil {
			return eventstore.Record{}, fmt.Errorf("event %s metadata: %w", e.EventID, err)
		}
	}
	return eventstore.Record{
		Event: eventstore.Event{ID: e.EventID, Type: e.EventType, Data: e.Data, OccurredAt: env.OccurredAt,
			Actor: env.Actor, CorrelationID: env.CorrelationID, CausationID: env.CausationID, Schema: env.Schema},
		Stream:   e.StreamID,
		Version:  e.EventNumber + 1,
		Position: e.Position.Commit,
	}, nil
}

func system(e *esdb.RecordedEvent) bool {
	return strings.HasPrefix(e.EventType, "$") || strings.HasPrefix(e.StreamID, "$")
}

func (s *Store) ReadStream(ctx context.Context, stream string, after uint64) ([]eventstore.Record, error) {
	rs, err := s.client.ReadStream(ctx, stream, esdb.ReadStreamOptions{From: esdb.Revision(after)}, ^uint64(0)>>1)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	defer rs.Close()
	var out []eventstore.Record
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		var esErr *esdb.Error
		if errors.As(err, &esErr) && esErr.Code() == esdb.ErrorCodeResourceNotFound {
			return nil, nil // a stream not written yet is an empty stream
		}
		if err != nil {
			return nil, fmt.Errorf("read stream %s: %w", stream, err)
		}
		r, err := record(ev.Event)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
}

func from(after uint64) esdb.AllPosition {
	if after == 0 {
		return esdb.Start{}
	}
	return esdb.Position{Commit: after, Prepare: after}
}

// ReadAll skips system events; it reads on past a page of them, so that an
// empty answer always means the end of the log.
func (s *Store) ReadAll(ctx context.Context, after uint64, limit int) ([]eventstore.Record, error) {
	var out []eventstore.Record
	for len(out) == 0 {
		page := uint64(limit) + 1
		rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{From: from(after)}, page)
		if err != nil {
			return nil, fmt.Errorf("read all after %d: %w", after, err)
		}
		n, last := uint64(0), after
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rs.Close()
				return nil, fmt.Errorf("read all after %d: %w", after, err)
			}
			n++
			e := ev.Event
			if e == nil || e.Position.Commit <= after {
				continue
			}
			last = e.Position.Commit
			if system(e) || len(out) == limit {
				continue
			}
			r, err := record(e)
			if err != nil {
				rs.Close()
				return nil, err
			}
			out = append(out, r)
		}
		rs.Close()
		if n < page || last == after {
			return out, nil // the end of the log
		}
		after = last
	}
	return out, nil
}

func (s *Store) Head(ctx context.Context) (uint64, error) {
	rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{From: esdb.End{}, Direction: esdb.Backwards}, 1000)
	if err != nil {
		return 0, fmt.Errorf("head: %w", err)
	}
	defer rs.Close()
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("head: %w", err)
		}
		if ev.Event != nil && !system(ev.Event) {
			return ev.Event.Position.Commit, nil
		}
	}
}

// Subscribe reads the log from after and then follows it. A KurrentDB
// subscription does not reconnect by itself: when one drops, this one
// subscribes again from the last position it yielded.
func (s *Store) Subscribe(ctx context.Context, after uint64) iter.Seq2[eventstore.Record, error] {
	return func(yield func(eventstore.Record, error) bool) {
		backoff := 100 * time.Millisecond
		for {
			sub, err := s.client.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: from(after), Filter: esdb.ExcludeSystemEventsFilter()})
			if err == nil {
				for {
					ev := sub.Recv()
					if ev.SubscriptionDropped != nil {
						break
					}
					if ev.EventAppeared == nil || ev.EventAppeared.Event == nil {
						continue
					}
					e := ev.EventAppeared.Event
					if e.Position.Commit <= after || system(e) {
						continue
					}
					r, err := record(e)
					if err != nil {
						sub.Close()
						yield(eventstore.Record{}, err)
						return
					}
					if !yield(r, nil) {
						sub.Close()
						return
					}
					after = r.Position
					backoff = 100 * time.Millisecond
				}
				sub.Close()
			}
			select {
			case <-ctx.Done():
				yield(eventstore.Record{}, ctx.Err())
				return
			case <-time.After(backoff):
				backoff = min(2*backoff, 5*time.Second)
			}
		}
	}
}

var _ eventstore.Store = (*Store)(nil)
