package e2e

import (
	"net/http"
	"testing"
	"time"
)

// The tenant hint (?tenant= or X-Tenant-Id) is what the load balancer
// hashes on, and it comes from the client: a hint that disagrees with the
// token's tenant is refused with FORBIDDEN on REST, on the WebSocket
// upgrade, and on an in-band authenticate; the caller's own tenant, or no
// hint, passes.
func TestTenantHintMustMatchTheToken(t *testing.T) {
	g, p := startAuthGateway(t, nil)
	tok := mint(t, p, user{"alice", "acme", "developer"}.claims())

	for _, tc := range []struct {
		path   string
		header http.Header
		want   int
	}{
		{"/api/me", nil, http.StatusOK},
		{"/api/me?tenant=acme", nil, http.StatusOK},
		{"/api/me", http.Header{"X-Tenant-Id": {"acme"}}, http.StatusOK},
		{"/api/me?tenant=globex", nil, http.StatusForbidden},
		{"/api/me", http.Header{"X-Tenant-Id": {"globex"}}, http.StatusForbidden},
		{"/api/sessions?tenant=globex", nil, http.StatusForbidden},
	} {
		r := g.restFrom(t, "", "GET", tc.path, tok, nil, tc.header)
		if r.status != tc.want || (tc.want == http.StatusForbidden && r.errCode() != "FORBIDDEN") {
			t.Errorf("GET %s %v: %d %s, want %d", tc.path, tc.header, r.status, r.body, tc.want)
		}
	}

	// Upgrade with the token in the header: refused before the upgrade.
	ws, resp, err := g.tryDialFrom("", "?tenant=globex", bearer(tok))
	if err == nil {
		_ = ws.Close()
		t.Fatal("a mismatched tenant hint was upgraded")
	}
	if r := refusedBody(t, resp); r.status != http.StatusForbidden || r.errCode() != "FORBIDDEN" {
		t.Fatalf("upgrade with a mismatched hint: %d %s", r.status, r.body)
	}
	ok, _, err := g.tryDialFrom("", "?tenant=acme", bearer(tok))
	if err != nil {
		t.Fatalf("upgrade with the right hint: %v", err)
	}
	_ = ok.Close()

	// In-band authenticate on a socket opened with another tenant's hint.
	conn, _, err := g.tryDialFrom("", "?tenant=globex", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, c: conn}
	t.Cleanup(func() { _ = conn.Close() })
	c.expect("welcome")
	c.expect("connected")
	c.send(map[string]any{"type": "authenticate", "token": tok, "requestId": "auth"})
	code, frames := c.expectClose(5 * time.Second)
	if code != 1008 || len(frames) == 0 || frames[len(frames)-1]["code"] != "FORBIDDEN" {
		t.Fatalf("in-band authenticate with a mismatched hint: close %d after %v", code, frames)
	}
}
