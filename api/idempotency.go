package api

import (
	"bytes"
	"crypto/sha256"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"
)

// idempotency remembers the answers to creating POSTs sent with an
// Idempotency-Key, per caller: a retry with the same key and body gets the
// first answer and writes nothing; the same key with another body is
// refused. Answers are kept in this process, the last 100 000 for 24
// hours. The key also fixes the new resource's id and its event ids, so a
// retry that reaches another process after a restart lands on the same
// stream with the same events, which the store writes once.
type idempotency struct {
	mu      sync.Mutex
	answers *lru.Cache[string, *answer]
}

type answer struct {
	done   chan struct{} // closed when the first request has answered
	body   [32]byte      // the request body's hash
	at     time.Time
	status int
	header http.Header
	out    []byte
}

const idempotencyTTL = 24 * time.Hour

func newIdempotency() *idempotency {
	c, _ := lru.New[string, *answer](100_000) // a positive size cannot fail
	return &idempotency{answers: c}
}

// recorder keeps a copy of what a handler writes.
type recorder struct {
	gin.ResponseWriter
	buf bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}

// idempotent is the middleware of the creating POSTs; it runs after the
// role check, so the caller is known.
func (s *Server) idempotent(c *gin.Context) {
	key := c.GetHeader("Idempotency-Key")
	if key == "" {
		return
	}
	if len(key) > 200 {
		problem(c, invalid("Idempotency-Key", "at most 200 characters (幂等键过长)"))
		return
	}
	raw, err := readBody(c)
	if err != nil {
		problem(c, err)
		return
	}
	scope := c.FullPath() + "\x00" + key
	if w, ok := c.Get("who"); ok {
		scope = w.(Who).ID + "\x00" + scope
	}
	sum := sha256.Sum256(raw)
	now := time.Now()
	s.idem.mu.Lock()
	a, seen := s.idem.answers.Get(scope)
	if seen && now.Sub(a.at) > idempotencyTTL {
		seen = false
	}
	if !seen {
		a = &answer{done: make(chan struct{}), body: sum, at: now}
		s.idem.answers.Add(scope, a)
	}
	s.idem.mu.Unlock()

	if seen {
		if a.body != sum {
			problem(c, invalid("Idempotency-Key", "used before with another body (该幂等键已用于不同的请求)"))
			return
		}
		select {
		case <-a.done:
		case <-c.Request.Context().Done():
			return
		}
		for k, v := range a.header {
			c.Writer.Header()[k] = v
		}
		c.Header("Idempotent-Replayed", "true")
		c.Data(a.status, a.header.Get("Content-Type"), a.out)
		c.Abort()
		return
	}
	c.Set("body", raw)
	c.Set("idempotency", scope)
	rec := &recorder{ResponseWriter: c.Writer}
	c.Writer = rec
	defer func() {
		a.status, a.header, a.out = rec.Status(), rec.Header().Clone(), rec.buf.Bytes()
		if a.status >= 500 { // a failure is not an answer to replay
			s.idem.mu.Lock()
			s.idem.answers.Remove(scope)
			s.idem.mu.Unlock()
		}
		close(a.done)
	}()
	c.Next()
}

// newID is the id of a resource a POST creates: fixed by the request's
// Idempotency-Key when it has one, else random.
func newID(c *gin.Context) string {
	if scope, ok := c.Get("idempotency"); ok {
		return uuid.NewSHA1(uuid.NameSpaceURL, []byte("servicehall-idempotency\x00"+scope.(string))).String()
	}
	return uuid.NewString()
}
