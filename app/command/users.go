package command

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"golang.org/x/crypto/bcrypt"

	"github.com/servicehall/servicehall/domain"
)

// CreateUser registers a login, keeping only a bcrypt hash of its password.
func (hl *Hall) CreateUser(ctx context.Context, name, password, role, station string, m Meta) (Result, error) {
	if err := checkPassword(name, password); err != nil {
		return Result{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return Result{}, fmt.Errorf("hash password: %w", err)
	}
	return Execute(ctx, hl.h, domain.UserStream(name), m, func(u *domain.User) ([]domain.Event, error) {
		return u.Create(name, role, station, string(hash))
	})
}

// checkPassword refuses a password shorter than 10 characters, longer than
// the 72 bytes bcrypt reads, or easy to guess: zxcvbn's score under 3
// (about 10^8 guesses), counting the username and common words.
func checkPassword(name, password string) error {
	invalid := func(why string) error {
		return &domain.FieldError{Field: "password", Err: fmt.Errorf("%w: %s", domain.ErrInvalid, why)}
	}
	switch {
	case utf8.RuneCountInString(password) < 10:
		return invalid("at least 10 characters (密码至少10个字符)")
	case len(password) > 72:
		return invalid("at most 72 bytes, as bcrypt reads them (密码最长72字节)")
	case zxcvbn.PasswordStrength(password, []string{name, "servicehall"}).Score < 3:
		return invalid("too common or too easy to guess (密码过于常见或简单)")
	}
	return nil
}
