package kurrentdb_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/eventstore/conformance"
	"github.com/servicehall/servicehall/eventstore/kurrentdb"
)

// The suite needs a server; none can be installed on the project's machines,
// so it runs where SERVICEHALL_TEST_KURRENTDB names one
// (esdb://localhost:2113?tls=false).
func TestConformance(t *testing.T) {
	conn := os.Getenv("SERVICEHALL_TEST_KURRENTDB")
	if conn == "" {
		t.Skip("SERVICEHALL_TEST_KURRENTDB is not set: no KurrentDB server to test against")
	}
	open := func(t *testing.T) eventstore.Store {
		s, err := kurrentdb.Open(conn)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	conformance.Run(t, conformance.Adapter{
		Open: open,
		Reopen: func(t *testing.T, s eventstore.Store) eventstore.Store {
			s.Close()
			return open(t)
		},
	})
}

func TestIsURL(t *testing.T) {
	for v, want := range map[string]bool{
		"esdb://localhost:2113": true, "esdb+discover://cluster:2113": true, "kurrentdb://localhost:2113": true,
		"sqlite": false, "postgres://x": false, "": false,
	} {
		if got := kurrentdb.IsURL(v); got != want {
			t.Errorf("IsURL(%q) = %v", v, got)
		}
	}
}

func TestOpenRefusesBadConnectionStrings(t *testing.T) {
	if _, err := kurrentdb.Open("esdb://"); err == nil {
		t.Error("opened esdb:// with no host")
	}
}

// With no server behind the address, calls fail within their context
// instead of hanging.
func TestUnreachableServerFailsInTime(t *testing.T) {
	s, err := kurrentdb.Open("esdb://127.0.0.1:1?tls=false")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err = s.Append(ctx, "x", eventstore.Any, eventstore.Event{ID: uuid.New(), Type: "X", Data: []byte(`{}`)})
	if err == nil {
		t.Fatal("append to nothing succeeded")
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("append took %v to fail", time.Since(start))
	}
}
