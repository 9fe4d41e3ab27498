package command

import (
	"context"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/servicehall/servicehall/domain"
)

// CreateUser registers a login, keeping only a bcrypt hash of its password.
func (hl *Hall) CreateUser(ctx context.Context, name, password, role, station string, m Meta) (Result, error) {
	if n := len([]rune(password)); n < 8 || n > 72 {
		return Result{}, &domain.FieldError{Field: "password", Err: fmt.Errorf("%w: 8 to 72 characters (密码应为8-72个字符)", domain.ErrInvalid)}
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return Result{}, fmt.Errorf("hash password: %w", err)
	}
	return Execute(ctx, hl.h, domain.UserStream(name), m, func(u *domain.User) ([]domain.Event, error) {
		return u.Create(name, role, station, string(hash))
	})
}
