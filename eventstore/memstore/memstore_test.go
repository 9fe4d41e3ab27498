package memstore_test

import (
	"testing"

	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/eventstore/conformance"
	"github.com/servicehall/servicehall/eventstore/memstore"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Adapter{
		Open: func(t *testing.T) eventstore.Store { return memstore.New() },
		// Memory does not survive a restart: reopening keeps the same log.
		Reopen: func(t *testing.T, s eventstore.Store) eventstore.Store { return s },
	})
}
