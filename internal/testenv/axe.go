package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// Axe is the path of axe-core's axe.min.js, the accessibility engine the
// browser tests run in the pages: SERVICEHALL_TEST_AXE, or the copy .ci/run
// keeps in the user's cache (servicehall/axe-core/axe.min.js). Without it,
// Axe fails the test under CI=true; elsewhere it logs why and returns "",
// and the caller leaves the accessibility checks out but runs the rest.
func Axe(t testing.TB) string {
	t.Helper()
	p := os.Getenv("SERVICEHALL_TEST_AXE")
	if p == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			p = filepath.Join(dir, "servicehall", "axe-core", "axe.min.js")
		}
	}
	if p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	const how = "npm pack axe-core@4 and put its package/axe.min.js there, or set SERVICEHALL_TEST_AXE; .ci/run does it"
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI needs axe-core for the browser tests: no %s (%s)", p, how)
	}
	t.Logf("no axe-core at %s: the accessibility checks are skipped (%s)", p, how)
	return ""
}
