package e2e

import (
	"strings"
	"testing"
)

// An asking agent's question waits for an answer: the session is waiting,
// every attached client sees approval_resolved with the answers, and the
// reply is built from them. A dismissal ends the turn without one.
func TestAskingAgentQuestion(t *testing.T) {
	g := startGateway(t, nil)
	a, b := g.dialDev(t), g.dialDev(t)
	id := a.createSession("asking-agent")["id"].(string)
	a.join(id, nil)
	b.join(id, nil)

	a.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "ask me"})
	upToPrompt := a.until("question_requested")
	q := upToPrompt[len(upToPrompt)-1]
	qs, _ := q["questions"].([]any)
	if len(qs) != 2 {
		t.Fatalf("questions: %v", q)
	}
	for _, x := range qs {
		if m, _ := x.(map[string]any); m["id"] == "" || m["question"] == "" {
			t.Fatalf("a question lacks an id or text: %v", q)
		}
	}
	b.until("question_requested")
	if st := a.expect("session_state"); st["state"] != "waiting" {
		t.Fatalf("state after question: %v", st)
	}

	answers := map[string]any{"topic": "the tides", "tone": "casual"}
	b.send(map[string]any{"type": "answer_question", "sessionId": id, "promptId": q["promptId"], "answers": answers})
	for _, c := range []*client{a, b} {
		res := c.until("approval_resolved")
		last := res[len(res)-1]
		if last["promptId"] != q["promptId"] || mustJSON(t, last["answers"]) != mustJSON(t, answers) {
			t.Fatalf("approval_resolved: %v", last)
		}
		if _, ok := last["approved"]; ok {
			t.Fatalf("a question's answer says approved: %v", last)
		}
	}
	done := a.until("turn_complete")
	tc := done[len(done)-1]
	if text, _ := tc["finalText"].(string); !strings.Contains(text, "the tides") || !strings.Contains(text, "casual") || tc["stopReason"] != "end_turn" {
		t.Fatalf("turn_complete does not use the answers: %v", tc)
	}
	if st := a.expect("session_state"); st["state"] != "ready" {
		t.Fatalf("state after the turn: %v", st)
	}

	// Dismissed: approval_resolved says so and the turn ends politely.
	a.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "ask again"})
	p2 := a.until("question_requested")
	a.send(map[string]any{"type": "answer_question", "sessionId": id, "promptId": p2[len(p2)-1]["promptId"], "dismissed": true})
	rest := a.until("turn_complete")
	var resolved map[string]any
	for _, e := range rest {
		if e["type"] == "approval_resolved" {
			resolved = e
		}
	}
	if resolved == nil || resolved["dismissed"] != true || resolved["answers"] != nil {
		t.Fatalf("dismissal: %s", types(rest))
	}
	if tc := rest[len(rest)-1]; tc["stopReason"] != "end_turn" || tc["finalText"] == "" || strings.Contains(tc["finalText"].(string), "topic:") {
		t.Fatalf("dismissed turn_complete: %v", tc)
	}

	// The answered prompt is gone: answering it again is refused.
	a.send(map[string]any{"type": "answer_question", "sessionId": id, "promptId": q["promptId"], "answers": answers, "requestId": "again"})
	if e := a.expect("error"); e["code"] != "INVALID_STATE" && e["code"] != "NOT_FOUND" {
		t.Fatalf("answering an answered question: %v", e)
	}
}
