package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/eventstore"
)

func TestProblemStatuses(t *testing.T) {
	applicant := domain.Applicant{Name: "", IDNumber: "123", Phone: "1"}
	_, invalidApplicant := applicant.Check(testNow)
	tests := []struct {
		err    error
		status int
		fields []string
	}{
		{invalidApplicant, 422, []string{"name", "id_number", "phone"}},
		{fmt.Errorf("book: %w", domain.ErrFull), 409, nil},
		{domain.ErrLimit, 409, nil},
		{fmt.Errorf("x: %w", domain.ErrState), 409, nil},
		{fmt.Errorf("x: %w", domain.ErrNotFound), 404, nil},
		{&eventstore.ConflictError{Stream: "s", Actual: -1}, 409, nil},
		{errors.New("disk on fire"), 500, nil},
		{fmt.Errorf("append: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), 503, nil},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), 503, nil},
	}
	gin.SetMode(gin.TestMode) // quiet: no debug banner
	for _, tt := range tests {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		problem(c, tt.err)
		var p Problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if w.Code != tt.status || p.Status != tt.status || w.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%v: %d %+v", tt.err, w.Code, p)
		}
		var fields []string
		for _, f := range p.Errors {
			fields = append(fields, f.Field)
		}
		if strings.Join(fields, ",") != strings.Join(tt.fields, ",") {
			t.Errorf("%v: fields %v, want %v", tt.err, fields, tt.fields)
		}
		if tt.status == 500 && strings.Contains(w.Body.String(), "fire") {
			t.Errorf("an internal error leaks its text: %s", w.Body)
		}
	}
}

var testNow = time.Date(2025, 10, 9, 10, 0, 0, 0, time.UTC)
