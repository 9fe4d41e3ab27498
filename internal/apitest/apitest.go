// Package apitest drives the HTTP API from tests: requests with a token
// and headers, JSON answers, a resident's login by one-time code.
package apitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Send makes a request with a JSON body and an optional bearer token, and
// decodes the answer as an object (nil when it is not one).
func Send(t testing.TB, method, url, token, body string) (*http.Response, map[string]any) {
	t.Helper()
	return SendWith(t, method, url, token, body, nil)
}

// SendWith is Send with extra headers.
func SendWith(t testing.TB, method, url, token, body string, header map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

// Get reads url with the headers given and decodes the answer into into,
// which must then be JSON.
func Get(t testing.TB, url string, header map[string]string, into any) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if into != nil {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return resp
}

// GetAuth is Get with a bearer token.
func GetAuth(t testing.TB, url, token string, header map[string]string, into any) *http.Response {
	t.Helper()
	h := map[string]string{"Authorization": "Bearer " + token}
	for k, v := range header {
		h[k] = v
	}
	return Get(t, url, h, into)
}

// ResidentLogin gets a resident token through the one-time code, on a
// server that answers the code (demo OTP).
func ResidentLogin(t testing.TB, api, phone string) string {
	t.Helper()
	resp, out := Send(t, "POST", api+"/auth/otp", "", fmt.Sprintf(`{"phone":%q}`, phone))
	if resp.StatusCode != 202 || out["dev_code"] == nil {
		t.Fatalf("otp: %d %v", resp.StatusCode, out)
	}
	resp, out = Send(t, "POST", api+"/auth/verify", "", fmt.Sprintf(`{"phone":%q,"code":%q}`, phone, out["dev_code"]))
	if resp.StatusCode != 200 || out["role"] != "resident" {
		t.Fatalf("verify: %d %v", resp.StatusCode, out)
	}
	return out["token"].(string)
}

// Call is one request of a test's setup: method, path and body.
type Call [3]string

// SetUp makes the setup's calls as token, and waits until the views have
// taken them in.
func SetUp(t testing.TB, api, token string, calls ...Call) {
	t.Helper()
	last := "0"
	for _, c := range calls {
		resp, out := Send(t, c[0], api+c[1], token, c[2])
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", c[0], c[1], resp.StatusCode, out)
		}
		if p := resp.Header.Get("X-Position"); p != "" {
			last = p
		}
	}
	if resp := Get(t, api+"/services", map[string]string{"X-Min-Position": last}, nil); resp.StatusCode != 200 {
		t.Fatalf("the views did not reach the setup's position %s: %d", last, resp.StatusCode)
	}
}

// Shanghai is the service halls' time zone.
func Shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
