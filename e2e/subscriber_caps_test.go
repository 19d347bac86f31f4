package e2e

import (
	"testing"

	"github.com/diminuendo/diminuendo/app/config"
)

// One user cannot fill a session: past SESSION_MAX_SUBSCRIBERS_PER_USER
// their joins are CAPACITY_EXCEEDED, while the owner and others still join,
// up to the session's own cap.
func TestOneUserCannotFillASession(t *testing.T) {
	g, p := startAuthGateway(t, func(c *config.Config) {
		c.SessionMaxSubscribers, c.SessionMaxSubscribersPerUser = 5, 3
	})
	owner := user{"u-owner", "acme", "owner"}
	viewer := user{"u-viewer", "acme", "viewer"}
	o, _ := g.dialWithToken(t, mint(t, p, owner.claims()))
	sid := o.createSession("echo")["id"].(string)

	vt := mint(t, p, viewer.claims())
	for i := 0; i < 3; i++ {
		v, _ := g.dialWithToken(t, vt)
		v.join(sid, nil)
	}
	v, _ := g.dialWithToken(t, vt)
	if e := v.call("j4", map[string]any{"type": "join_session", "sessionId": sid}); e["type"] != "error" || e["code"] != "CAPACITY_EXCEEDED" {
		t.Fatalf("the viewer's fourth join: %v", e)
	}
	// The viewer's event streams count too.
	if r := g.rest(t, "GET", "/api/sessions/"+sid+"/events/stream", vt, nil); r.status != 503 || r.errCode() != "CAPACITY_EXCEEDED" {
		t.Fatalf("the viewer's event stream: %d %s", r.status, r.body)
	}

	o.join(sid, nil)
	other, _ := g.dialWithToken(t, mint(t, p, user{"u-dev", "acme", "developer"}.claims()))
	other.join(sid, nil) // the fifth and last place
	late, _ := g.dialWithToken(t, mint(t, p, user{"u-late", "acme", "developer"}.claims()))
	if e := late.call("j6", map[string]any{"type": "join_session", "sessionId": sid}); e["code"] != "CAPACITY_EXCEEDED" {
		t.Fatalf("a join past the session's cap: %v", e)
	}
}
