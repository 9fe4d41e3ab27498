package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/servicehall/servicehall/domain"
)

// config is the contract's configuration: environment first, then flags of
// the same name.
type config struct {
	Addr           string
	Data           string
	EventStore     string
	ReadModels     string
	Bus            string
	BusTopic       string
	TZ             string
	AdminPassword  string
	DemoOTP        bool
	ReleaseHorizon int
	ReleaseAt      string
	RateLimits     bool
	TrustedProxies string // comma-separated addresses or CIDRs
	PublicURL      string // where phones reach the server, for the tickets' QR codes
	SMSWebhook     string
	WarnDays       int // working days left when an application is warned
	EscalateAfter  int // working days past the deadline before the second escalation
	CancelCutoff   int // minutes before a slot's start after which a cancellation is a no-show
	CheckInEarly   int // minutes before a slot's start check-in opens
	CheckInLate    int // minutes after a slot's start check-in closes
	TurnAhead      int // tickets ahead when a checked-in resident is told their turn is coming

	loc *time.Location
}

func env(name, def string) string {
	if v, ok := os.LookupEnv("SERVICEHALL_" + name); ok {
		return v
	}
	return def
}

// flags registers the configuration on fs with defaults from the environment.
func (c *config) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", env("ADDR", "127.0.0.1:8080"), "listen address (SERVICEHALL_ADDR)")
	fs.StringVar(&c.Data, "data", env("DATA", "./data"), "folder of the embedded store and read models (SERVICEHALL_DATA)")
	fs.StringVar(&c.EventStore, "eventstore", env("EVENTSTORE", "sqlite"), "sqlite, or a KurrentDB connection string esdb://… (SERVICEHALL_EVENTSTORE)")
	fs.StringVar(&c.ReadModels, "readmodels", env("READMODELS", "sqlite"), "sqlite, or a PostgreSQL URL (SERVICEHALL_READMODELS)")
	fs.StringVar(&c.Bus, "bus", env("BUS", "gochannel"), "gochannel, or a NATS URL (SERVICEHALL_BUS)")
	fs.StringVar(&c.BusTopic, "bus-topic", env("BUS_TOPIC", "servicehall_events"), "the NATS JetStream stream the log goes through: one per deployment sharing a NATS server (SERVICEHALL_BUS_TOPIC)")
	fs.StringVar(&c.TZ, "tz", env("TZ", "Asia/Shanghai"), "the stations' time zone (SERVICEHALL_TZ)")
	fs.StringVar(&c.AdminPassword, "admin-password", env("ADMIN_PASSWORD", ""), "the admin user's password on first start (SERVICEHALL_ADMIN_PASSWORD)")
	otp, _ := strconv.ParseBool(env("DEMO_OTP", "0"))
	fs.BoolVar(&c.DemoOTP, "demo-otp", otp, "return resident one-time codes in responses (SERVICEHALL_DEMO_OTP; demo and tests only)")
	horizon, _ := strconv.Atoi(env("RELEASE_HORIZON_DAYS", "14"))
	fs.IntVar(&c.ReleaseHorizon, "release-horizon-days", horizon, "days ahead slots are released (SERVICEHALL_RELEASE_HORIZON_DAYS)")
	limits, _ := strconv.ParseBool(env("RATE_LIMITS", "1"))
	fs.BoolVar(&c.RateLimits, "rate-limits", limits, "limit codes, logins and bookings per client (SERVICEHALL_RATE_LIMITS; off for load tests from one address)")
	fs.StringVar(&c.PublicURL, "public-url", env("PUBLIC_URL", ""), "where residents' phones reach this server (https://hall.example), for the printed tickets' QR codes; empty: the address the kiosk used (SERVICEHALL_PUBLIC_URL)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", env("TRUSTED_PROXIES", ""), "comma-separated addresses or CIDRs whose X-Forwarded-For and X-Real-IP are believed; from anyone else they are ignored (SERVICEHALL_TRUSTED_PROXIES)")
	fs.StringVar(&c.SMSWebhook, "sms-webhook", env("SMS_WEBHOOK", ""), "URL that login codes and reminders are POSTed to as JSON {phone, text}: a real SMS gateway (SERVICEHALL_SMS_WEBHOOK)")
	warn, _ := strconv.Atoi(env("WARN_DAYS", "1"))
	fs.IntVar(&c.WarnDays, "warn-days", warn, "warn an application with this many working days left (SERVICEHALL_WARN_DAYS)")
	after, _ := strconv.Atoi(env("ESCALATE_AFTER_DAYS", "3"))
	fs.IntVar(&c.EscalateAfter, "escalate-after-days", after, "escalate one level higher this many working days past the deadline (SERVICEHALL_ESCALATE_AFTER_DAYS)")
	cutoff, _ := strconv.Atoi(env("CANCEL_CUTOFF_MINUTES", "0"))
	fs.IntVar(&c.CancelCutoff, "cancel-cutoff-minutes", cutoff, "minutes before a slot's start after which a cancellation counts as a no-show (SERVICEHALL_CANCEL_CUTOFF_MINUTES)")
	early, _ := strconv.Atoi(env("CHECKIN_EARLY_MINUTES", "60"))
	fs.IntVar(&c.CheckInEarly, "checkin-early-minutes", early, "minutes before a slot's start check-in opens (SERVICEHALL_CHECKIN_EARLY_MINUTES)")
	late, _ := strconv.Atoi(env("CHECKIN_LATE_MINUTES", "15"))
	fs.IntVar(&c.CheckInLate, "checkin-late-minutes", late, "minutes after a slot's start check-in closes (SERVICEHALL_CHECKIN_LATE_MINUTES)")
	ahead, _ := strconv.Atoi(env("TURN_NOTICE_AHEAD", "3"))
	fs.IntVar(&c.TurnAhead, "turn-notice-ahead", ahead, "tickets ahead when a checked-in resident is texted that their turn is coming (SERVICEHALL_TURN_NOTICE_AHEAD)")
	fs.StringVar(&c.ReleaseAt, "release-at", env("RELEASE_AT", "08:00"), "the daily slot release time, HH:MM (SERVICEHALL_RELEASE_AT)")
}

// policy is the booking policy with the configured cut-off and window.
func (c *config) policy() domain.Policy {
	p := domain.DefaultPolicy
	p.CancelCutoff = time.Duration(c.CancelCutoff) * time.Minute
	p.CheckInEarly = time.Duration(c.CheckInEarly) * time.Minute
	p.CheckInLate = time.Duration(c.CheckInLate) * time.Minute
	return p
}

// trustedProxies splits SERVICEHALL_TRUSTED_PROXIES.
func (c *config) trustedProxies() []string {
	var out []string
	for p := range strings.SplitSeq(c.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c *config) check() error {
	loc, err := time.LoadLocation(c.TZ)
	if err != nil {
		return fmt.Errorf("SERVICEHALL_TZ %q: %w", c.TZ, err)
	}
	c.loc = loc
	if c.WarnDays < 0 || c.WarnDays > 30 || c.EscalateAfter < 1 || c.EscalateAfter > 60 {
		return fmt.Errorf("SERVICEHALL_WARN_DAYS %d, SERVICEHALL_ESCALATE_AFTER_DAYS %d: want 0..30 and 1..60", c.WarnDays, c.EscalateAfter)
	}
	if c.CancelCutoff < 0 || c.CancelCutoff > 7*24*60 || c.CheckInEarly < 0 || c.CheckInEarly > 24*60 || c.CheckInLate < 0 || c.CheckInLate > 24*60 {
		return fmt.Errorf("SERVICEHALL_CANCEL_CUTOFF_MINUTES %d, SERVICEHALL_CHECKIN_EARLY_MINUTES %d, SERVICEHALL_CHECKIN_LATE_MINUTES %d: want 0..10080, 0..1440 and 0..1440",
			c.CancelCutoff, c.CheckInEarly, c.CheckInLate)
	}
	if c.TurnAhead < 1 || c.TurnAhead > 50 {
		return fmt.Errorf("SERVICEHALL_TURN_NOTICE_AHEAD %d: want 1..50", c.TurnAhead)
	}
	if c.ReleaseHorizon < 1 || c.ReleaseHorizon > 366 {
		return fmt.Errorf("SERVICEHALL_RELEASE_HORIZON_DAYS %d: want 1..366", c.ReleaseHorizon)
	}
	return nil
}

// parse reads the configuration and the command's own flags from args and
// returns the positional arguments, which may stand before or after the
// flags ("bench append --json").
func parse(name string, args []string, stderr io.Writer, own func(*flag.FlagSet)) (*config, []string, error) {
	fs := flag.NewFlagSet("servicehall "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{}
	c.flags(fs)
	if own != nil {
		own(fs)
	}
	var pos []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		pos, args = append(pos, args[0]), args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if err := c.check(); err != nil {
		return nil, nil, err
	}
	return c, append(pos, fs.Args()...), nil
}

func (c *config) eventStorePath() string { return filepath.Join(c.Data, "events.db") }

func (c *config) escalation() domain.Escalation {
	return domain.Escalation{WarnAt: c.WarnDays, SecondAfter: c.EscalateAfter}
}
