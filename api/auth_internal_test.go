package api

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// An unknown username is compared against a hash of the real hashes' cost,
// so that the time of a failed login does not tell whether the user exists.
func TestUnknownUsersCostARealCompare(t *testing.T) {
	cost, err := bcrypt.Cost(dummyHash())
	if err != nil || cost != bcrypt.DefaultCost {
		t.Fatalf("the dummy hash costs %d (%v), the real ones %d", cost, err, bcrypt.DefaultCost)
	}
}
