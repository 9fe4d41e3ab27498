package api_test

import (
	"strings"
	"testing"
)

func TestAdminSubscribesWebhooks(t *testing.T) {
	t.Parallel()
	api, admin, stop := configured(t, 0)
	defer stop()
	for _, body := range []string{
		`{"url":"ftp://example.org","event_types":["AppointmentBooked"],"secret":"0123456789abcdef"}`,
		`{"url":"https://example.org/hook","event_types":["NoSuchEvent"],"secret":"0123456789abcdef"}`,
		`{"url":"https://example.org/hook","event_types":["AppointmentBooked"],"secret":"short"}`,
	} {
		if resp, out := send(t, "POST", api+"/admin/webhooks", admin, body); resp.StatusCode != 422 {
			t.Fatalf("%s: %d %v", body, resp.StatusCode, out)
		}
	}
	resp, out := send(t, "POST", api+"/admin/webhooks", admin, `{"id":"crm","url":"https://example.org/hook","event_types":["AppointmentBooked","AppointmentCancelled"],"secret":"0123456789abcdef-secret"}`)
	if resp.StatusCode != 201 || out["id"] != "crm" || out["personal_data"] != false {
		t.Fatalf("subscribe: %d %v", resp.StatusCode, out)
	}
	var hooks []map[string]any
	getJSONAuth(t, api+"/admin/webhooks", admin, nil, &hooks)
	if len(hooks) != 1 || hooks[0]["url"] != "https://example.org/hook" {
		t.Fatalf("webhooks: %v", hooks)
	}
	var raw []map[string]any
	getJSONAuth(t, api+"/admin/webhooks/dead-letters", admin, nil, &raw)
	if len(raw) != 0 {
		t.Fatalf("dead letters: %v", raw)
	}
	for _, h := range hooks {
		for k, v := range h {
			if s, ok := v.(string); ok && strings.Contains(s, "secret") {
				t.Fatalf("the secret is shown: %s=%v", k, v)
			}
		}
	}
}
