package web

import (
	"strings"
	"testing"
)

// The policy admits the gateway's own socket and the identity provider's
// origin, however AUTH0_DOMAIN is written, and writes nothing of a Host or
// domain that is not a plain host into the header.
func TestContentSecurityPolicyConnectSources(t *testing.T) {
	for _, c := range []struct{ host, idp, want string }{
		{"127.0.0.1:8080", "", "connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;"},
		{"gw.example.com", "tenant.eu.auth0.com", "connect-src 'self' ws://gw.example.com wss://gw.example.com https://tenant.eu.auth0.com;"},
		{"gw.example.com", "https://login.example.com/", "connect-src 'self' ws://gw.example.com wss://gw.example.com https://login.example.com;"},
		{"[::1]:8001", "http://127.0.0.1:8081/", "connect-src 'self' ws://[::1]:8001 wss://[::1]:8001 http://127.0.0.1:8081;"},
		{"evil; script-src *", "", "connect-src 'self';"},
		{"gw", "javascript:alert(1)", "connect-src 'self' ws://gw wss://gw;"},
		{"gw", "https://a b", "connect-src 'self' ws://gw wss://gw;"},
	} {
		csp := ContentSecurityPolicy(c.host, Options{IdentityProvider: c.idp})
		if !strings.Contains(csp, c.want) {
			t.Errorf("host %q, idp %q:\n%s\nwant %s", c.host, c.idp, csp, c.want)
		}
		if !strings.Contains(csp, "script-src 'self';") || strings.Count(csp, "script-src") != 1 {
			t.Errorf("host %q: scripts not limited to the gateway: %s", c.host, csp)
		}
	}
}
