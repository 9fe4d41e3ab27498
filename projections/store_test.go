package projections_test

import (
	"testing"

	"github.com/servicehall/servicehall/projections"
	"github.com/servicehall/servicehall/projections/viewtest"
)

func TestMemoryConformance(t *testing.T) {
	viewtest.Run(t, func(*testing.T) projections.Store { return projections.NewMemory() }, nil)
}
