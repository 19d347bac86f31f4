package e2e

import (
	"encoding/json"
	"reflect"
	"testing"
)

// A guarded agent waits for permission; an approval from one client resolves
// it for every attached client, and the turn completes with the tool run.
func TestGuardedAgentPermission(t *testing.T) {
	g := startGateway(t, nil)
	a, b := g.dialDev(t), g.dialDev(t)
	id := a.createSession("guarded-agent")["id"].(string)
	a.join(id, nil)
	b.join(id, nil)

	a.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "please"})
	upToPrompt := a.until("permission_requested")
	prompt := upToPrompt[len(upToPrompt)-1]
	b.until("permission_requested")
	st := a.expect("session_state")
	if st["state"] != "waiting" {
		t.Fatalf("state after prompt: %v", st)
	}
	b.send(map[string]any{"type": "answer_question", "sessionId": id, "promptId": prompt["promptId"], "approved": true})
	for _, c := range []*client{a, b} {
		res := c.until("approval_resolved")
		last := res[len(res)-1]
		if last["promptId"] != prompt["promptId"] || last["approved"] != true {
			t.Fatalf("approval_resolved: %v", last)
		}
	}
	rest := sequenced(a.until("turn_complete"))
	hasTool := false
	for _, e := range rest {
		hasTool = hasTool || e["type"] == "tool_result"
	}
	if !hasTool {
		t.Fatalf("approved turn did not run the tool: %s", types(rest))
	}

	// Denied: the turn ends without the tool.
	a.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "again"})
	p2 := a.until("permission_requested")
	a.send(map[string]any{"type": "answer_question", "sessionId": id, "promptId": p2[len(p2)-1]["promptId"], "approved": false})
	denied := sequenced(a.until("turn_complete"))
	a.expect("session_state") // running → ready
	for _, e := range denied {
		if e["type"] == "tool_result" || e["type"] == "tool_call" {
			t.Fatalf("denied turn ran the tool: %s", types(denied))
		}
	}
	// An unknown prompt is refused.
	a.send(map[string]any{"type": "answer_question", "sessionId": id, "promptId": "nope", "approved": true, "requestId": "q"})
	if e := a.expect("error"); e["code"] != "INVALID_STATE" && e["code"] != "NOT_FOUND" {
		t.Fatalf("unknown prompt: %v", e)
	}
}

// stop_turn ends a running turn with stopReason cancelled; a stop with no
// turn running is INVALID_STATE.
func TestStopTurn(t *testing.T) {
	g := startGateway(t, nil)
	c := g.dialDev(t)
	id := c.createSession("guarded-agent")["id"].(string)
	c.join(id, nil)
	c.send(map[string]any{"type": "stop_turn", "sessionId": id, "requestId": "s0"})
	if e := c.expect("error"); e["code"] != "INVALID_STATE" || e["requestId"] != "s0" {
		t.Fatalf("stop with no turn: %v", e)
	}
	c.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "go"})
	c.until("permission_requested")
	c.send(map[string]any{"type": "stop_turn", "sessionId": id})
	evs := c.until("turn_complete")
	if last := evs[len(evs)-1]; last["stopReason"] != "cancelled" {
		t.Fatalf("stopped turn: %v", last)
	}
	// The session is usable again.
	c.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "go again"})
	c.until("permission_requested")
}

// A client that drops mid-turn and rejoins with afterSeq ends up holding
// exactly what a client that never left holds, field for field.
func TestResumeAfterDisconnect(t *testing.T) {
	g := startGateway(t, nil)
	steady := g.dialDev(t)
	id := steady.createSession("coding-agent")["id"].(string)
	snap := steady.join(id, nil)
	epoch := snap["epoch"]

	flaky := g.dialDev(t)
	flaky.join(id, nil)
	steady.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "first"})
	var held []map[string]any
	for len(held) < 5 {
		if m := flaky.next(); m["seq"] != nil {
			held = append(held, m)
		}
	}
	_ = flaky.c.Close()
	all := sequenced(steady.until("turn_complete"))
	steady.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "second"})
	all = append(all, sequenced(steady.until("turn_complete"))...)

	back := g.dialDev(t)
	s2 := back.join(id, map[string]any{"afterSeq": seqOf(held[len(held)-1]), "epoch": epoch})
	if s2["replayComplete"] != true || s2["latestSeq"].(float64) != float64(seqOf(all[len(all)-1])) {
		t.Fatalf("resume snapshot: %v", s2)
	}
	for len(held) < len(all) {
		if m := back.next(); m["seq"] != nil {
			held = append(held, m)
		}
	}
	requireGapless(t, held, 1)
	for i := range all {
		if !reflect.DeepEqual(all[i], held[i]) {
			a, _ := json.Marshal(all[i])
			b, _ := json.Marshal(held[i])
			t.Fatalf("event %d differs:\nsteady  %s\nresumed %s", i, a, b)
		}
	}

	// A stale epoch is told to rebuild rather than given a partial replay.
	other := g.dialDev(t)
	s3 := other.join(id, map[string]any{"afterSeq": 1, "epoch": "not-this-one"})
	if s3["replayComplete"] != false {
		t.Fatalf("stale epoch: %v", s3)
	}
	// get_events serves the same events.
	other.send(map[string]any{"type": "get_events", "sessionId": id, "afterSeq": 0, "limit": 1000, "requestId": "ev"})
	page := other.expect("events")
	evs := page["events"].([]any)
	if len(evs) != len(all) || page["hasMore"] != false {
		t.Fatalf("get_events: %d events, want %d", len(evs), len(all))
	}
	for i := range all {
		if !reflect.DeepEqual(all[i], evs[i]) {
			t.Fatalf("get_events event %d differs: %v vs %v", i, all[i], evs[i])
		}
	}
}
