package api

import (
	"bytes"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
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

// A token names its key: a server knowing the key verifies it, a server
// rotated past all its keys refuses it, and one that meets a key rotated
// in elsewhere reads its keys again and verifies it.
func TestTokenKeysRotate(t *testing.T) {
	older, newer := bytes.Repeat([]byte("o"), 32), bytes.Repeat([]byte("n"), 32)
	server := func(keys [][]byte, reload func() ([][]byte, error)) *Server {
		ring, err := newKeyring(keys, reload)
		if err != nil {
			t.Fatal(err)
		}
		return &Server{tokens: ring, now: time.Now}
	}
	valid := func(s *Server, tok string) bool {
		var cl claims
		_, err := jwt.ParseWithClaims(tok, &cl, s.tokens.verifier, jwt.WithValidMethods([]string{"HS256"}))
		return err == nil
	}
	tok, err := server([][]byte{older}, nil).token(Who{ID: "li.wei", Role: "staff", Station: "gulou"})
	if err != nil {
		t.Fatal(err)
	}
	if !valid(server([][]byte{newer, older}, nil), tok) {
		t.Error("a token of the previous key was refused after a rotation")
	}
	if valid(server([][]byte{newer}, nil), tok) {
		t.Error("a token of a key no longer listed was accepted")
	}
	fresh, _ := server([][]byte{newer, older}, nil).token(Who{ID: "li.wei", Role: "staff"})
	behind := server([][]byte{older}, func() ([][]byte, error) { return [][]byte{newer, older}, nil })
	if !valid(behind, fresh) {
		t.Error("a server did not take up a key rotated in elsewhere")
	}
}
