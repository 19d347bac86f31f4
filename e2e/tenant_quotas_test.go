package e2e

import (
	"strconv"
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/app/config"
)

// One tenant cannot take the instance: when it holds its share of active
// sessions, another tenant still activates; its connections past the
// per-tenant and per-user quotas are refused with CAPACITY_EXCEEDED and a
// retry hint, and a closed connection gives its place back.
func TestOneTenantCannotTakeTheInstance(t *testing.T) {
	g, p := startAuthGateway(t, func(c *config.Config) {
		c.MaxActiveSessions, c.MaxActiveSessionsPerTenant = 10, 2
		c.MaxConnectionsPerTenant, c.MaxConnectionsPerUser = 4, 2
	})
	hog1 := mint(t, p, user{"u-hog1", "hog", "developer"}.claims())
	hog2 := mint(t, p, user{"u-hog2", "hog", "developer"}.claims())
	fair := mint(t, p, user{"u-fair", "fair", "developer"}.claims())

	// Sessions: the hog activates two, the third is refused; the fair
	// tenant still activates.
	h1, _ := g.dialWithToken(t, hog1)
	for i := 0; i < 2; i++ {
		h1.join(h1.createSession("echo")["id"].(string), nil)
	}
	third := h1.createSession("echo")["id"].(string)
	e := h1.call("third", map[string]any{"type": "join_session", "sessionId": third})
	if e["code"] != "CAPACITY_EXCEEDED" || e["retryAfterMs"] == nil {
		t.Fatalf("the hog's third active session: %v", e)
	}
	f, _ := g.dialWithToken(t, fair)
	f.join(f.createSession("echo")["id"].(string), nil)

	// Connections: u-hog1 holds two (h1 and one more); a third of its own
	// is refused, as is the tenant's fifth.
	g.dialWithToken(t, hog1)
	refused, _, _ := g.dialWithTokenRefused(t, hog1)
	if refused["code"] != "CAPACITY_EXCEEDED" || refused["retryAfterMs"] == nil {
		t.Fatalf("u-hog1's third connection: %v", refused)
	}
	h2, _ := g.dialWithToken(t, hog2)
	g.dialWithToken(t, hog2)
	if refused, code, _ := g.dialWithTokenRefused(t, hog2); refused["code"] != "CAPACITY_EXCEEDED" || code != 1013 {
		t.Fatalf("the tenant's fifth connection: %v (close %d)", refused, code)
	}
	// Event streams hold places too.
	sid := h1.createSession("echo")["id"].(string)
	if r := g.rest(t, "GET", "/api/sessions/"+sid+"/events/stream", hog2, nil); r.status != 503 || r.errCode() != "CAPACITY_EXCEEDED" || r.header.Get("Retry-After") == "" {
		t.Fatalf("an event stream over the tenant's quota: %d %s", r.status, r.body)
	}
	// The fair tenant is unaffected; a closed connection frees its place.
	g.dialWithToken(t, fair)
	_ = h2.c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for n := 0; ; n++ {
		if _, _, ok := g.dialWithTokenRefused(t, hog2); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed connection never gave its place back (" + strconv.Itoa(n) + " tries)")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dialWithTokenRefused dials with token and reports the error frame and
// close code when the gateway refuses the connection after the handshake;
// ok is false when it was accepted instead (the connection is left open).
func (g *gateway) dialWithTokenRefused(t *testing.T, token string) (frame map[string]any, code int, ok bool) {
	t.Helper()
	c := g.dialFrom(t, "", bearer(token))
	c.expect("welcome")
	c.expect("connected")
	m := c.next()
	if m["type"] == "authenticated" {
		return nil, 0, false
	}
	code, _ = c.expectClose(5 * time.Second)
	return m, code, true
}

// REST has the WebSocket's rate per identity (by default 60 requests per
// 10 s): past it a request is 429 RATE_LIMITED with Retry-After, counted
// per identity, so another user of the same tenant is unaffected.
func TestRESTRateLimitPerIdentity(t *testing.T) {
	g, p := startAuthGateway(t, func(c *config.Config) { c.RESTRateLimit, c.RESTRateWindow = 60, 10*time.Second })
	alice := mint(t, p, user{"u-alice", "acme", "developer"}.claims())
	bob := mint(t, p, user{"u-bob", "acme", "developer"}.claims())
	for i := 0; i < 60; i++ {
		if r := g.rest(t, "GET", "/api/sessions", alice, nil); r.status != 200 {
			t.Fatalf("request %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := g.rest(t, "POST", "/api/sessions", alice, map[string]any{"agentType": "echo"})
	if r.status != 429 || r.errCode() != "RATE_LIMITED" || r.header.Get("Retry-After") == "" {
		t.Fatalf("the 61st request: %d %s", r.status, r.body)
	}
	if r := g.rest(t, "GET", "/api/sessions", bob, nil); r.status != 200 {
		t.Fatalf("another identity: %d %s", r.status, r.body)
	}
	if r := g.rest(t, "GET", "/api/health", "", nil); r.status != 200 {
		t.Fatalf("the public health route: %d", r.status)
	}
}
