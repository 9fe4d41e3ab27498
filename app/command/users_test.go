package command_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"golang.org/x/crypto/bcrypt"
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

// A password's hash never enters the log, nor a changed one: the log names
// a credential; the hash is in the password store.
func TestPasswordHashesStayOutOfTheLog(t *testing.T) {
	store := openStore(t)
	hl := hall(t, store)
	if _, err := hl.CreateUser(ctx, "li.wei", "counter-pass-1", domain.RoleStaff, "gulou", staff); err != nil {
		t.Fatal(err)
	}
	password := "new-counter-pass-9"
	if _, err := hl.ChangeUser(ctx, "li.wei", command.UserChange{Password: &password}, staff); err != nil {
		t.Fatal(err)
	}
	recs, err := store.ReadStream(ctx, domain.UserStream("li.wei"), 0)
	if err != nil || len(recs) != 2 {
		t.Fatalf("user stream: %d events, %v", len(recs), err)
	}
	for _, r := range recs {
		if strings.Contains(string(r.Data), "$2a$") || strings.Contains(string(r.Data), "$2b$") {
			t.Fatalf("%s carries a hash: %s", r.Type, r.Data)
		}
	}
	u, _, err := command.Load[domain.User](ctx, store, domain.UserStream("li.wei"))
	if err != nil {
		t.Fatal(err)
	}
	hash, err := hl.PasswordHash(ctx, u)
	if err != nil || bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
		t.Fatalf("the store's hash does not match the new password: %v", err)
	}
}
