package command_test

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/eventstore"
)

// Passwords: ten characters or more, at most the 72 bytes bcrypt reads, and
// not common or easy to guess.
func TestPasswords(t *testing.T) {
	hl := stationed(t, openStore(t))
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
			hl = stationed(t, openStore(t))
		}
	}
}

// A password's hash never enters the log, nor a changed one: the log names
// a credential; the hash is in the password store.
func TestPasswordHashesStayOutOfTheLog(t *testing.T) {
	store := openStore(t)
	hl := stationed(t, store)
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

// stationed is a hall with the station gulou, which its staff belong to.
func stationed(t *testing.T, store eventstore.Store) *command.Hall {
	t.Helper()
	hl := hall(t, store)
	if _, err := hl.RegisterStation(ctx, domain.StationRegistered{ID: "gulou", Name: "鼓楼派出所"}, staff); err != nil {
		t.Fatal(err)
	}
	return hl
}

// A login belongs to a station that exists; the admin to none.
func TestUsersBelongToStationsThatExist(t *testing.T) {
	hl := stationed(t, openStore(t))
	if _, err := hl.CreateUser(ctx, "ghost.staff", "counter-pass-9", domain.RoleStaff, "nosuch", staff); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("staff of a station that does not exist: %v", err)
	}
	if _, err := hl.CreateUser(ctx, "odd.admin", "admin-pass-99", domain.RoleAdmin, "gulou", staff); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("an admin of a station: %v", err)
	}
	if _, err := hl.CreateUser(ctx, "li.wei", "counter-pass-1", domain.RoleStaff, "gulou", staff); err != nil {
		t.Errorf("staff of gulou: %v", err)
	}
}
