package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/diminuendo/diminuendo/adapters/auth/idp"
)

// roleLevel orders the five roles (docs/auth.md's RBAC table).
var roleLevel = map[string]int{"guest": 1, "viewer": 2, "developer": 3, "admin": 4, "owner": 5}

// minRoleFor is the least role holding each session permission.
var minRoleFor = map[string]string{
	"sessions.read":   "guest",
	"sessions.create": "developer",
	"sessions.write":  "developer",
	"sessions.delete": "admin",
	"members.read":    "viewer",
	"members.manage":  "admin",
}

func grants(role, perm string) bool { return roleLevel[role] >= roleLevel[minRoleFor[perm]] }

// restPerms is the permission each session route of docs/protocol.md needs. A
// route added to openapi.yaml without an entry here fails the test, so
// nobody adds one without deciding who may call it.
var restPerms = map[string]string{
	"GET /api/sessions/{sessionId}":               "sessions.read",
	"PATCH /api/sessions/{sessionId}":             "sessions.write",
	"DELETE /api/sessions/{sessionId}":            "sessions.delete",
	"POST /api/sessions/{sessionId}/turns":        "sessions.write",
	"POST /api/sessions/{sessionId}/stop":         "sessions.write",
	"POST /api/sessions/{sessionId}/steer":        "sessions.write",
	"POST /api/sessions/{sessionId}/answers":      "sessions.write",
	"GET /api/sessions/{sessionId}/events":        "sessions.read",
	"GET /api/sessions/{sessionId}/events/stream": "sessions.read",
	"GET /api/sessions/{sessionId}/history":       "sessions.read",
	"GET /api/sessions/{sessionId}/files":         "sessions.read",
	"GET /api/sessions/{sessionId}/files/content": "sessions.read",
	"GET /api/sessions/{sessionId}/files/history": "sessions.read",
	"GET /api/sessions/{sessionId}/files/at":      "sessions.read",
}

// laterReads are session reads of docs/protocol.md this build may not serve yet.
var laterReads = []map[string]any{
	{"type": "get_history"},
	{"type": "list_files"},
	{"type": "read_file", "path": "notes.md"},
	{"type": "file_history", "path": "notes.md"},
	{"type": "file_at_iteration", "path": "notes.md", "iteration": 1},
}

// restSessionFor creates a guarded-agent session for role's user to work
// on: the owner's (ownerTok), or for a guest one the guest's own user
// created while it held the developer role, since a guest sees only those.
func restSessionFor(t *testing.T, g *gateway, p *idp.IdP, role, ownerTok string) string {
	t.Helper()
	tok := ownerTok
	if role == "guest" || tok == "" {
		tok = mint(t, p, user{"u-" + role, "acme", "developer"}.claims())
	}
	r := g.rest(t, "POST", "/api/sessions", tok, map[string]any{"agentType": "guarded-agent"})
	var meta map[string]any
	mustUnmarshal(t, r.body, &meta)
	sid, _ := meta["id"].(string)
	if r.status != http.StatusCreated || sid == "" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	return sid
}

// requireForbidden checks an error frame or body is FORBIDDEN naming perm.
func requireForbidden(t *testing.T, what, code, message, perm string) {
	t.Helper()
	if code != "FORBIDDEN" || !strings.Contains(message, perm) {
		t.Errorf("%s: %s %q, want FORBIDDEN naming %s", what, code, message, perm)
	}
}

// Each of the five roles against every permission-guarded operation over
// WebSocket, manage_members included: allowed ones do their work (a
// developer's turn really runs, is steered, answered and stopped), refused ones get FORBIDDEN naming the
// missing permission, while a turn is live so nothing but the permission
// can be the reason.
func TestRBACOverWebSocket(t *testing.T) {
	g, p := startAuthGateway(t, nil)
	own, _ := g.dialAndAuthenticate(t, mint(t, p, user{"root", "acme", "owner"}.claims()))

	outer := t
	for _, role := range []string{"owner", "admin", "developer", "viewer", "guest"} {
		t.Run(role, func(t *testing.T) {
			own.t = t
			defer func() { own.t = outer }()
			c, a := g.dialAndAuthenticate(t, mint(t, p, user{"u-" + role, "acme", role}.claims()))
			perms := map[string]bool{}
			for _, x := range a["identity"].(map[string]any)["permissions"].([]any) {
				perms[x.(string)] = true
			}
			for perm := range minRoleFor {
				if perms[perm] != grants(role, perm) {
					t.Errorf("identity permissions %v: %s held %v", perms, perm, perms[perm])
				}
			}
			// The owner's connection also carries the earlier roles' events,
			// so it matches replies by requestId.
			created := own.call("create-"+role, map[string]any{"type": "create_session", "agentType": "guarded-agent"})
			if created["type"] != "session_created" {
				t.Fatalf("owner's create: %v", created)
			}
			sid := created["session"].(map[string]any)["id"].(string)
			if role == "guest" {
				// A guest sees only sessions it created (say, before it was
				// made a guest), and another member's exactly as a missing one.
				hidden := sid
				sid = restSessionFor(t, g, p, role, "")
				if r := c.call("list-hidden", map[string]any{"type": "list_sessions"}); r["type"] != "session_list" || idsOf(r["sessions"])[hidden] {
					t.Errorf("a guest's list shows another member's session: %v", r)
				}
				for _, typ := range []string{"join_session", "get_events"} {
					r := c.call(typ+"-hidden", map[string]any{"type": typ, "sessionId": hidden, "afterSeq": 0})
					if r["code"] != "SESSION_NOT_FOUND" {
						t.Errorf("%s by a guest on another member's session: %v", typ, r)
					}
				}
			}
			if r := own.call("join-"+role, map[string]any{"type": "join_session", "sessionId": sid}); r["type"] != "state_snapshot" {
				t.Fatalf("owner's join: %v", r)
			}

			// Create.
			r := c.call("create", map[string]any{"type": "create_session", "agentType": "echo"})
			if grants(role, "sessions.create") {
				if r["type"] != "session_created" {
					t.Errorf("create_session: %v", r)
				}
			} else {
				requireForbidden(t, "create_session", str(r["code"]), str(r["message"]), "sessions.create")
			}

			// Reads: every role.
			if r := c.call("list", map[string]any{"type": "list_sessions"}); r["type"] != "session_list" || !idsOf(r["sessions"])[sid] {
				t.Errorf("list_sessions: %v", r)
			}
			if r := c.call("join", map[string]any{"type": "join_session", "sessionId": sid}); r["type"] != "state_snapshot" {
				t.Errorf("join_session: %v", r)
			}
			if r := c.call("events", map[string]any{"type": "get_events", "sessionId": sid, "afterSeq": 0}); r["type"] != "events" {
				t.Errorf("get_events: %v", r)
			}
			// Later reads, once served: any answer but FORBIDDEN (a file may
			// not exist yet).
			for _, m := range laterReads {
				msg := map[string]any{"sessionId": sid}
				for k, v := range m {
					msg[k] = v
				}
				r := c.call("read-"+m["type"].(string), msg)
				if r["message"] == "unknown message type" {
					continue
				}
				if r["code"] == "FORBIDDEN" || r["code"] == "INTERNAL" {
					t.Errorf("%s: %v", m["type"], r)
				}
			}

			// Metadata writes.
			for _, m := range []map[string]any{
				{"type": "rename_session", "sessionId": sid, "name": "renamed by " + role},
				{"type": "archive_session", "sessionId": sid},
				{"type": "unarchive_session", "sessionId": sid},
			} {
				typ := m["type"].(string)
				r := c.call(typ, m)
				if grants(role, "sessions.write") {
					if r["type"] != "session_updated" {
						t.Errorf("%s: %v", typ, r)
					}
				} else {
					requireForbidden(t, typ, str(r["code"]), str(r["message"]), "sessions.write")
				}
			}

			// Turn control.
			if grants(role, "sessions.write") {
				c.send(map[string]any{"type": "run_turn", "sessionId": sid, "text": "write the notes", "requestId": "run"})
				prompt := c.waitFor("permission_requested", func(m map[string]any) bool { return m["type"] == "permission_requested" })
				if r := c.call("steer", map[string]any{"type": "steer", "sessionId": sid, "text": "be brief"}); r["type"] != "steer_accepted" {
					t.Errorf("steer: %v", r)
				}
				c.send(map[string]any{"type": "answer_question", "sessionId": sid, "promptId": prompt["promptId"], "approved": false, "requestId": "answer"})
				c.waitFor("approval_resolved", func(m map[string]any) bool { return m["type"] == "approval_resolved" })
				c.waitFor("turn_complete", func(m map[string]any) bool { return m["type"] == "turn_complete" })
				c.send(map[string]any{"type": "run_turn", "sessionId": sid, "text": "again", "requestId": "run2"})
				c.waitFor("permission_requested", func(m map[string]any) bool { return m["type"] == "permission_requested" })
				c.send(map[string]any{"type": "stop_turn", "sessionId": sid, "requestId": "stop"})
				done := c.waitFor("turn_complete", func(m map[string]any) bool { return m["type"] == "turn_complete" })
				if done["stopReason"] != "cancelled" {
					t.Errorf("stop_turn: %v", done)
				}
			} else {
				// The owner holds a turn open at a prompt: steering, answering
				// and stopping are all possible but for the permission.
				own.send(map[string]any{"type": "run_turn", "sessionId": sid, "text": "write the notes"})
				prompt := own.waitFor("permission_requested", func(m map[string]any) bool { return m["type"] == "permission_requested" && m["sessionId"] == sid })
				for _, m := range []map[string]any{
					{"type": "run_turn", "sessionId": sid, "text": "mine"},
					{"type": "steer", "sessionId": sid, "text": "left"},
					{"type": "answer_question", "sessionId": sid, "promptId": prompt["promptId"], "approved": true},
					{"type": "stop_turn", "sessionId": sid},
				} {
					typ := m["type"].(string)
					r := c.call(typ, m)
					requireForbidden(t, typ, str(r["code"]), str(r["message"]), "sessions.write")
				}
				own.send(map[string]any{"type": "stop_turn", "sessionId": sid})
				own.waitFor("turn_complete", func(m map[string]any) bool { return m["type"] == "turn_complete" && m["sessionId"] == sid })
			}

			// Members: listing them takes members.read (a guest may not
			// see the tenant's emails and roles); changing them takes
			// members.manage. For refused roles the owner adds the member
			// first, so update and remove have something to act on.
			r = c.call("members", map[string]any{"type": "manage_members", "action": "list"})
			if !grants(role, "members.read") {
				requireForbidden(t, "manage_members list", str(r["code"]), str(r["message"]), "members.read")
			} else if r["type"] != "member_list" {
				t.Errorf("manage_members list: %v", r)
			}
			mid := "m-" + role
			if !grants(role, "members.manage") {
				if r := own.call("seed-"+mid, map[string]any{"type": "manage_members", "action": "add", "userId": mid, "role": "guest"}); r["type"] != "member_list" {
					t.Fatalf("owner's add: %v", r)
				}
			}
			for _, m := range []map[string]any{
				{"type": "manage_members", "action": "add", "userId": mid, "role": "guest"},
				{"type": "manage_members", "action": "update", "userId": mid, "role": "viewer"},
				{"type": "manage_members", "action": "remove", "userId": mid},
			} {
				what := "manage_members " + m["action"].(string)
				r := c.call(what, m)
				if !grants(role, "members.manage") {
					requireForbidden(t, what, str(r["code"]), str(r["message"]), "members.manage")
				} else if r["type"] != "member_list" {
					t.Errorf("%s: %v", what, r)
				}
			}
			if role == "admin" {
				// Holding members.manage does not let anyone hand out a role
				// above their own.
				r := c.call("grant-owner", map[string]any{"type": "manage_members", "action": "add", "userId": "m-usurper", "role": "owner"})
				if r["code"] != "FORBIDDEN" {
					t.Errorf("admin granting owner: %v", r)
				}
			}

			// Delete.
			r = c.call("delete", map[string]any{"type": "delete_session", "sessionId": sid})
			if grants(role, "sessions.delete") {
				if r["type"] != "session_deleted" {
					t.Errorf("delete_session: %v", r)
				}
			} else {
				requireForbidden(t, "delete_session", str(r["code"]), str(r["message"]), "sessions.delete")
				if r := own.call("delete", map[string]any{"type": "delete_session", "sessionId": sid}); r["type"] != "session_deleted" {
					t.Errorf("owner's delete: %v", r)
				}
			}
		})
	}
}

// Each of the five roles against every operation of the REST contract
// that RBAC guards: create, list, the members routes and every route under
// a session.
func TestRBACOverREST(t *testing.T) {
	g, p := startAuthGateway(t, nil)
	ownerTok := mint(t, p, user{"root", "acme", "owner"}.claims())
	routes := sessionRoutes(t)
	for _, op := range routes {
		if _, ok := restPerms[op.String()]; !ok {
			t.Errorf("no RBAC expectation for %s (%s): add it to restPerms", op, op.id)
		}
	}

	for _, role := range []string{"owner", "admin", "developer", "viewer", "guest"} {
		t.Run(role, func(t *testing.T) {
			tok := mint(t, p, user{"u-" + role, "acme", role}.claims())
			r := g.rest(t, "POST", "/api/sessions", tok, map[string]any{"agentType": "echo"})
			if grants(role, "sessions.create") {
				if r.status != http.StatusCreated {
					t.Errorf("create: %d %s", r.status, r.body)
				}
			} else if r.status != http.StatusForbidden {
				t.Errorf("create: %d %s, want 403", r.status, r.body)
			} else {
				requireForbidden(t, "create", r.errCode(), r.errMessage(), "sessions.create")
			}
			if r := g.rest(t, "GET", "/api/sessions", tok, nil); r.status != http.StatusOK {
				t.Errorf("list: %d %s", r.status, r.body)
			}

			// Members (the REST mirror of manage_members).
			if r := g.rest(t, "GET", "/api/members", tok, nil); !grants(role, "members.read") {
				if r.status != http.StatusForbidden || r.errCode() != "FORBIDDEN" || !strings.Contains(r.errMessage(), "members.read") {
					t.Errorf("list members as %s: %d %s", role, r.status, r.body)
				}
			} else if r.status != http.StatusOK {
				t.Errorf("list members: %d %s", r.status, r.body)
			}
			mid := "r-" + role
			if !grants(role, "members.manage") {
				if r := g.rest(t, "POST", "/api/members", ownerTok, map[string]any{"userId": mid, "role": "guest"}); r.status != http.StatusCreated {
					t.Fatalf("owner's add: %d %s", r.status, r.body)
				}
			}
			for _, m := range []struct {
				method, path string
				body         any
				ok           int
			}{
				{"POST", "/api/members", map[string]any{"userId": mid, "role": "guest"}, http.StatusCreated},
				{"PATCH", "/api/members/" + mid, map[string]any{"role": "viewer"}, http.StatusOK},
				{"DELETE", "/api/members/" + mid, nil, http.StatusOK},
			} {
				r := g.rest(t, m.method, m.path, tok, m.body)
				what := m.method + " " + m.path
				switch {
				case grants(role, "members.manage") && r.status != m.ok:
					t.Errorf("%s: %d %s", what, r.status, r.body)
				case !grants(role, "members.manage") && r.status != http.StatusForbidden:
					t.Errorf("%s: %d %s, want 403", what, r.status, r.body)
				case !grants(role, "members.manage"):
					requireForbidden(t, what, r.errCode(), r.errMessage(), "members.manage")
				}
			}

			sid := restSessionFor(t, g, p, role, ownerTok)
			if role == "guest" {
				hidden := restSessionFor(t, g, p, "owner", ownerTok)
				if r := g.rest(t, "GET", "/api/sessions/"+hidden, tok, nil); r.status != http.StatusNotFound || r.errCode() != "SESSION_NOT_FOUND" {
					t.Errorf("a guest reading another member's session: %d %s", r.status, r.body)
				}
				if r := g.rest(t, "GET", "/api/sessions", tok, nil); bytes.Contains(r.body, []byte(hidden)) || !bytes.Contains(r.body, []byte(sid)) {
					t.Errorf("a guest's list: %s", r.body)
				}
			}

			for _, op := range routes {
				perm, ok := restPerms[op.String()]
				if !ok {
					continue
				}
				path, body := op.request(sid)
				r := g.rest(t, op.method, path, tok, body)
				if !grants(role, perm) {
					if r.status != http.StatusForbidden {
						t.Errorf("%s: %d %s, want 403 naming %s", op, r.status, r.body, perm)
						continue
					}
					requireForbidden(t, op.String(), r.errCode(), r.errMessage(), perm)
					continue
				}
				// Allowed: the operation ran. It may still refuse for the
				// session's state (no turn to stop, no such file), never for
				// the caller's role, and never by failing.
				if r.status == http.StatusForbidden || r.status >= 500 || r.errCode() == "FORBIDDEN" {
					t.Errorf("%s as %s: %d %s", op, role, r.status, r.body)
				}
				// The embedded spec spells operation ids Go-style (GetSession).
				switch strings.ToLower(op.id) {
				case "getsession":
					if r.status != http.StatusOK {
						t.Errorf("%s: %d %s", op, r.status, r.body)
					}
				case "runturn":
					if r.status != http.StatusAccepted {
						t.Errorf("%s: %d %s", op, r.status, r.body)
					}
				}
			}
		})
	}
}

// A token's permissions claim narrows its role and never widens it.
func TestRBACPermissionsClaimNarrowsOnly(t *testing.T) {
	g, p := startAuthGateway(t, nil)
	narrowed := user{"dev", "acme", "developer"}.claims()
	narrowed.Permissions = []string{"sessions.read"}
	widened := user{"guest", "acme", "guest"}.claims()
	widened.Permissions = []string{"sessions.read", "sessions.create", "sessions.write", "sessions.delete"}
	for _, tc := range []struct {
		name string
		c    idp.Claims
	}{{"developer narrowed to read", narrowed}, {"guest claiming more", widened}} {
		tok := mint(t, p, tc.c)
		r := g.rest(t, "POST", "/api/sessions", tok, map[string]any{"agentType": "echo"})
		if r.status != http.StatusForbidden {
			t.Errorf("%s: create %d %s", tc.name, r.status, r.body)
		} else {
			requireForbidden(t, tc.name, r.errCode(), r.errMessage(), "sessions.create")
		}
		c, _ := g.dialAndAuthenticate(t, tok)
		e := c.call("create", map[string]any{"type": "create_session", "agentType": "echo"})
		requireForbidden(t, tc.name+" over WebSocket", str(e["code"]), str(e["message"]), "sessions.create")
		if r := g.rest(t, "GET", "/api/sessions", tok, nil); r.status != http.StatusOK {
			t.Errorf("%s: list %d %s", tc.name, r.status, r.body)
		}
	}
}

func str(v any) string { s, _ := v.(string); return s }
