package command

import (
	"context"
	"crypto/rand"
	"fmt"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"golang.org/x/crypto/bcrypt"

	"github.com/servicehall/servicehall/domain"
)

// CreateUser registers a login. The password's bcrypt hash goes to the
// password store under a new credential id; the log records the user and
// that id, never the hash.
func (hl *Hall) CreateUser(ctx context.Context, name, password, role, station string, m Meta) (Result, error) {
	if err := checkPassword(name, password); err != nil {
		return Result{}, err
	}
	if station != "" && domain.CheckID("station_id", station) == nil {
		st, _, err := Load[domain.Station](ctx, hl.h.Store(), domain.StationStream(station))
		if err != nil {
			return Result{}, err
		}
		if !st.Registered() {
			return Result{}, &domain.FieldError{Field: "station_id", Err: fmt.Errorf("%w: no station %q (派出所不存在)", domain.ErrInvalid, station)}
		}
	}
	credential, err := hl.credential(ctx, password)
	if err != nil {
		return Result{}, err
	}
	return Execute(ctx, hl.h, domain.UserStream(name), m, func(u *domain.User) ([]domain.Event, error) {
		return u.Create(name, role, station, credential)
	})
}

// UserChange is what an admin changes of a login: either or both.
type UserChange struct {
	Disabled *bool   `json:"disabled,omitempty" description:"true stops the user's logins and tokens at once; false lets them log in again"`
	Password *string `json:"password,omitempty" description:"a new password: the user's earlier tokens stop working"`
}

// ChangeUser disables or enables a login, or sets its password, as one
// write; the user's tokens issued before stop working.
func (hl *Hall) ChangeUser(ctx context.Context, name string, c UserChange, m Meta) (Result, error) {
	if c.Disabled == nil && c.Password == nil {
		return Result{}, &domain.FieldError{Field: "body", Err: fmt.Errorf("%w: give disabled or password (请提供 disabled 或 password)", domain.ErrInvalid)}
	}
	var credential string
	if c.Password != nil {
		if err := checkPassword(name, *c.Password); err != nil {
			return Result{}, err
		}
		var err error
		if credential, err = hl.credential(ctx, *c.Password); err != nil {
			return Result{}, err
		}
	}
	return Execute(ctx, hl.h, domain.UserStream(name), m, func(u *domain.User) ([]domain.Event, error) {
		var out []domain.Event
		if credential != "" {
			evs, err := u.ChangePassword(m.Actor.ID, credential, m.At)
			if err != nil {
				return nil, err
			}
			out = append(out, evs...)
		}
		if c.Disabled != nil {
			change := u.Enable
			if *c.Disabled {
				change = u.Disable
			}
			evs, err := change(m.Actor.ID, m.At)
			if err != nil {
				return nil, err
			}
			out = append(out, evs...)
		}
		return out, nil
	})
}

// credential stores a password's hash under a new id. An id no event came
// to name (the write refused) is never read.
func (hl *Hall) credential(ctx context.Context, password string) (string, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	id := "cred-" + rand.Text()
	if err := hl.passwords.Set(ctx, id, hash); err != nil {
		return "", err
	}
	return id, nil
}

// PasswordHash is the hash of a login's password: from the password store,
// or from the event of older logs.
func (hl *Hall) PasswordHash(ctx context.Context, u *domain.User) ([]byte, error) {
	if u.Credential == "" {
		return []byte(u.PasswordHash), nil
	}
	hash, ok, err := hl.passwords.Get(ctx, u.Credential)
	if err == nil && !ok {
		err = fmt.Errorf("the password of %s is missing from the password store", u.Username)
	}
	return hash, err
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
