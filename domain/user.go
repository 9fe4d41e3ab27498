package domain

import (
	"fmt"
	"regexp"
)

// Roles of people who log in with a password; residents log in by phone.
const (
	RoleStaff    = "staff"
	RoleManager  = "manager"
	RoleAdmin    = "admin"
	RoleKiosk    = "kiosk" // the hall's self-service device
	RoleResident = "resident"
	RoleSystem   = "system"
)

// UserCreated registers a login (stream "user-{username}"). The password
// is kept only as a hash made outside the domain.
type UserCreated struct {
	Username     string `json:"Username"`
	Role         string `json:"Role"`
	StationID    string `json:"StationID"`
	PasswordHash string `json:"PasswordHash"`
}

// User is one login.
type User struct{ UserCreated }

func (u *User) Apply(e Event) {
	if e, ok := e.(UserCreated); ok {
		u.UserCreated = e
	}
}

func (u *User) Exists() bool { return u.Username != "" }

var username = regexp.MustCompile(`^[a-z][a-z0-9._-]{2,31}$`)

// Create registers a user; staff and kiosks belong to a station, managers
// may (a manager without one oversees every station: a bureau, 分局).
func (u *User) Create(name, role, station, hash string) ([]Event, error) {
	var errs []error
	if !username.MatchString(name) {
		errs = append(errs, &FieldError{"username", invalid("3-32 lower-case letters, digits, dots, dashes or underscores, starting with a letter (用户名格式不正确)")})
	}
	switch role {
	case RoleStaff, RoleKiosk:
		if station == "" {
			errs = append(errs, &FieldError{"station_id", invalid("staff and kiosks belong to a station (窗口人员和自助机须指定派出所)")})
		}
	case RoleManager, RoleAdmin:
	default:
		errs = append(errs, &FieldError{"role", invalid("staff, kiosk, manager or admin (角色应为 staff、kiosk、manager 或 admin)")})
	}
	if station != "" {
		if err := CheckID("station_id", station); err != nil {
			errs = append(errs, err)
		}
	}
	if err := joinErrs(errs); err != nil {
		return nil, err
	}
	if u.Exists() {
		return nil, illegal("user %s exists (用户已存在)", name)
	}
	if hash == "" {
		return nil, fmt.Errorf("create user %s: no password hash", name)
	}
	return []Event{UserCreated{name, role, station, hash}}, nil
}

func init() {
	register(map[string]Event{
		"UserCreated": UserCreated{},
	})
}
