package api

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/gin-gonic/gin"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldIssue `json:"errors,omitempty"`
}

// FieldIssue is one invalid input field.
type FieldIssue struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// The one place where errors become HTTP statuses.
var kinds = []struct {
	err    error
	status int
	slug   string
	title  string
}{
	{domain.ErrInvalid, http.StatusUnprocessableEntity, "invalid-input", "Invalid input (输入不合法)"},
	{domain.ErrNotFound, http.StatusNotFound, "not-found", "Not found (未找到)"},
	{domain.ErrFull, http.StatusConflict, "fully-booked", "Fully booked (已约满)"},
	{domain.ErrLimit, http.StatusConflict, "booking-limit", "Booking limit reached (超出预约限制)"},
	{domain.ErrState, http.StatusConflict, "not-allowed-now", "Not allowed in the current state (当前状态不允许此操作)"},
	{command.ErrConflict, http.StatusConflict, "concurrent-change", "Changed by someone else; try again (数据已被修改，请重试)"},
}

// problem answers err as a problem document and stops the request.
func problem(c *gin.Context, err error) {
	p := Problem{Type: "about:blank", Title: "Internal error (内部错误)", Status: http.StatusInternalServerError}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			p = Problem{Type: "/problems/" + k.slug, Title: k.title, Status: k.status, Detail: err.Error()}
			break
		}
	}
	if p.Status == http.StatusInternalServerError && unavailable(err) {
		// A database out of reach: nothing was decided; come back soon.
		c.Header("Retry-After", "5")
		p = Problem{Type: "/problems/unavailable", Title: "Temporarily unavailable; try again shortly (服务暂时不可用，请稍后重试)", Status: http.StatusServiceUnavailable}
	}
	if p.Status >= http.StatusInternalServerError {
		c.Error(err) // logged by the logging middleware; not shown to the caller
	}
	p.Errors = fieldIssues(err)
	write(c, p)
}

func write(c *gin.Context, p Problem) {
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(p.Status, p)
}

// fieldIssues lists the field errors inside err, however they are joined.
func fieldIssues(err error) []FieldIssue {
	var out []FieldIssue
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		var fe *domain.FieldError
		if errors.As(err, &fe) {
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				for _, e := range j.Unwrap() {
					walk(e)
				}
				return
			}
			out = append(out, FieldIssue{fe.Field, fe.Err.Error()})
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

// invalid is a 422 about one query or body field.
func invalid(field, message string) error {
	return &domain.FieldError{Field: field, Err: fmt.Errorf("%w: %s", domain.ErrInvalid, message)}
}

// unavailable says whether err is a store out of reach (a refused or cut
// connection, a timeout) rather than a fault of the request or the code.
func unavailable(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, context.DeadlineExceeded)
}
