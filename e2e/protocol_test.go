package e2e

import (
	"testing"

	"github.com/diminuendo/diminuendo/app/config"
)

// Session management messages and their direct replies.
func TestSessionManagementMessages(t *testing.T) {
	g := startGateway(t, nil)
	c := g.dialDev(t)
	other := g.dialDev(t)
	id := c.createSession("echo")["id"].(string)

	c.send(map[string]any{"type": "rename_session", "sessionId": id, "name": "renamed", "requestId": "rn"})
	up := c.expect("session_updated")
	if up["requestId"] != "rn" || up["session"].(map[string]any)["name"] != "renamed" {
		t.Fatalf("rename: %v", up)
	}
	c.sendInvalid(map[string]any{"type": "rename_session", "sessionId": id, "requestId": "rn2"})
	if e := c.expect("error"); e["code"] != "INVALID_MESSAGE" {
		t.Fatalf("rename without name: %v", e)
	}

	c.send(map[string]any{"type": "archive_session", "sessionId": id})
	if s := c.expect("session_updated")["session"].(map[string]any); s["archived"] != true {
		t.Fatalf("archive: %v", s)
	}
	c.send(map[string]any{"type": "list_sessions"})
	for _, s := range c.expect("session_list")["sessions"].([]any) {
		if s.(map[string]any)["id"] == id {
			t.Fatal("archived session listed without includeArchived")
		}
	}
	c.send(map[string]any{"type": "list_sessions", "includeArchived": true})
	found := false
	for _, s := range c.expect("session_list")["sessions"].([]any) {
		found = found || s.(map[string]any)["id"] == id
	}
	if !found {
		t.Fatal("archived session missing with includeArchived")
	}
	c.send(map[string]any{"type": "join_session", "sessionId": id})
	c.expect("state_snapshot")
	c.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "x", "requestId": "arch"})
	if e := c.expect("error"); e["code"] != "INVALID_STATE" || e["requestId"] != "arch" {
		t.Fatalf("turn on archived session: %v", e)
	}
	c.send(map[string]any{"type": "unarchive_session", "sessionId": id})
	if s := c.expect("session_updated")["session"].(map[string]any); s["archived"] != false {
		t.Fatalf("unarchive: %v", s)
	}

	// steer: accepted during a turn, applied as a sequenced event.
	c.send(map[string]any{"type": "steer", "sessionId": id, "text": "faster", "requestId": "st0"})
	if e := c.expect("error"); e["code"] != "INVALID_STATE" {
		t.Fatalf("steer with no turn: %v", e)
	}

	other.join(id, nil)
	other.send(map[string]any{"type": "leave_session", "sessionId": id, "requestId": "lv"})
	if l := other.expect("session_left"); l["sessionId"] != id || l["requestId"] != "lv" {
		t.Fatalf("leave: %v", l)
	}
	other.send(map[string]any{"type": "leave_session", "sessionId": id})
	if e := other.expect("error"); e["code"] != "SESSION_NOT_FOUND" {
		t.Fatalf("second leave: %v", e)
	}
	other.join(id, nil)

	c.send(map[string]any{"type": "delete_session", "sessionId": id, "requestId": "del"})
	// The deleting connection, joined, gets exactly one session_deleted: its reply.
	if m := c.expect("session_deleted"); m["requestId"] != "del" {
		t.Fatalf("delete reply: %v", m)
	}
	if m := other.until("session_deleted"); m[len(m)-1]["sessionId"] != id {
		t.Fatalf("attached client not told: %v", m)
	}
	c.send(map[string]any{"type": "join_session", "sessionId": id})
	if e := c.expect("error"); e["code"] != "SESSION_NOT_FOUND" {
		t.Fatalf("join deleted: %v", e)
	}
}

func TestSteerHistoryAndEventsPaging(t *testing.T) {
	g := startGateway(t, func(cfg *config.Config) { cfg.SimStepDelay = 5e6 })
	c := g.dialDev(t)
	id := c.createSession("coding-agent")["id"].(string)
	c.join(id, nil)
	c.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "one", "clientTurnId": "ct-1"})
	c.until("turn_started")
	c.send(map[string]any{"type": "steer", "sessionId": id, "text": "also add tests", "requestId": "st"})
	frames := c.until("turn_complete")
	accepted, applied := false, false
	for _, f := range frames {
		accepted = accepted || f["type"] == "steer_accepted" && f["requestId"] == "st" && f["turnId"] != ""
		applied = applied || f["type"] == "steer_applied" && f["text"] == "also add tests"
	}
	if !accepted || !applied {
		t.Fatalf("steer: accepted %v applied %v in %s", accepted, applied, types(frames))
	}
	c.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "two"})
	last := sequenced(c.until("turn_complete"))
	latest := seqOf(last[len(last)-1])

	c.send(map[string]any{"type": "get_history", "sessionId": id, "requestId": "h"})
	h := c.expect("history")
	turns := h["turns"].([]any)
	if len(turns) != 2 || h["hasMore"] != false {
		t.Fatalf("history: %v", h)
	}
	first := turns[0].(map[string]any)
	if first["userText"] != "one" || first["clientTurnId"] != "ct-1" || first["status"] != "complete" || first["finalText"] == "" {
		t.Fatalf("first turn: %v", first)
	}
	second := turns[1].(map[string]any)
	c.send(map[string]any{"type": "get_history", "sessionId": id, "beforeTurnId": second["turnId"], "limit": 1})
	h2 := c.expect("history")
	if ts := h2["turns"].([]any); len(ts) != 1 || ts[0].(map[string]any)["turnId"] != first["turnId"] || h2["hasMore"] != false {
		t.Fatalf("paged history: %v", h2)
	}

	// get_events pages with limit and hasMore, gapless across pages.
	var got []any
	after := 0.0
	for i := 0; i < 100; i++ {
		c.send(map[string]any{"type": "get_events", "sessionId": id, "afterSeq": after, "limit": 7})
		p := c.expect("events")
		evs := p["events"].([]any)
		got = append(got, evs...)
		if p["latestSeq"].(float64) != float64(latest) {
			t.Fatalf("latestSeq %v want %d", p["latestSeq"], latest)
		}
		if p["hasMore"] != true {
			break
		}
		after = evs[len(evs)-1].(map[string]any)["seq"].(float64)
	}
	if uint64(len(got)) != latest {
		t.Fatalf("paged %d events, want %d", len(got), latest)
	}
	for i, e := range got {
		if e.(map[string]any)["seq"].(float64) != float64(i+1) {
			t.Fatalf("page order broken at %d", i)
		}
	}
	c.sendInvalid(map[string]any{"type": "get_events", "sessionId": id, "afterSeq": 0, "limit": 1001, "requestId": "big"})
	if e := c.expect("error"); e["code"] != "INVALID_MESSAGE" {
		t.Fatalf("limit 1001: %v", e)
	}
}

func TestManageMembers(t *testing.T) {
	g := startGateway(t, nil)
	c := g.dialDev(t)
	c.send(map[string]any{"type": "manage_members", "action": "list", "requestId": "l"})
	if m := c.expect("member_list"); len(m["members"].([]any)) != 0 {
		t.Fatalf("fresh tenant: %v", m)
	}
	c.send(map[string]any{"type": "manage_members", "action": "add", "userId": "u-2", "email": "two@example.com", "role": "developer"})
	ms := c.expect("member_list")["members"].([]any)
	if len(ms) != 1 || ms[0].(map[string]any)["role"] != "developer" {
		t.Fatalf("add: %v", ms)
	}
	c.send(map[string]any{"type": "manage_members", "action": "add", "userId": "u-2", "role": "viewer"})
	if e := c.expect("error"); e["code"] != "INVALID_STATE" {
		t.Fatalf("double add: %v", e)
	}
	c.send(map[string]any{"type": "manage_members", "action": "update", "userId": "u-2", "role": "admin"})
	ms = c.expect("member_list")["members"].([]any)
	if ms[0].(map[string]any)["role"] != "admin" || ms[0].(map[string]any)["email"] != "two@example.com" {
		t.Fatalf("update: %v", ms)
	}
	c.sendInvalid(map[string]any{"type": "manage_members", "action": "update", "userId": "u-2", "role": "emperor"})
	if e := c.expect("error"); e["code"] != "INVALID_MESSAGE" {
		t.Fatalf("bad role: %v", e)
	}
	c.sendInvalid(map[string]any{"type": "manage_members", "action": "promote"})
	if e := c.expect("error"); e["code"] != "INVALID_MESSAGE" {
		t.Fatalf("bad action: %v", e)
	}
	c.send(map[string]any{"type": "manage_members", "action": "remove", "userId": "u-2"})
	if ms := c.expect("member_list")["members"].([]any); len(ms) != 0 {
		t.Fatalf("remove: %v", ms)
	}
	c.send(map[string]any{"type": "manage_members", "action": "remove", "userId": "u-2"})
	if e := c.expect("error"); e["code"] != "NOT_FOUND" {
		t.Fatalf("remove missing: %v", e)
	}
}
