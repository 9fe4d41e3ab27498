package api

import (
	"testing"

	"github.com/gin-gonic/gin"
)

// The document and the router cannot drift: every documented route is
// served and every served route is documented.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	routes := (&Server{}).Handler().(*gin.Engine).Routes()
	served := map[string]bool{}
	for _, r := range routes {
		if !documented(r.Path) {
			continue
		}
		key := r.Method + " " + r.Path
		served[key] = true
		if e, ok := endpoints[key]; !ok || e.summary == "" {
			t.Errorf("%s is served but not documented", key)
		}
	}
	for key := range endpoints {
		if !served[key] {
			t.Errorf("%s is documented but not served", key)
		}
	}
	doc := openAPI(routes)
	paths := doc["paths"].(map[string]map[string]any)
	op := paths["/api/v1/appointments/{id}/check-in"]["post"].(map[string]any)
	if op["summary"] == "" || op["x-roles"] == nil || len(op["parameters"].([]map[string]any)) != 1 {
		t.Fatalf("check-in operation: %v", op)
	}
	if _, ok := paths["/api/v1/services"]["get"].(map[string]any)["security"]; ok {
		t.Fatal("a public read asks for a token")
	}
}
