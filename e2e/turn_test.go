package e2e

import (
	"strings"
	"testing"
)

// A dev-mode client gets the handshake, creates and joins a session and runs
// an echo turn whose events arrive in order with seq 1, 2, 3 … and no gap.
func TestEchoTurnOverWebSocket(t *testing.T) {
	g := startGateway(t, nil)
	c := g.dial(t, nil)
	w := c.expect("welcome")
	if w["protocolVersion"] != float64(1) || w["requiresAuth"] != false {
		t.Fatalf("welcome: %v", w)
	}
	conn := c.expect("connected")
	if conn["clientId"] == "" || conn["heartbeatIntervalMs"] != float64(30000) {
		t.Fatalf("connected: %v", conn)
	}
	auth := c.expect("authenticated")
	ident := auth["identity"].(map[string]any)
	if ident["userId"] != "dev-user-001" || ident["tenantId"] != "dev" || ident["role"] != "owner" {
		t.Fatalf("identity: %v", ident)
	}

	s := c.createSession("echo")
	if s["state"] != "inactive" || s["latestSeq"] != float64(0) {
		t.Fatalf("new session: %v", s)
	}
	id := s["id"].(string)
	snap := c.join(id, nil)
	if snap["replayComplete"] != true || snap["sessionId"] != id || snap["requestId"] != "join" {
		t.Fatalf("snapshot: %v", snap)
	}

	text := "hello there, this text is longer than one chunk ✓"
	c.send(map[string]any{"type": "run_turn", "sessionId": id, "text": text, "clientTurnId": "c-1"})
	evs := sequenced(c.until("turn_complete"))
	requireGapless(t, evs, 1)
	if evs[0]["type"] != "user_message" || evs[0]["text"] != text || evs[0]["clientTurnId"] != "c-1" {
		t.Fatalf("first event: %v", evs[0])
	}
	if evs[1]["type"] != "turn_started" {
		t.Fatalf("second event: %v", evs[1])
	}
	var joined strings.Builder
	deltas := 0
	for _, e := range evs[2 : len(evs)-1] {
		if e["type"] != "text_delta" {
			t.Fatalf("echo emitted %s: %s", e["type"], types(evs))
		}
		deltas++
		joined.WriteString(e["text"].(string))
		if e["turnId"] != evs[0]["turnId"] || e["sessionId"] != id {
			t.Fatalf("delta envelope: %v", e)
		}
	}
	if deltas < 1 || joined.String() != text {
		t.Fatalf("deltas %d joined %q", deltas, joined.String())
	}
	done := evs[len(evs)-1]
	if done["finalText"] != text || done["stopReason"] != "end_turn" {
		t.Fatalf("turn_complete: %v", done)
	}
	if _, ok := done["usage"].(map[string]any); !ok {
		t.Fatalf("turn_complete without usage: %v", done)
	}

	// A second turn continues the same sequence.
	c.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "again"})
	more := sequenced(c.until("turn_complete"))
	requireGapless(t, more, seqOf(done)+1)
}

// A coding-agent turn carries thinking, a tool call and result, terminal
// output, streamed text and usage, all sequenced.
func TestCodingAgentTurn(t *testing.T) {
	g := startGateway(t, nil)
	c := g.dialDev(t)
	id := c.createSession("coding-agent")["id"].(string)
	c.join(id, nil)
	c.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "write a file"})
	evs := sequenced(c.until("turn_complete"))
	requireGapless(t, evs, 1)
	have := map[string]bool{}
	for _, e := range evs {
		have[e["type"].(string)] = true
	}
	for _, want := range []string{"user_message", "turn_started", "thinking.start", "thinking.progress", "thinking.complete",
		"tool_call_start", "tool_call", "tool_result", "terminal.stream", "terminal.complete", "text_delta", "turn_complete"} {
		if !have[want] {
			t.Errorf("no %s in %s", want, types(evs))
		}
	}
	if have["agent_event"] {
		t.Errorf("an unmapped event reached the client: %s", types(evs))
	}
	usage := evs[len(evs)-1]["usage"].(map[string]any)
	if usage["inputTokens"].(float64) <= 0 || usage["outputTokens"].(float64) <= 0 {
		t.Errorf("usage: %v", usage)
	}
}
