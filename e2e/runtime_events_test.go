package e2e

import (
	"encoding/json"
	"testing"
	"time"
)

// The scripted agents never emit questions, tool errors, sandbox and plan
// events or event types the gateway does not know; an agent runtime does.
// Frames written onto the live Podium stream reach clients as their mapped
// events, live and replayed, each in the shape openapi.yaml declares (the
// frame check validates every one).
func TestRuntimeEventsReachClientsInTheirSchemas(t *testing.T) {
	u := startUpstreams(t, 0)
	g := startGatewayOn(t, u, nil)
	c := g.dialDev(t)
	id := c.createSession("echo")["id"].(string)
	c.join(id, nil)
	c.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "hi"})
	evs := sequenced(c.until("turn_complete"))
	last := seqOf(evs[len(evs)-1])

	runtime := []struct {
		upstream string
		content  map[string]any
		want     string
	}{
		{"sandbox.provisioning", map[string]any{"sandbox_id": "sbx_1", "status": "provisioning"}, "sandbox.provisioning"},
		{"sandbox.init", map[string]any{"sandbox_id": "sbx_1", "image": "python:3.12", "work_dir": "/workspace"}, "sandbox.init"},
		{"plan.created", map[string]any{"plan_id": "plan_1", "steps": []any{map[string]any{"step_id": "s1", "title": "read"}}}, "plan.created"},
		{"plan.step_started", map[string]any{"plan_id": "plan_1", "step_id": "s1"}, "plan.step_started"},
		{"plan.step_completed", map[string]any{"plan_id": "plan_1", "step_id": "s1", "result": "done"}, "plan.step_completed"},
		{"plan.revised", map[string]any{"plan_id": "plan_1", "reason": "new facts"}, "plan.revised"},
		{"tool.error", map[string]any{"tool_call_id": "call_9", "error": "the tool crashed"}, "tool_error"},
		{"runtime.telemetry", map[string]any{"cpu_ms": 12}, "agent_event"},
		{"sandbox.removed", map[string]any{"sandbox_id": "sbx_1"}, "sandbox.removed"},
		{"tool.question_requested", map[string]any{"prompt_id": "prompt_q", "questions": []any{
			map[string]any{"id": "lang", "question": "Which language?", "options": []any{"Go", "TypeScript"}},
		}}, "question_requested"},
	}
	for i, r := range runtime {
		frame, err := json.Marshal(map[string]any{
			"seq": last + uint64(i) + 1, "ts": time.Now().UnixMilli(), "type": "update",
			"event_type": r.upstream, "turn_id": "turn_rt", "content": r.content,
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := u.podium.InjectFrame("", frame); n != 1 {
			t.Fatalf("%s reached %d streams, want 1", r.upstream, n)
		}
	}
	live := sequenced(c.until("question_requested"))
	requireGapless(t, live, last+1)
	if len(live) != len(runtime) {
		t.Fatalf("live: %s", types(live))
	}
	for i, r := range runtime {
		if live[i]["type"] != r.want {
			t.Fatalf("event %d: %s, want %s (%s)", i, live[i]["type"], r.want, types(live))
		}
	}
	if live[2]["planId"] != "plan_1" || live[7]["upstreamType"] != "runtime.telemetry" {
		t.Fatalf("payloads: %v / %v", live[2], live[7])
	}

	// Replayed to a second connection, the question is also pending in the
	// snapshot; get_events pages the same events.
	b := g.dialDev(t)
	snap := b.join(id, map[string]any{"afterSeq": last, "requestId": "resume"})
	if p, _ := snap["pendingPrompts"].([]any); len(p) != 1 || p[0].(map[string]any)["type"] != "question_requested" {
		t.Fatalf("pending prompts: %v", snap["pendingPrompts"])
	}
	replayed := sequenced(b.until("question_requested"))
	requireGapless(t, replayed, last+1)
	b.send(map[string]any{"type": "get_events", "sessionId": id, "afterSeq": last, "requestId": "page"})
	page := b.expect("events")
	if got, _ := page["events"].([]any); len(got) != len(runtime) {
		t.Fatalf("page: %v", page)
	}
}
