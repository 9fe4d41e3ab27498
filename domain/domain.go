// Package domain holds servicehall's rules: stations and their services,
// slots, residents' bookings, appointments, the day's queue and
// applications. It is pure: each aggregate decides events from a command and
// its state, and evolves its state from events. Time, ids and the calendar
// come in with the command.
package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/domain/idnumber"
)

// Kinds of refusal; the API maps each to one HTTP status.
var (
	ErrInvalid  = errors.New("invalid input")     // 422
	ErrNotFound = errors.New("not found")         // 404
	ErrState    = errors.New("not allowed now")   // 409: an illegal transition
	ErrFull     = errors.New("fully booked")      // 409
	ErrLimit    = errors.New("booking limit hit") // 409: fair-booking rules
)

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)
}

func illegal(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrState}, a...)...)
}

// Event is any of the event types registered below.
type Event any

// Aggregate is a state that evolves by events.
type Aggregate interface{ Apply(Event) }

// The log names each event by the name it was registered under, never by
// its Go type name, and each payload's keys are its fields' json tags: Go
// names can change, stored names cannot. A payload written under an older
// schema is brought up to date by its upcasters as it is read.
var (
	registry = map[string]reflect.Type{}
	names    = map[reflect.Type]string{}
	schemas  = map[string]int{}                            // each event's current schema version
	upcaster = map[string][]func([]byte) ([]byte, error){} // [v-1] reads version v into v+1
)

func register(events map[string]Event) {
	for name, e := range events {
		t := reflect.TypeOf(e)
		if _, dup := registry[name]; dup {
			panic("domain: event name registered twice: " + name)
		}
		registry[name], names[t], schemas[name] = t, name, 1
	}
}

// upcast registers the step that reads schema version from of event name
// into the next; the event's current version becomes from+1.
func upcast(name string, from int, step func([]byte) ([]byte, error)) {
	if from != len(upcaster[name])+1 {
		panic(fmt.Sprintf("domain: upcaster of %s from version %d registered out of order", name, from))
	}
	upcaster[name] = append(upcaster[name], step)
	schemas[name] = from + 1
}

// TypeOf names an event for the log.
func TypeOf(e Event) string {
	t := reflect.TypeOf(e)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return names[t]
}

// Schema is the version of event name's payload that Encode writes.
func Schema(name string) int { return schemas[name] }

// Encode gives an event's name and JSON payload.
func Encode(e Event) (string, []byte, error) {
	name := TypeOf(e)
	if name == "" {
		return "", nil, fmt.Errorf("encode: %T is not a registered event", e)
	}
	b, err := json.Marshal(e)
	return name, b, err
}

// Decode reads a stored event of the current schema back into its type (a
// value, not a pointer).
func Decode(name string, data []byte) (Event, error) {
	return DecodeSchema(name, schemas[name], data)
}

// DecodeSchema reads a stored event written under schema version, upcasting
// it first if it is older than the current one. Version 0 means 1: logs
// written before versions were kept.
func DecodeSchema(name string, version int, data []byte) (Event, error) {
	t, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("decode: unknown event type %q", name)
	}
	if version == 0 {
		version = 1
	}
	if version > schemas[name] {
		return nil, fmt.Errorf("decode %s: schema version %d is newer than this program's %d", name, version, schemas[name])
	}
	for v := version; v < schemas[name]; v++ {
		var err error
		if data, err = upcaster[name][v-1](data); err != nil {
			return nil, fmt.Errorf("decode %s: upcast from version %d: %w", name, v, err)
		}
	}
	p := reflect.New(t)
	if err := json.Unmarshal(data, p.Interface()); err != nil {
		return nil, fmt.Errorf("decode %s: %w", name, err)
	}
	return p.Elem().Interface(), nil
}

// EventTypes lists every registered event type name.
func EventTypes() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	return names
}

// Person is a resident as the log keeps them: a stable reference, masked
// forms for views, and the full details sealed with the resident's own key
// (so erasing the key erases them without rewriting history).
type Person struct {
	Ref    string `json:"ref"`
	Name   string `json:"name_masked"`
	ID     string `json:"id_masked"`
	Phone  string `json:"phone_masked"`
	Key    string `json:"key,omitempty"` // the vault's key that sealed it; none in older logs
	Sealed []byte `json:"sealed,omitempty"`
}

// Applicant is a resident's details as typed in, before they are checked.
type Applicant struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone"`
}

// Checked is an applicant whose details passed Check.
type Checked struct {
	Name  string
	ID    idnumber.Number
	Phone string
}

var mobile = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// CheckPhone refuses anything but a mainland mobile number.
func CheckPhone(phone string) error {
	if !mobile.MatchString(phone) {
		return &FieldError{"phone", invalid("a mainland mobile number of 11 digits (手机号码格式不正确)")}
	}
	return nil
}

// FieldError names the input field a refusal is about.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Check validates an applicant as of today: a name, an 18-digit ID number
// (GB 11643) and a mainland mobile number.
func (a Applicant) Check(today time.Time) (Checked, error) {
	var errs []error
	name := strings.TrimSpace(a.Name)
	if err := CheckName("name", name); err != nil {
		errs = append(errs, err)
	}
	id, err := idnumber.Parse(a.IDNumber, today)
	if err != nil {
		errs = append(errs, &FieldError{"id_number", fmt.Errorf("%w: %w", ErrInvalid, err)})
	}
	phone := strings.TrimSpace(a.Phone)
	if err := CheckPhone(phone); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return Checked{}, joinErrs(errs)
	}
	return Checked{Name: name, ID: id, Phone: phone}, nil
}

// MaskName keeps the first character: 张** .
func MaskName(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return ""
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}

// MaskPhone keeps the first three and last four digits: 138****5678.
func MaskPhone(s string) string { return idnumber.Mask(s) }

// Clock is a time of day in minutes after midnight, written HH:MM.
type Clock int

func ParseClock(s string) (Clock, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, invalid("time %q: want HH:MM (时间格式应为 HH:MM)", s)
	}
	return Clock(t.Hour()*60 + t.Minute()), nil
}

func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

func (c Clock) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

func (c *Clock) UnmarshalText(b []byte) error {
	v, err := ParseClock(string(b))
	*c = v
	return err
}

// On is the instant d at c in loc.
func (c Clock) On(d calendar.Date, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, int(c)/60, int(c)%60, 0, 0, loc)
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// CheckID accepts lower-case letters, digits and dashes, as stream names
// and URLs carry ids.
func CheckID(field, id string) error {
	if !idPattern.MatchString(id) {
		return &FieldError{field, invalid("an id of 1-40 lower-case letters, digits or dashes (编号只能包含小写字母、数字和连字符)")}
	}
	return nil
}

// CheckReason refuses a missing reason, and one CheckText refuses.
func CheckReason(reason string) error {
	if reason == "" {
		return &FieldError{"reason", invalid("a reason is required (请填写原因)")}
	}
	return CheckText("reason", reason)
}

// MaxText is the longest free text a decision or a rating may carry.
const MaxText = 500

// CheckText refuses free text longer than MaxText characters, or holding
// control characters (other than line breaks and tabs) or invisible
// formatting ones, such as the bidirectional overrides that make a text
// display other than it reads.
func CheckText(field, s string) error {
	if utf8.RuneCountInString(s) > MaxText {
		return &FieldError{field, invalid("at most %d characters (最多%d个字符)", MaxText, MaxText)}
	}
	return visible(field, s, "\n\t")
}

// CheckName refuses a name that is empty, longer than 50 characters, or
// holds control or invisible formatting characters.
func CheckName(field, s string) error {
	if n := utf8.RuneCountInString(strings.TrimSpace(s)); n == 0 || n > 50 {
		return &FieldError{field, invalid("1 to 50 characters (应为1-50个字符)")}
	}
	return visible(field, s, "")
}

func visible(field, s, allowed string) error {
	for _, r := range s {
		if (unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r)) && !strings.ContainsRune(allowed, r) {
			return &FieldError{field, invalid("control or invisible formatting character %U (含有不可见的控制字符)", r)}
		}
	}
	return nil
}
