package command_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/servicehall/servicehall/domain"
)

// Passwords: ten characters or more, at most the 72 bytes bcrypt reads, and
// not common or easy to guess.
func TestPasswords(t *testing.T) {
	hl := hall(t, openStore(t))
	for _, c := range []struct {
		password string
		ok       bool
	}{
		{"counter-pass-1", true},
		{"short-pw1", false},             // nine characters
		{"password123", false},           // common
		{"qwertyuiop", false},            // a keyboard row
		{"iloveyou12", false},            // a common phrase
		{strings.Repeat("密", 25), false}, // 25 characters, 75 bytes
		{strings.Repeat("密", 24), true},  // 72 bytes
	} {
		_, err := hl.CreateUser(ctx, "li.wei", c.password, domain.RoleStaff, "gulou", staff)
		if got := err == nil; got != c.ok || (err != nil && !errors.Is(err, domain.ErrInvalid)) {
			t.Errorf("password %q: %v, want accepted %v", c.password, err, c.ok)
		}
		if err == nil { // a second user of the same name is refused: start again
			hl = hall(t, openStore(t))
		}
	}
}
