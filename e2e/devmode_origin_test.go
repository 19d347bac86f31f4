package e2e

import (
	"net/http"
	"testing"

	"github.com/diminuendo/diminuendo/app/config"
)

// In dev mode the socket authenticates as the developer with no token, so
// any page open in the developer's browser that could reach it could drive
// the gateway: only loopback origins and ALLOWED_ORIGINS may upgrade or
// make cross-origin REST calls.
func TestDevModeAdmitsOnlyLoopbackAndListedOrigins(t *testing.T) {
	g := startGateway(t, func(c *config.Config) { c.AllowedOrigins = []string{"https://app.example.com"} })
	for _, c := range []struct {
		origin string
		ok     bool
	}{
		{"http://localhost:5173", true},
		{"http://127.0.0.1:8080", true},
		{"https://app.example.com", true},
		{"https://evil.example", false},
		{"http://localhost.evil.example", false},
	} {
		conn, resp, err := g.tryDialFrom("", "", http.Header{"Origin": {c.origin}})
		if err == nil {
			_ = conn.Close()
		}
		if c.ok && err != nil {
			t.Errorf("upgrade from %s refused: %v", c.origin, err)
		}
		if !c.ok {
			if err == nil {
				t.Errorf("upgrade from %s accepted", c.origin)
			} else if r := refusedBody(t, resp); r.status != http.StatusForbidden {
				t.Errorf("upgrade from %s: %d %s", c.origin, r.status, r.body)
			}
		}
		r := g.restFrom(t, "", "GET", "/api/sessions", "", nil, http.Header{"Origin": {c.origin}})
		if got := r.header.Get("Access-Control-Allow-Origin"); (got == c.origin) != c.ok {
			t.Errorf("REST from %s: Access-Control-Allow-Origin %q", c.origin, got)
		}
	}
}
