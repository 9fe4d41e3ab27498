package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/servicehall/servicehall/answers"
	"github.com/servicehall/servicehall/domain"
)

// The answers to creating POSTs sent with an Idempotency-Key are kept per
// caller and route in an answers.Store: a retry with the same key and body
// gets the first answer and writes nothing; the same key with another body
// is refused. With a SQLite or PostgreSQL store this holds across restarts
// and for every process sharing it. The key also fixes the new resource's
// id and its event ids, so a request whose process died before it answered
// is completed, not repeated, by its retry.

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
	caller := ""
	if w, ok := c.Get("who"); ok {
		caller = w.(Who).ID
	}
	scope := caller + "\x00" + c.Request.Method + "\x00" + c.Request.URL.Path + "\x00" + key
	id := sha256.Sum256([]byte(scope))
	fp := sha256.Sum256(append([]byte(scope+"\x00"), raw...))
	stored, fingerprint := hex.EncodeToString(id[:]), hex.EncodeToString(fp[:])
	ctx := c.Request.Context()
	a, claimed, err := s.answers.Claim(ctx, stored, fingerprint, s.now())
	if err != nil {
		problem(c, err)
		return
	}
	if !claimed {
		if a.Fingerprint != fingerprint {
			problem(c, invalid("Idempotency-Key", "used before with another body (该幂等键已用于不同的请求)"))
			return
		}
		if !a.Done() {
			if a, err = answers.Wait(ctx, s.answers, stored, 10*time.Second); errors.Is(err, answers.ErrInFlight) {
				err = fmt.Errorf("%w: a request with this Idempotency-Key is still under way, retry shortly (相同请求正在处理，请稍后重试)", domain.ErrState)
			}
			if err != nil {
				problem(c, err)
				return
			}
		}
		for k, v := range a.Header {
			c.Writer.Header()[k] = v
		}
		c.Header("Idempotent-Replayed", "true")
		c.Data(a.Status, a.Header.Get("Content-Type"), a.Body)
		c.Abort()
		return
	}
	c.Set("body", raw)
	c.Set("idempotency", scope)
	rec := &recorder{ResponseWriter: c.Writer}
	c.Writer = rec
	defer func() {
		// Recorded even if the caller has gone: its retry gets this answer.
		ctx := context.WithoutCancel(ctx)
		if rec.Status() >= 500 { // a failure is not an answer to replay
			err = s.answers.Forget(ctx, stored)
		} else {
			err = s.answers.Finish(ctx, stored, rec.Status(), rec.Header().Clone(), rec.buf.Bytes())
		}
		if err != nil {
			s.logger.Error("idempotency: record the answer", "error", err)
		}
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
