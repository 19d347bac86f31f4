package http

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestRequestIDIsBoundedAndSanitised(t *testing.T) {
	e := echo.New()
	e.Use(requestID)
	e.GET("/", func(c echo.Context) error {
		return c.String(http.StatusOK, c.Request().Header.Get(echo.HeaderXRequestID))
	})
	for _, c := range []struct {
		in   string
		keep bool
	}{
		{"req-42_a.b:c", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"<script>alert(1)</script>", false},
		{"evil\x1b[31m", false},
		{"spaces are out", false},
		{"", false},
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if c.in != "" {
			req.Header[echo.HeaderXRequestID] = []string{c.in}
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		got := rec.Header().Get(echo.HeaderXRequestID)
		if c.keep && got != c.in {
			t.Errorf("%q was replaced by %q", c.in, got)
		}
		if !c.keep && (got == c.in || !validRequestID(got) || len(got) != 32) {
			t.Errorf("%q was echoed as %q", c.in, got)
		}
		if rec.Body.String() != got {
			t.Errorf("handlers see %q, the response says %q", rec.Body.String(), got)
		}
	}
}
