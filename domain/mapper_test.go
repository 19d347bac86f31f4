package domain

import (
	"encoding/json"
	"reflect"
	"testing"
)

// Every row of the mapping table, in both naming styles and every dialect of
// where the type lives.
func TestMapperRows(t *testing.T) {
	type row struct {
		names []string
		want  string
	}
	rows := []row{
		{[]string{"user_message", "message.user"}, EvUserMessage},
		{[]string{"created", "stream_start", "turn_started", "turn.started"}, EvTurnStarted},
		{[]string{"update", "stream_update", "text_delta", "message.delta", "agent_message_delta"}, EvTextDelta},
		{[]string{"complete", "stream_end", "stream_complete", "turn_complete", "turn.complete"}, EvTurnComplete},
		{[]string{"error", "turn_error", "turn.error"}, EvTurnError},
		{[]string{"tool.call_start", "tool_call_start"}, EvToolCallStart},
		{[]string{"tool.call_delta", "tool_call_delta"}, EvToolCallDelta},
		{[]string{"tool.call", "tool_call"}, EvToolCall},
		{[]string{"tool.result", "tool_result"}, EvToolResult},
		{[]string{"tool.error", "tool_error"}, EvToolError},
		{[]string{"tool.question_requested", "question_requested"}, EvQuestionRequested},
		{[]string{"tool.permission_requested", "permission_requested"}, EvPermissionRequested},
		{[]string{"tool.approval_resolved", "approval_resolved"}, EvApprovalResolved},
		{[]string{"steer", "steer_applied", "turn.steer"}, EvSteerApplied},
		{[]string{"thinking.start", "thinking_start"}, EvThinkingStart},
		{[]string{"thinking.progress", "thinking_progress", "thinking_update"}, EvThinkingProgress},
		{[]string{"thinking.complete", "thinking_complete"}, EvThinkingComplete},
		{[]string{"terminal.stream", "terminal_stream"}, EvTerminalStream},
		{[]string{"terminal.complete", "terminal_complete"}, EvTerminalComplete},
		{[]string{"sandbox.provisioning", "sandbox_provisioning"}, EvSandboxProvisioning},
		{[]string{"sandbox.init", "sandbox_init"}, EvSandboxInit},
		{[]string{"sandbox.removed", "sandbox_removed"}, EvSandboxRemoved},
		{[]string{"plan.created", "plan_created"}, EvPlanCreated},
		{[]string{"plan.step_started", "plan_step_started"}, EvPlanStepStarted},
		{[]string{"plan.step_completed", "plan_step_completed"}, EvPlanStepCompleted},
		{[]string{"plan.revised", "plan_revised"}, EvPlanRevised},
		{[]string{"usage.updated", "usage_updated", "usage"}, EvUsageUpdated},
	}
	covered := map[string]bool{}
	for _, r := range rows {
		for _, n := range r.names {
			covered[n] = true
			dialects := map[string]map[string]any{
				"event_type":         {"type": "update", "event_type": n, "content": map[string]any{}},
				"messageType":        {"messageType": n, "content": map[string]any{}},
				"content.event_type": {"content": map[string]any{"event_type": n}},
			}
			if n != "update" {
				dialects["type"] = map[string]any{"type": n}
			}
			for d, f := range dialects {
				ev := MapUpstream("s1", 9, UpstreamEvent{Seq: 4, TS: 77, Fields: f})
				if ev.Type != r.want || ev.Seq != 9 || ev.TS != 77 || ev.SessionID != "s1" {
					t.Errorf("%s via %s → %s (seq %d ts %d), want %s", n, d, ev.Type, ev.Seq, ev.TS, r.want)
				}
			}
		}
	}
	for n := range MappedTypes() {
		if !covered[n] {
			t.Errorf("mapping row %q has no test", n)
		}
	}
}

func TestMapperFields(t *testing.T) {
	cases := []struct {
		name string
		in   map[string]any
		want Event
	}{
		{"tool call start", map[string]any{"event_type": "tool.call_start", "turn_id": "t1",
			"content": map[string]any{"tool_call_id": "c1", "tool_name": "write_file"}},
			Event{Type: EvToolCallStart, TurnID: "t1", Data: map[string]any{"toolCallId": "c1", "toolName": "write_file"}}},
		{"missing tool fields default to empty", map[string]any{"messageType": "tool.call_start", "content": map[string]any{}},
			Event{Type: EvToolCallStart, Data: map[string]any{"toolCallId": "", "toolName": ""}}},
		{"turn complete usage camelCased", map[string]any{"event_type": "turn_complete", "content": map[string]any{
			"final_text": "done", "stop_reason": "max_tokens", "usage": map[string]any{"input_tokens": 3.0, "output_tokens": 4.0}}},
			Event{Type: EvTurnComplete, Data: map[string]any{"finalText": "done", "stopReason": "max_tokens",
				"usage": map[string]any{"inputTokens": 3.0, "outputTokens": 4.0}}}},
		{"turn complete defaults", map[string]any{"type": "complete"},
			Event{Type: EvTurnComplete, Data: map[string]any{"finalText": "", "stopReason": StopEndTurn,
				"usage": map[string]any{"inputTokens": 0, "outputTokens": 0}}}},
		{"tool result", map[string]any{"event_type": "tool.result", "content": map[string]any{"tool_call_id": "c1", "output": "ok", "is_error": true}},
			Event{Type: EvToolResult, Data: map[string]any{"toolCallId": "c1", "output": "ok", "isError": true}}},
		{"permission", map[string]any{"event_type": "tool.permission_requested", "content": map[string]any{"prompt_id": "p", "tool_name": "rm", "description": "delete"}},
			Event{Type: EvPermissionRequested, Data: map[string]any{"promptId": "p", "toolName": "rm", "description": "delete"}}},
		{"approval keeps answer keys", map[string]any{"event_type": "tool.approval_resolved", "content": map[string]any{"prompt_id": "p", "answers": map[string]any{"api_key": "x"}}},
			Event{Type: EvApprovalResolved, Data: map[string]any{"promptId": "p", "answers": map[string]any{"api_key": "x"}}}},
		{"terminal", map[string]any{"event_type": "terminal.complete", "content": map[string]any{"exit_code": 2.0}},
			Event{Type: EvTerminalComplete, Data: map[string]any{"exitCode": 2.0}}},
		{"empty thinking still an event (seq stays 1:1)", map[string]any{"event_type": "thinking_update", "content": map[string]any{"text": ""}},
			Event{Type: EvThinkingProgress, Data: map[string]any{"text": ""}}},
		{"plan passthrough camelCased", map[string]any{"event_type": "plan.step_started", "content": map[string]any{"step_id": "s1", "title": "x"}},
			Event{Type: EvPlanStepStarted, Data: map[string]any{"stepId": "s1", "title": "x"}}},
		{"flat frame fields", map[string]any{"type": "text_delta", "text": "hi", "turnId": "t9"},
			Event{Type: EvTextDelta, TurnID: "t9", Data: map[string]any{"text": "hi"}}},
		{"unknown forwarded, never dropped", map[string]any{"event_type": "memory.extracted", "content": map[string]any{"fact_id": "f"}},
			Event{Type: EvAgentEvent, Data: map[string]any{"upstreamType": "memory.extracted", "content": map[string]any{"fact_id": "f"}}}},
		{"no type at all", map[string]any{"content": map[string]any{"x": 1.0}},
			Event{Type: EvAgentEvent, Data: map[string]any{"upstreamType": "", "content": map[string]any{"x": 1.0}}}},
	}
	for _, c := range cases {
		got := MapUpstream("s", 1, UpstreamEvent{Seq: 1, TS: 5, Fields: c.in})
		c.want.SessionID, c.want.Seq, c.want.TS = "s", 1, 5
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", c.name, got, c.want)
		}
	}
}

// The same upstream event always encodes to the same bytes: replays on any
// instance are identical to the original delivery.
func TestEventEncodingDeterministic(t *testing.T) {
	f := map[string]any{"event_type": "tool.call", "turn_id": "t", "content": map[string]any{
		"tool_call_id": "c", "tool_name": "w", "input": map[string]any{"path": "a", "content": "b", "mode": "x"}}}
	first, _ := json.Marshal(MapUpstream("s", 3, UpstreamEvent{Seq: 3, TS: 1, Fields: f}))
	for i := 0; i < 50; i++ {
		again, _ := json.Marshal(MapUpstream("s", 3, UpstreamEvent{Seq: 3, TS: 1, Fields: f}))
		if string(again) != string(first) {
			t.Fatalf("encoding changed:\n%s\n%s", first, again)
		}
	}
	var back Event
	if err := json.Unmarshal(first, &back); err != nil {
		t.Fatal(err)
	}
	round, _ := json.Marshal(back)
	if string(round) != string(first) {
		t.Fatalf("round trip changed:\n%s\n%s", first, round)
	}
	// Data cannot overwrite the envelope.
	spoof, _ := json.Marshal(Event{Type: EvTextDelta, SessionID: "s", Seq: 2, Data: map[string]any{"seq": 99, "type": "x"}})
	var m map[string]any
	_ = json.Unmarshal(spoof, &m)
	if m["seq"] != 2.0 || m["type"] != EvTextDelta {
		t.Fatalf("envelope overwritten: %s", spoof)
	}
}

func FuzzMapUpstream(f *testing.F) {
	f.Add([]byte(`{"event_type":"tool.call","content":{"tool_call_id":1,"input":[1,2]}}`))
	f.Add([]byte(`{"messageType":null,"content":"str"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var fields map[string]any
		if json.Unmarshal(raw, &fields) != nil {
			return
		}
		ev := MapUpstream("s", 1, UpstreamEvent{Seq: 1, Fields: fields})
		if ev.Type == "" || ev.Seq != 1 {
			t.Fatalf("bad event %#v", ev)
		}
		if _, err := json.Marshal(ev); err != nil {
			t.Fatalf("unencodable: %v", err)
		}
	})
}
