package e2e

import (
	"testing"
	"time"
)

// A live socket that re-authenticates with a lower role is detached at once
// from every joined session the new role may not see: it gets session_left
// for each and no more of their events, and keeps the ones it still sees.
func TestDowngradeDetachesFromSessionsNoLongerVisible(t *testing.T) {
	g, p := startAuthGateway(t, nil)
	owner := user{"u-owner", "acme", "owner"}
	dana := user{"u-dana", "acme", "developer"}
	own, _ := g.dialWithToken(t, mint(t, p, owner.claims()))
	theirs := own.createSession("echo")["id"].(string)

	c, _ := g.dialWithToken(t, mint(t, p, dana.claims()))
	mine := c.createSession("echo")["id"].(string)
	c.join(theirs, nil)
	c.join(mine, nil)

	guest := dana
	guest.role = "guest"
	c.send(map[string]any{"type": "authenticate", "token": mint(t, p, guest.claims()), "requestId": "down"})
	left := c.waitFor("session_left", func(m map[string]any) bool { return m["type"] == "session_left" })
	if left["sessionId"] != theirs {
		t.Fatalf("session_left for %v, want %s", left["sessionId"], theirs)
	}
	if a := c.expect("authenticated"); a["identity"].(map[string]any)["role"] != "guest" {
		t.Fatalf("re-authenticated as %v", a)
	}

	// A turn on the session it lost reaches the owner, not the guest; a
	// turn on the session it created (which a guest still sees) reaches it.
	own.join(theirs, nil)
	own.send(map[string]any{"type": "run_turn", "sessionId": theirs, "text": "secret"})
	own.waitFor("the owner's turn", func(m map[string]any) bool { return m["type"] == "turn_complete" })
	own.send(map[string]any{"type": "run_turn", "sessionId": mine, "text": "still visible"})
	for {
		m, err := c.read(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m["sessionId"] == theirs {
			t.Fatalf("the guest still receives the owner's session: %v", m)
		}
		if m["type"] == "turn_complete" && m["sessionId"] == mine {
			return
		}
	}
}
