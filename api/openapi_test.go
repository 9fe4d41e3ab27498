package api

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The document is reflected from the route table the router serves: every
// operation has its summary, its answers (201 on create, its 4xx), request
// and answer schemas where it has bodies, and says so when it needs no
// token.
func TestOpenAPIDocument(t *testing.T) {
	s := &Server{}
	raw, err := openAPI(s.routes())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Servers []struct{ URL string } `json:"servers"`
		Paths   map[string]map[string]struct {
			Summary     string                      `json:"summary"`
			Security    *[]map[string][]string      `json:"security"`
			Responses   map[string]json.RawMessage  `json:"responses"`
			RequestBody *json.RawMessage            `json:"requestBody"`
			Parameters  []struct{ Name, In string } `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) == 0 {
		t.Error("no servers")
	}
	for _, rt := range s.routes() {
		op, ok := doc.Paths[docPath(rt.path)][strings.ToLower(rt.method)]
		if !ok {
			t.Errorf("%s %s is served but not documented", rt.method, rt.path)
			continue
		}
		name := rt.method + " " + rt.path
		switch {
		case op.Summary == "":
			t.Errorf("%s has no summary", name)
		case op.Security == nil:
			t.Errorf("%s does not say which token it needs", name)
		case rt.roles == nil && len(*op.Security) != 0, rt.roles != nil && len(*op.Security) == 0:
			t.Errorf("%s: security %v, roles %v", name, *op.Security, rt.roles)
		case rt.in != nil && op.RequestBody == nil:
			t.Errorf("%s has no request body schema", name)
		}
		four := 0
		for code := range op.Responses {
			if code[0] == '4' {
				four++
			}
		}
		if four == 0 {
			t.Errorf("%s documents no 4xx answer", name)
		}
	}
	if _, ok := doc.Paths["/api/v1/appointments"]["post"].Responses["201"]; !ok {
		t.Error("booking does not answer 201")
	}
	checkIn := doc.Paths["/api/v1/appointments/{id}/check-in"]["post"]
	if len(checkIn.Parameters) != 1 || checkIn.Parameters[0].In != "path" {
		t.Errorf("check-in parameters: %+v", checkIn.Parameters)
	}
	if !strings.Contains(string(raw), `"id_number"`) {
		t.Error("the booking's request schema does not describe the resident")
	}
	// The answers that give a ticket name its follow link (embedded).
	for _, out := range []string{"ApiCheckInOut", "ApiIssuedOut"} {
		var schemas struct {
			Components struct {
				Schemas map[string]struct {
					Properties map[string]any `json:"properties"`
				} `json:"schemas"`
			} `json:"components"`
		}
		json.Unmarshal(raw, &schemas)
		if p := schemas.Components.Schemas[out].Properties; p["follow_url"] == nil || p["follow_qr"] == nil {
			t.Errorf("%s does not document the follow link: %v", out, p)
		}
	}
}

// Redocly's recommended rules find no error in the document. It needs
// Node (npx); CI has it.
func TestOpenAPILint(t *testing.T) {
	npx, err := exec.LookPath("npx")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI needs npx to lint the OpenAPI document")
		}
		t.Skip("no npx: the OpenAPI document is not linted")
	}
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("linting the document is not short")
	}
	raw, err := openAPI((&Server{}).routes())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(npx, "--yes", "@redocly/cli@2.77.0", "lint", "--extends", "recommended", "--format", "stylish", path).CombinedOutput()
	if err != nil {
		t.Fatalf("redocly lint: %v\n%s", err, out)
	}
}
