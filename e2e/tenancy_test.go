package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// sessionMessages are the client messages that name a session (docs/protocol.md),
// with the other fields each needs to get past validation. Types this
// build does not serve yet are skipped, and covered once they exist.
var sessionMessages = []map[string]any{
	{"type": "join_session"},
	{"type": "leave_session"},
	{"type": "run_turn", "text": "hello"},
	{"type": "stop_turn"},
	{"type": "steer", "text": "go left"},
	{"type": "answer_question", "promptId": "prompt_1", "approved": true},
	{"type": "get_events", "afterSeq": 0},
	{"type": "get_history"},
	{"type": "list_files"},
	{"type": "read_file", "path": "notes.md"},
	{"type": "file_history", "path": "notes.md"},
	{"type": "file_at_iteration", "path": "notes.md", "iteration": 1},
	{"type": "rename_session", "name": "mine now"},
	{"type": "archive_session"},
	{"type": "unarchive_session"},
	{"type": "delete_session"},
}

// servedToday are the session messages this test must not skip.
var servedToday = []string{"join_session", "leave_session", "run_turn", "stop_turn", "steer", "answer_question",
	"get_events", "rename_session", "archive_session", "unarchive_session", "delete_session"}

// Tenant B, holding every permission, cannot tell tenant A's session from
// one that does not exist: every WebSocket message and every REST route
// that takes a session id answers SESSION_NOT_FOUND, byte for byte the
// answer for a random id (request ids aside), with the same upstream
// traffic, and without one request reaching Podium. B's lists never show
// it, and A's session is untouched afterwards.
func TestTenantIsolation(t *testing.T) {
	// Simulators served by the test, so it can count what reaches them.
	up := startUpstreams(t, time.Millisecond)
	podium, unison := up.podium, up.unison
	g, p := startAuthGateway(t, up.configure)
	alice := user{"alice", "acme", "owner"}
	bob := user{"bob", "globex", "owner"}
	aliceTok, bobTok := mint(t, p, alice.claims()), mint(t, p, bob.claims())

	// A's session, active and with history.
	a, _ := g.dialAndAuthenticate(t, aliceTok)
	sid := a.createSession("echo")["id"].(string)
	a.join(sid, nil)
	a.send(map[string]any{"type": "run_turn", "sessionId": sid, "text": "private to acme"})
	a.until("turn_complete")
	before := a.call("before", map[string]any{"type": "get_events", "sessionId": sid, "afterSeq": 0})
	if before["type"] != "events" || len(before["events"].([]any)) == 0 {
		t.Fatalf("A's events: %v", before)
	}

	b, _ := g.dialAndAuthenticate(t, bobTok)
	own := b.createSession("echo")["id"].(string)
	rnd := randomSessionID()
	podiumBefore := podium.Requests()
	if podiumBefore == 0 {
		t.Fatal("the gateway is not using the test's simulators")
	}

	// WebSocket: compare raw frames for A's id and a random one.
	covered := map[string]bool{}
	for _, tmpl := range sessionMessages {
		typ := tmpl["type"].(string)
		ans := map[string][]byte{}
		calls := map[string]int64{}
		for _, id := range []string{sid, rnd} {
			msg := map[string]any{"sessionId": id, "requestId": "r-" + typ + "-" + id}
			for k, v := range tmpl {
				msg[k] = v
			}
			u0 := unison.Requests()
			ans[id] = normalise(rawCall(t, b, msg), msg["requestId"].(string), id)
			calls[id] = unison.Requests() - u0
		}
		if bytes.Contains(ans[sid], []byte(`"unknown message type"`)) {
			t.Logf("%s: not served by this build; skipped", typ)
			continue
		}
		covered[typ] = true
		var e map[string]any
		if err := json.Unmarshal(ans[sid], &e); err != nil || e["type"] != "error" || e["code"] != "SESSION_NOT_FOUND" {
			t.Errorf("%s on another tenant's session: %s", typ, ans[sid])
		}
		if !bytes.Equal(ans[sid], ans[rnd]) {
			t.Errorf("%s tells A's session from a random id:\n  A's:    %s\n  random: %s", typ, ans[sid], ans[rnd])
		}
		if calls[sid] != calls[rnd] {
			t.Errorf("%s: %d Unison requests for A's session, %d for a random id", typ, calls[sid], calls[rnd])
		}
	}
	for _, typ := range servedToday {
		if !covered[typ] {
			t.Errorf("%s was not exercised", typ)
		}
	}

	// REST: every operation of the contract whose path takes a session id.
	routes := sessionRoutes(t)
	if len(routes) < 2 {
		t.Fatalf("only %d session routes in the contract", len(routes))
	}
	for _, op := range routes {
		var got [2]restResp
		var calls [2]int64
		for i, id := range []string{sid, rnd} {
			path, body := op.request(id)
			u0 := unison.Requests()
			got[i] = g.rest(t, op.method, path, bobTok, body)
			calls[i] = unison.Requests() - u0
			got[i].body = normalise(got[i].body, got[i].header.Get("X-Request-Id"), id)
		}
		if got[0].status != http.StatusNotFound || got[0].errCode() != "SESSION_NOT_FOUND" {
			// A route this build answers the same way for everyone, A on
			// its own session included, is not served yet: nothing to leak.
			path, body := op.request(sid)
			mine := g.rest(t, op.method, path, aliceTok, body)
			if mine.status == got[0].status && mine.errCode() == got[0].errCode() && mine.errMessage() == got[0].errMessage() {
				t.Logf("%s: %d %s for its own tenant too; not served by this build, skipped", op, mine.status, mine.errCode())
				continue
			}
			t.Errorf("%s on another tenant's session: %d %s", op, got[0].status, got[0].body)
		}
		if got[0].status != got[1].status || !bytes.Equal(got[0].body, got[1].body) ||
			got[0].header.Get("Content-Type") != got[1].header.Get("Content-Type") {
			t.Errorf("%s tells A's session from a random id:\n  A's:    %d %s\n  random: %d %s", op, got[0].status, got[0].body, got[1].status, got[1].body)
		}
		if calls[0] != calls[1] {
			t.Errorf("%s: %d Unison requests for A's session, %d for a random id", op, calls[0], calls[1])
		}
	}
	// The same user id in another tenant is another identity.
	if r := g.rest(t, "GET", "/api/sessions/"+sid, mint(t, p, user{"alice", "globex", "owner"}.claims()), nil); r.status != http.StatusNotFound {
		t.Errorf("alice@globex reading alice@acme's session: %d %s", r.status, r.body)
	}

	if n := podium.Requests() - podiumBefore; n != 0 {
		t.Errorf("tenant B's attempts caused %d Podium requests", n)
	}

	// B's lists hold its own session and never A's.
	for _, archived := range []bool{false, true} {
		l := b.call("list", map[string]any{"type": "list_sessions", "includeArchived": archived})
		ids := idsOf(l["sessions"])
		if !ids[own] || ids[sid] {
			t.Errorf("B's WebSocket list (includeArchived %v): %v", archived, l["sessions"])
		}
		path := "/api/sessions"
		if archived {
			path += "?includeArchived=true"
		}
		r := g.rest(t, "GET", path, bobTok, nil)
		var body struct{ Sessions any }
		_ = json.Unmarshal(r.body, &body)
		if ids := idsOf(body.Sessions); r.status != http.StatusOK || !ids[own] || ids[sid] {
			t.Errorf("B's REST list (includeArchived %v): %d %s", archived, r.status, r.body)
		}
	}

	// Members are per tenant too: B neither sees A's nor can touch them,
	// and its refusal is the one for a user nobody has.
	if r := a.call("add-carol", map[string]any{"type": "manage_members", "action": "add", "userId": "carol", "role": "developer"}); r["type"] != "member_list" {
		t.Fatalf("A adds carol: %v", r)
	}
	if r := b.call("members", map[string]any{"type": "manage_members", "action": "list"}); r["type"] != "member_list" ||
		strings.Contains(mustJSON(t, r["members"]), "carol") {
		t.Errorf("B's member list: %v", r)
	}
	for _, action := range []string{"update", "remove"} {
		var ans [2][]byte
		for i, uid := range []string{"carol", "nobody-" + rnd[4:12]} {
			msg := map[string]any{"type": "manage_members", "action": action, "userId": uid, "role": "guest", "requestId": "m-" + action + "-" + uid}
			ans[i] = normalise(rawCall(t, b, msg), msg["requestId"].(string), uid)
		}
		if !bytes.Contains(ans[0], []byte(`"code":"NOT_FOUND"`)) || !bytes.Equal(ans[0], ans[1]) {
			t.Errorf("B's %s of A's member:\n  A's:    %s\n  random: %s", action, ans[0], ans[1])
		}
	}
	if r := g.rest(t, "GET", "/api/members", bobTok, nil); r.status != http.StatusOK || bytes.Contains(r.body, []byte("carol")) {
		t.Errorf("B's REST member list: %d %s", r.status, r.body)
	}
	for _, m := range []struct {
		method string
		body   any
	}{{"PATCH", map[string]any{"role": "guest"}}, {"DELETE", nil}} {
		var got [2]restResp
		for i, uid := range []string{"carol", "nobody-" + rnd[4:12]} {
			got[i] = g.rest(t, m.method, "/api/members/"+uid, bobTok, m.body)
			got[i].body = normalise(got[i].body, got[i].header.Get("X-Request-Id"), uid)
		}
		if got[0].status != http.StatusNotFound || got[0].status != got[1].status || !bytes.Equal(got[0].body, got[1].body) {
			t.Errorf("B's %s of A's member over REST:\n  A's:    %d %s\n  random: %d %s", m.method, got[0].status, got[0].body, got[1].status, got[1].body)
		}
	}
	if r := a.call("list-carol", map[string]any{"type": "manage_members", "action": "list"}); !strings.Contains(mustJSON(t, r["members"]), `"role":"developer"`) {
		t.Errorf("A's members after B's attempts: %v", r)
	}

	// Nothing B sent changed A's session: not renamed, archived or deleted,
	// and it still runs turns.
	r := g.rest(t, "GET", "/api/sessions/"+sid, aliceTok, nil)
	var meta map[string]any
	if err := json.Unmarshal(r.body, &meta); err != nil || r.status != http.StatusOK ||
		meta["name"] == "mine now" || meta["archived"] != false {
		t.Fatalf("A's session after B's attempts: %d %s", r.status, r.body)
	}
	a.send(map[string]any{"type": "run_turn", "sessionId": sid, "text": "still mine"})
	a.until("turn_complete")
}

// rawCall sends msg and returns the raw frame answering its requestId.
func rawCall(t *testing.T, c *client, msg map[string]any) []byte {
	t.Helper()
	c.send(msg)
	rid := msg["requestId"].(string)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		_ = c.c.SetReadDeadline(deadline)
		typ, b, err := c.c.ReadMessage()
		if err != nil {
			t.Fatalf("%s: read: %v", msg["type"], err)
		}
		if typ != websocket.TextMessage {
			continue
		}
		var frame map[string]any
		if err := json.Unmarshal(b, &frame); err != nil {
			t.Fatalf("%s: frame is not JSON: %s", msg["type"], b)
		}
		checkReceived(t, frame)
		if frame["requestId"] == rid {
			return b
		}
	}
	t.Fatalf("%s: no answer", msg["type"])
	return nil
}

// normalise blanks the request id and the session id in a response, which
// legitimately differ between the two requests compared.
func normalise(b []byte, requestID, sessionID string) []byte {
	if requestID != "" {
		b = bytes.ReplaceAll(b, []byte(`"requestId":"`+requestID+`"`), []byte(`"requestId":"…"`))
	}
	return regexp.MustCompile(regexp.QuoteMeta(sessionID)).ReplaceAll(b, []byte("<session>"))
}

func idsOf(sessions any) map[string]bool {
	ids := map[string]bool{}
	list, _ := sessions.([]any)
	for _, s := range list {
		if m, ok := s.(map[string]any); ok {
			id, _ := m["id"].(string)
			ids[id] = true
		}
	}
	return ids
}
