package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
)

// tokenTTL is how long a login lasts.
const tokenTTL = 12 * time.Hour

// claims are what a token says about its holder.
type claims struct {
	Role    string `json:"role"`
	Station string `json:"station_id,omitempty"`
	jwt.RegisteredClaims
}

// Who is the authenticated caller.
type Who struct {
	ID, Role, Station string
}

func (w Who) actor() command.Actor { return command.Actor{ID: w.ID, Role: w.Role} }

// reaches is the one access rule for objects: a resident reaches what
// their login owns; the admin and a bureau manager (a manager without a
// station, 分局) reach every station's; anyone else only their own
// station's. Whoever is not reached is told the object does not exist, so
// that ids cannot be probed.
func (w Who) reaches(owner, station string) bool {
	switch {
	case w.Role == domain.RoleResident:
		return owner == w.ID
	case w.Role == domain.RoleAdmin:
		return true
	case w.Station == "":
		return w.Role == domain.RoleManager
	}
	return station == w.Station
}

// ownStation admits a caller who reaches station; anyone else is told it
// does not exist.
func ownStation(c *gin.Context, station string) bool {
	if w := who(c); w.Role == domain.RoleResident || !w.reaches("", station) {
		problem(c, fmt.Errorf("%w: station %q (派出所不存在)", domain.ErrNotFound, station))
		return false
	}
	return true
}

func (s *Server) token(w Who) (string, error) {
	now := s.now()
	key, id := s.tokens.signer()
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims{Role: w.Role, Station: w.Station, RegisteredClaims: jwt.RegisteredClaims{
		Subject: w.ID, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(tokenTTL)), Issuer: "servicehall",
	}})
	t.Header["kid"] = id
	return t.SignedString(key)
}

// users caches the logins the tokens speak for, a second each: reading a
// user's stream for every request cost a tenth of the server's time (the
// profile of bench callnext).
type users struct {
	mu sync.Mutex
	m  map[string]cachedUser
}

type cachedUser struct {
	u    *domain.User
	read time.Time
}

const userFresh = time.Second

func (us *users) get(ctx context.Context, name string, read func(context.Context, string) (*domain.User, error)) (*domain.User, error) {
	us.mu.Lock()
	e, ok := us.m[name]
	us.mu.Unlock()
	if ok && time.Since(e.read) < userFresh {
		return e.u, nil
	}
	u, err := read(ctx, name)
	if err != nil {
		return nil, err
	}
	us.mu.Lock()
	defer us.mu.Unlock()
	if us.m == nil || len(us.m) > 10_000 {
		us.m = map[string]cachedUser{}
	}
	us.m[name] = cachedUser{u, time.Now()}
	return u, nil
}

// forget drops a user changed here, so that the change holds at once.
func (us *users) forget(name string) {
	us.mu.Lock()
	delete(us.m, name)
	us.mu.Unlock()
}

// keyring holds the token keys, each known by an id in the tokens it signs,
// so that a new key can take over while tokens of the old one stay valid.
type keyring struct {
	mu     sync.Mutex
	keys   [][]byte
	reload func() ([][]byte, error)
	last   time.Time // of the last reload
}

func newKeyring(keys [][]byte, reload func() ([][]byte, error)) (*keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("api: no token key")
	}
	for _, k := range keys {
		if len(k) < 32 {
			return nil, errors.New("api: a token key needs 32 bytes or more")
		}
	}
	return &keyring{keys: keys, reload: reload}, nil
}

func keyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:6])
}

func (k *keyring) signer() ([]byte, string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys[0], keyID(k.keys[0])
}

// all are the keys listed, the one in use first; again reads them from
// the files first (at most once a second), for a MAC none of them matched
// that another process may have made with a key it rotated in.
func (k *keyring) all(again bool) [][]byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	if again && k.reload != nil && time.Since(k.last) > time.Second {
		k.last = time.Now()
		if keys, err := k.reload(); err == nil && len(keys) > 0 {
			k.keys = keys
		}
	}
	return slices.Clone(k.keys)
}

// verifier is the key named id (tokens from before key ids: the first),
// read again from the files at most once a second when it is unknown.
func (k *keyring) verifier(t *jwt.Token) (any, error) {
	id, _ := t.Header["kid"].(string)
	k.mu.Lock()
	defer k.mu.Unlock()
	if id == "" {
		return k.keys[0], nil
	}
	find := func() []byte {
		for _, key := range k.keys {
			if keyID(key) == id {
				return key
			}
		}
		return nil
	}
	if key := find(); key != nil {
		return key, nil
	}
	if k.reload != nil && time.Since(k.last) > time.Second {
		k.last = time.Now()
		if keys, err := k.reload(); err == nil && len(keys) > 0 {
			k.keys = keys
		}
		if key := find(); key != nil {
			return key, nil
		}
	}
	return nil, errors.New("unknown token key")
}

// allow admits callers holding one of roles, and no one else.
func (s *Server) allow(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		raw, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="servicehall"`)
			write(c, Problem{Type: "/problems/unauthenticated", Title: "Log in first (请先登录)", Status: http.StatusUnauthorized})
			return
		}
		var cl claims
		_, err := jwt.ParseWithClaims(raw, &cl, s.tokens.verifier,
			jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer("servicehall"), jwt.WithTimeFunc(s.now), jwt.WithExpirationRequired())
		if err != nil {
			c.Header("WWW-Authenticate", `Bearer realm="servicehall", error="invalid_token"`)
			write(c, Problem{Type: "/problems/unauthenticated", Title: "The token is invalid or expired (登录已失效)", Status: http.StatusUnauthorized})
			return
		}
		if cl.Role != domain.RoleResident {
			// A disabled user, or a password changed since, voids the token:
			// at once here, within a second on the other processes.
			u, err := s.users.get(c.Request.Context(), cl.Subject, s.queries.User)
			if err != nil {
				problem(c, err)
				return
			}
			var iat time.Time
			if cl.IssuedAt != nil {
				iat = cl.IssuedAt.Time
			}
			if !u.Admits(iat) {
				c.Header("WWW-Authenticate", `Bearer realm="servicehall", error="invalid_token"`)
				write(c, Problem{Type: "/problems/unauthenticated", Title: "The token is invalid or expired (登录已失效)", Status: http.StatusUnauthorized})
				return
			}
		}
		if !slices.Contains(roles, cl.Role) {
			write(c, Problem{Type: "/problems/forbidden", Title: "Your role may not do this (无权限)", Status: http.StatusForbidden})
			return
		}
		c.Set("who", Who{cl.Subject, cl.Role, cl.Station})
		// A signed-in answer may carry personal data: no cache keeps it.
		c.Header("Cache-Control", "no-store")
		if c.Request.Method == http.MethodPost {
			// Every signed-in POST honours Idempotency-Key: a page retries
			// a call-next or a booking it got no answer to, safely.
			s.idempotent(c)
		}
	}
}

func who(c *gin.Context) Who { return c.MustGet("who").(Who) }

// meta is the command metadata of a request.
func (s *Server) meta(c *gin.Context) command.Meta {
	m := command.Meta{At: s.now(), CorrelationID: c.Writer.Header().Get("X-Request-ID")}
	if w, ok := c.Get("who"); ok {
		m.Actor = w.(Who).actor()
	}
	if scope, ok := c.Get("idempotency"); ok { // a retry writes the same events, once
		m.CommandID = "idempotency-" + scope.(string)
	}
	return m
}

// bind decodes a JSON body strictly: unknown fields, wrong types, trailing
// data and bodies over 1 MiB are refused as invalid input.
func bind(c *gin.Context, v any) error {
	raw, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeStrict(raw, v)
}

// readBody reads a request body of at most 1 MiB, once: a middleware that
// read it before leaves it in the context.
func readBody(c *gin.Context) ([]byte, error) {
	if raw, ok := c.Get("body"); ok {
		return raw.([]byte), nil
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20))
	if err != nil {
		return nil, invalid("body", "larger than 1 MiB (请求体过大)")
	}
	return raw, nil
}

func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typ):
			return invalid(typ.Field, fmt.Sprintf("want %s (类型不正确)", typ.Type))
		case errors.Is(err, io.EOF):
			return invalid("body", "a JSON body is required (缺少请求体)")
		}
		return invalid("body", fmt.Sprintf("not valid JSON: %v (JSON 格式不正确)", err))
	}
	if dec.More() {
		return invalid("body", "one JSON value only (只允许一个 JSON 值)")
	}
	return nil
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// dummyHash is a hash of nothing anyone knows, at the cost real ones have.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte(rand.Text()), bcrypt.DefaultCost)
	return h
})

// login answers the same for an unknown user and a wrong password, so that
// it does not tell which usernames exist.
func (s *Server) login(c *gin.Context) {
	var req loginRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	if ok, wait := s.limits.loginByAccountClient.allow(c.Request.Context(), req.Username+"\x00"+c.ClientIP(), s.now()); !ok {
		tooMany(c, wait)
		return
	}
	u, err := s.queries.User(c.Request.Context(), req.Username)
	if err != nil {
		problem(c, err)
		return
	}
	hash := dummyHash() // as slow as a real compare: the time does not tell
	if u.Exists() {
		if hash, err = s.hall.PasswordHash(c.Request.Context(), u); err != nil {
			problem(c, err)
			return
		}
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(req.Password)) != nil || !u.Exists() || u.Disabled {
		write(c, Problem{Type: "/problems/unauthenticated", Title: "Wrong username or password (用户名或密码错误)", Status: http.StatusUnauthorized})
		return
	}
	tok, err := s.token(Who{u.Username, u.Role, u.StationID})
	if err != nil {
		problem(c, err)
		return
	}
	c.JSON(http.StatusOK, tokenOut{Token: tok, Role: u.Role, StationID: u.StationID})
}
