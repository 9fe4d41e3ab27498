package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Chromium is the path of a Chromium for browser tests:
// SERVICEHALL_TEST_CHROMIUM, or the first of chromium, chromium-browser
// and google-chrome on the PATH.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SERVICEHALL_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI needs Chromium for the browser tests (apt-get install chromium, or set SERVICEHALL_TEST_CHROMIUM)")
	}
	t.Skip("no Chromium on the PATH (install it or set SERVICEHALL_TEST_CHROMIUM to run the browser tests)")
	return ""
}
