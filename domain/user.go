package domain

import (
	"fmt"
	"regexp"
	"time"
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

// Events of a login (stream "user-{username}"). A password is named by an
// opaque credential id; its hash is kept outside the log (older logs
// carry the hash in UserCreated).
type (
	UserCreated struct {
		Username     string `json:"Username"`
		Role         string `json:"Role"`
		StationID    string `json:"StationID"`
		Credential   string `json:"Credential,omitempty"`
		PasswordHash string `json:"PasswordHash,omitempty"` // older logs only
	}
	// PasswordChanged voids the tokens issued before At.
	PasswordChanged struct {
		By         string    `json:"By"`
		At         time.Time `json:"At"`
		Credential string    `json:"Credential"`
	}
	UserDisabled struct {
		By string    `json:"By"`
		At time.Time `json:"At"`
	}
	UserEnabled struct {
		By string    `json:"By"`
		At time.Time `json:"At"`
	}
)

// User is one login.
type User struct {
	UserCreated
	Disabled   bool
	ValidAfter time.Time // tokens issued before are void
}

func (u *User) Apply(e Event) {
	switch e := e.(type) {
	case UserCreated:
		u.UserCreated = e
	case PasswordChanged:
		u.Credential, u.PasswordHash, u.ValidAfter = e.Credential, "", e.At
	case UserDisabled:
		u.Disabled, u.ValidAfter = true, e.At
	case UserEnabled:
		u.Disabled = false
	}
}

// Admits says whether a token issued at iat (to the second, as tokens
// carry it) still speaks for the user.
func (u *User) Admits(iat time.Time) bool {
	return u.Exists() && !u.Disabled && !iat.Before(u.ValidAfter.Truncate(time.Second))
}

// ChangePassword names a new credential; the tokens issued before now stop
// working.
func (u *User) ChangePassword(by, credential string, now time.Time) ([]Event, error) {
	if !u.Exists() {
		return nil, fmt.Errorf("%w: user (用户不存在)", ErrNotFound)
	}
	if credential == "" {
		return nil, fmt.Errorf("change password of %s: no credential", u.Username)
	}
	return []Event{PasswordChanged{by, now, credential}}, nil
}

// Disable stops the user's logins and tokens at once; Enable lets them log
// in again (old tokens stay void).
func (u *User) Disable(by string, now time.Time) ([]Event, error) {
	switch {
	case !u.Exists():
		return nil, fmt.Errorf("%w: user (用户不存在)", ErrNotFound)
	case u.Disabled:
		return nil, nil
	case by == u.Username:
		return nil, &FieldError{"disabled", invalid("you cannot disable yourself (不能停用自己的账号)")}
	}
	return []Event{UserDisabled{by, now}}, nil
}

func (u *User) Enable(by string, now time.Time) ([]Event, error) {
	switch {
	case !u.Exists():
		return nil, fmt.Errorf("%w: user (用户不存在)", ErrNotFound)
	case !u.Disabled:
		return nil, nil
	}
	return []Event{UserEnabled{by, now}}, nil
}

func (u *User) Exists() bool { return u.Username != "" }

var username = regexp.MustCompile(`^[a-z][a-z0-9._-]{2,31}$`)

// Create registers a user; staff and kiosks belong to a station, managers
// may (a manager without one oversees every station: a bureau, 分局).
func (u *User) Create(name, role, station, credential string) ([]Event, error) {
	var errs []error
	if !username.MatchString(name) {
		errs = append(errs, &FieldError{"username", invalid("3-32 lower-case letters, digits, dots, dashes or underscores, starting with a letter (用户名格式不正确)")})
	}
	switch role {
	case RoleStaff, RoleKiosk:
		if station == "" {
			errs = append(errs, &FieldError{"station_id", invalid("staff and kiosks belong to a station (窗口人员和自助机须指定派出所)")})
		}
	case RoleManager:
	case RoleAdmin:
		if station != "" {
			errs = append(errs, &FieldError{"station_id", invalid("the admin is no station's (管理员不属于派出所)")})
		}
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
	if credential == "" {
		return nil, fmt.Errorf("create user %s: no credential", name)
	}
	return []Event{UserCreated{Username: name, Role: role, StationID: station, Credential: credential}}, nil
}

func init() {
	register(map[string]Event{
		"UserCreated":     UserCreated{},
		"PasswordChanged": PasswordChanged{},
		"UserDisabled":    UserDisabled{},
		"UserEnabled":     UserEnabled{},
	})
}
