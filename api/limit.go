package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// Buckets keeps token buckets where every process counts them (the
// PostgreSQL database they share).
type Buckets interface {
	Take(ctx context.Context, key string, every time.Duration, burst int, now time.Time) (bool, time.Duration, error)
}

// limiter spends tokens per key (a client address, a phone, a login): a
// key that asks too fast is told to come back later. In memory the last
// 100 000 keys are remembered; with shared buckets every process counts.
type limiter struct {
	name   string
	per    time.Duration
	shared Buckets
	mu     sync.Mutex
	burst  int
	keys   *lru.Cache[string, *rate.Limiter]
}

func newLimiter(name string, per time.Duration, burst int, shared Buckets) *limiter {
	keys, _ := lru.New[string, *rate.Limiter](100_000) // a positive size cannot fail
	return &limiter{name: name, per: per, shared: shared, burst: burst, keys: keys}
}

// allow takes a token for key, or says how long until one is free. A nil
// limiter allows everything (limits switched off); so does a shared store
// out of reach, rather than locking everyone out.
func (l *limiter) allow(ctx context.Context, key string, now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	if l.shared != nil {
		sum := sha256.Sum256([]byte(key)) // no phone or address stored
		ok, wait, err := l.shared.Take(ctx, l.name+"/"+hex.EncodeToString(sum[:16]), l.per, l.burst, now)
		return ok || err != nil, wait
	}
	l.mu.Lock()
	lim, ok := l.keys.Get(key)
	if !ok {
		lim = rate.NewLimiter(rate.Every(l.per), l.burst)
		l.keys.Add(key, lim)
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// limits are the abuse limits of the resident-facing and login endpoints.
type limits struct {
	otpByClient, otpByPhone, loginByClient, bookByResident *limiter
	// Guesses count per account (or phone) and client: the guesser is
	// slowed, the owner elsewhere is not.
	loginByAccountClient, verifyByPhoneClient *limiter
}

func defaultLimits(shared Buckets) limits {
	return limits{
		// An address may be a carrier's NAT with hundreds of residents
		// behind it: its limits leave them room. The tight limits are on
		// what an abuser cannot multiply cheaply: the phone, the account.
		otpByClient:    newLimiter("otpByClient", 200*time.Millisecond, 300, shared), // 300 at once, then five a second
		otpByPhone:     newLimiter("otpByPhone", time.Minute, 1, shared),             // one code a minute per phone
		loginByClient:  newLimiter("loginByClient", 100*time.Millisecond, 600, shared),
		bookByResident: newLimiter("bookByResident", 6*time.Second, 10, shared),

		loginByAccountClient: newLimiter("loginByAccountClient", time.Minute, 5, shared),
		verifyByPhoneClient:  newLimiter("verifyByPhoneClient", time.Minute, 5, shared),
	}
}

// tooMany answers 429 with Retry-After.
func tooMany(c *gin.Context, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	c.Header("Retry-After", strconv.Itoa(secs))
	write(c, Problem{Type: "/problems/too-many-requests", Title: "Too many requests; try again later (请求过于频繁，请稍后再试)",
		Status: http.StatusTooManyRequests, Detail: fmt.Sprintf("try again in %d s (请 %d 秒后再试)", secs, secs)})
}

// limit is a middleware spending one token of l per request, keyed by key.
func (s *Server) limit(l *limiter, key func(*gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if ok, wait := l.allow(c.Request.Context(), key(c), s.now()); !ok {
			tooMany(c, wait)
		}
	}
}

func byClient(c *gin.Context) string { return c.ClientIP() }

func byCaller(c *gin.Context) string {
	if w, ok := c.Get("who"); ok {
		return w.(Who).ID
	}
	return c.ClientIP()
}
