// Package testenv finds the servers that server-backed tests need. A test
// skips, saying why, when its server is not there; under CI=true it fails
// instead, because CI must run every suite.
package testenv

import (
	"database/sql"
	"strings"

	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// Postgres is the URL of a PostgreSQL database for tests:
// SERVICEHALL_TEST_POSTGRES, or the local one CI provides.
func Postgres(t testing.TB) string {
	t.Helper()
	return server(t, "SERVICEHALL_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL")
}

// NATS is the URL of a NATS server with JetStream for tests:
// SERVICEHALL_TEST_NATS, or the local one CI provides.
func NATS(t testing.TB) string {
	t.Helper()
	return server(t, "SERVICEHALL_TEST_NATS", "nats://127.0.0.1:4222", "NATS")
}

func server(t testing.TB, env, def, what string) string {
	t.Helper()
	u := os.Getenv(env)
	if u == "" {
		u = def
	}
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatalf("%s=%q: %v", env, u, err)
	}
	conn, err := net.DialTimeout("tcp", parsed.Host, 2*time.Second)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs %s at %s (%s): %v", what, parsed.Host, env, err)
		}
		t.Skipf("no %s at %s (set %s to run this test): %v", what, parsed.Host, env, err)
	}
	conn.Close()
	return u
}

// FreshPostgres is the URL of a database of its own on the test server,
// named after prefix and dropped when the test ends.
func FreshPostgres(t testing.TB, prefix string) string {
	t.Helper()
	pg := Postgres(t)
	admin, err := sql.Open("pgx", pg)
	if err != nil {
		t.Fatal(err)
	}
	name := prefix + "_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP DATABASE " + name + " WITH (FORCE)")
		admin.Close()
	})
	u, _ := url.Parse(pg)
	u.Path = "/" + name
	return u.String()
}
