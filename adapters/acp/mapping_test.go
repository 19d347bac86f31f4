package acp

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/diminuendo/diminuendo/domain"
)

func ev(typ string, seq uint64, data map[string]any) *domain.Event {
	return &domain.Event{Type: typ, SessionID: "s", TurnID: "turn_1", Seq: seq, Data: data}
}

func kinds(us []update) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i], _ = u["sessionUpdate"].(string)
	}
	return out
}

// roundTrip gives an update the shape a client decodes (numbers as float64).
func roundTrip(t *testing.T, u update) map[string]any {
	t.Helper()
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTableMapsEachEventKind(t *testing.T) {
	cases := []struct {
		name  string
		ev    *domain.Event
		mc    mapCtx
		kinds []string
	}{
		{"text delta", ev(domain.EvTextDelta, 1, map[string]any{"text": "hi"}), mapCtx{}, []string{"agent_message_chunk"}},
		{"thinking", ev(domain.EvThinkingProgress, 1, map[string]any{"text": "hmm"}), mapCtx{}, []string{"agent_thought_chunk"}},
		{"user message on replay", ev(domain.EvUserMessage, 1, map[string]any{"text": "q"}), mapCtx{echoUser: true}, []string{"user_message_chunk"}},
		{"own live user message travels in _meta", ev(domain.EvUserMessage, 1, map[string]any{"text": "q"}), mapCtx{}, []string{"session_info_update"}},
		{"steer", ev(domain.EvSteerApplied, 1, map[string]any{"text": "go left"}), mapCtx{}, []string{"user_message_chunk"}},
		{"tool start", ev(domain.EvToolCallStart, 1, map[string]any{"toolCallId": "c", "toolName": "bash"}), mapCtx{}, []string{"tool_call"}},
		{"tool result", ev(domain.EvToolResult, 1, map[string]any{"toolCallId": "c", "output": "ok", "isError": false}), mapCtx{}, []string{"tool_call_update"}},
		{"tool error", ev(domain.EvToolError, 1, map[string]any{"toolCallId": "c", "message": "boom"}), mapCtx{}, []string{"tool_call_update"}},
		{"first terminal output opens a tool call", ev(domain.EvTerminalStream, 1, map[string]any{"data": "$ ls\n"}), mapCtx{}, []string{"tool_call", "tool_call_update"}},
		{"usage", ev(domain.EvUsageUpdated, 1, map[string]any{"inputTokens": 3.0, "outputTokens": 4.0}), mapCtx{}, []string{"usage_update"}},
		{"permission", ev(domain.EvPermissionRequested, 1, map[string]any{"promptId": "p", "toolName": "write_file", "description": "Write?"}), mapCtx{}, []string{"tool_call"}},
		{"plan", ev(domain.EvPlanCreated, 1, map[string]any{"steps": []any{"a", "b"}}), mapCtx{}, []string{"plan"}},
		{"turn started has no mapping", ev(domain.EvTurnStarted, 1, nil), mapCtx{}, []string{"session_info_update"}},
		{"an unknown upstream event", ev(domain.EvAgentEvent, 1, map[string]any{"upstreamType": "x.y", "content": map[string]any{"k": 1.0}}), mapCtx{}, []string{"session_info_update"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var st mapState
			got := translate(&st, c.ev, c.mc)
			if !reflect.DeepEqual(kinds(got), c.kinds) {
				t.Fatalf("kinds %v, want %v", kinds(got), c.kinds)
			}
			for _, u := range got {
				mark := roundTrip(t, u)["_meta"].(map[string]any)[metaKey].(map[string]any)
				if mark["seq"] != 1.0 || mark["event"] != c.ev.Type {
					t.Fatalf("_meta mark %v", mark)
				}
			}
		})
	}
}

func TestUnmappedEventTravelsWholeInMeta(t *testing.T) {
	var st mapState
	e := ev(domain.EvAgentEvent, 7, map[string]any{"upstreamType": "sandbox.weird", "content": map[string]any{"n": 1.0}})
	got := roundTrip(t, translate(&st, e, mapCtx{})[0])
	mark := got["_meta"].(map[string]any)[metaKey].(map[string]any)
	want := map[string]any{"upstreamType": "sandbox.weird", "content": map[string]any{"n": 1.0}}
	if !reflect.DeepEqual(mark["payload"], want) {
		t.Fatalf("payload %v, want %v", mark["payload"], want)
	}
}

func TestFileWriteIsADiffWithLocation(t *testing.T) {
	var st mapState
	translate(&st, ev(domain.EvToolCallStart, 1, map[string]any{"toolCallId": "c", "toolName": "write_file"}), mapCtx{})
	got := roundTrip(t, translate(&st, ev(domain.EvToolCall, 2, map[string]any{"toolCallId": "c", "toolName": "write_file",
		"input": map[string]any{"path": "a.txt", "content": "new", "oldText": "old"}}), mapCtx{})[0])
	if got["status"] != "in_progress" || got["title"] != "write_file a.txt" {
		t.Fatalf("update %v", got)
	}
	wantContent := []any{map[string]any{"type": "diff", "path": "a.txt", "oldText": "old", "newText": "new"}}
	if !reflect.DeepEqual(got["content"], wantContent) {
		t.Fatalf("content %v", got["content"])
	}
	if !reflect.DeepEqual(got["locations"], []any{map[string]any{"path": "a.txt"}}) {
		t.Fatalf("locations %v", got["locations"])
	}
}

func TestPlanIsSentWholeEachTime(t *testing.T) {
	var st mapState
	translate(&st, ev(domain.EvPlanCreated, 1, map[string]any{"steps": []any{
		map[string]any{"id": "s1", "title": "Read"}, map[string]any{"id": "s2", "title": "Write", "status": "pending"},
	}}), mapCtx{})
	translate(&st, ev(domain.EvPlanStepStarted, 2, map[string]any{"stepId": "s1"}), mapCtx{})
	got := roundTrip(t, translate(&st, ev(domain.EvPlanStepCompleted, 3, map[string]any{"stepId": "s1"}), mapCtx{})[0])
	want := []any{
		map[string]any{"content": "Read", "priority": "medium", "status": "completed"},
		map[string]any{"content": "Write", "priority": "medium", "status": "pending"},
	}
	if !reflect.DeepEqual(got["entries"], want) {
		t.Fatalf("entries %v", got["entries"])
	}
}

func TestTerminalUsesMetaConventionOnlyWhenAdvertised(t *testing.T) {
	var plain, meta mapState
	p := translate(&plain, ev(domain.EvTerminalStream, 1, map[string]any{"data": "x\n"}), mapCtx{})
	m := translate(&meta, ev(domain.EvTerminalStream, 1, map[string]any{"data": "x\n"}), mapCtx{terminalMeta: true})
	if _, ok := p[1]["content"]; !ok {
		t.Fatal("plain terminal output is content")
	}
	out := roundTrip(t, m[1])["_meta"].(map[string]any)["terminal_output"].(map[string]any)
	if out["data"] != "x\n" {
		t.Fatalf("terminal_output %v", out)
	}
	exit := roundTrip(t, translate(&meta, ev(domain.EvTerminalComplete, 2, map[string]any{"exitCode": 2.0}), mapCtx{terminalMeta: true})[0])
	if exit["status"] != "failed" || exit["_meta"].(map[string]any)["terminal_exit"].(map[string]any)["exit_code"] != 2.0 {
		t.Fatalf("exit %v", exit)
	}
}

func TestStopReasonsAreACPValues(t *testing.T) {
	acpEnum := map[string]bool{"end_turn": true, "max_tokens": true, "max_turn_requests": true, "refusal": true, "cancelled": true}
	for from, to := range stopReasons {
		if !acpEnum[to] {
			t.Fatalf("%s maps to %s, not an ACP stop reason", from, to)
		}
	}
	if _, ok := stopReasons[domain.StopError]; ok {
		t.Fatal("error has no ACP stop reason; it is answered as a JSON-RPC error")
	}
}

func TestToolKinds(t *testing.T) {
	for name, want := range map[string]string{"write_file": "edit", "read_file": "read", "bash": "execute", "grep": "search", "web_fetch": "fetch", "frobnicate": "other"} {
		if got := toolKind(name); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
}

func TestErrorsCarryTheGatewayCode(t *testing.T) {
	e := errorOf(domain.ErrSessionNotFound())
	if e.Code != codeNotFound || e.Data.Code != "SESSION_NOT_FOUND" {
		t.Fatalf("%+v", e)
	}
	for k := domain.KindInternal; k <= domain.KindConflict; k++ {
		if _, ok := kindErrors[k]; !ok {
			t.Errorf("kind %v has no ACP error", k)
		}
	}
}
