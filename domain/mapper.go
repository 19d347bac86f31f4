package domain

import (
	"encoding/json"
	"strings"
)

// UpstreamEvent is one event of a Podium instance's stream, not yet
// interpreted. Seq is Podium's own per-instance sequence (from 1, gapless)
// and TS its Unix-ms timestamp. The frame itself is either Raw, its JSON as
// received (a JSON object; the typed per-event path reads it without
// decoding it into a map), or Fields, the frame decoded. Frame gives the
// decoded form of either.
type UpstreamEvent struct {
	Seq    uint64
	TS     int64
	Fields map[string]any
	Raw    []byte
}

// Frame returns the whole frame decoded: Fields, or Raw decoded (nil if
// Raw is not a JSON object).
func (u UpstreamEvent) Frame() map[string]any {
	if u.Fields != nil || u.Raw == nil {
		return u.Fields
	}
	var f map[string]any
	if json.Unmarshal(u.Raw, &f) != nil {
		return nil
	}
	return f
}

// field copies one client field from the first upstream content key present.
type field struct {
	out  string
	from []string
	def  any
}

// rule maps one upstream event type to one client event type.
type rule struct {
	to     string
	fields []field
	// passthrough copies every other content key too (camelCased), for event
	// families whose payload the gateway does not interpret.
	passthrough bool
}

var (
	fToolCallID = field{out: "toolCallId", from: []string{"tool_call_id", "toolCallId", "id"}, def: ""}
	fToolName   = field{out: "toolName", from: []string{"tool_name", "toolName", "name"}, def: ""}
	fPromptID   = field{out: "promptId", from: []string{"prompt_id", "promptId", "request_id", "requestId"}, def: ""}
	fText       = field{out: "text", from: []string{"text", "delta", "content"}, def: ""}
)

// rules is the mapping table. Both naming styles of Podium (dotted Gen A
// names and snake_case native names) map to the same client event.
var rules = func() map[string]rule {
	r := map[string]rule{}
	add := func(rl rule, names ...string) {
		for _, n := range names {
			r[n] = rl
		}
	}
	add(rule{to: EvUserMessage, fields: []field{fText, {out: "clientTurnId", from: []string{"client_turn_id", "clientTurnId"}}}},
		"user_message", "message.user")
	add(rule{to: EvTurnStarted}, "created", "stream_start", "turn_started", "turn.started")
	add(rule{to: EvTextDelta, fields: []field{fText}},
		"update", "stream_update", "text_delta", "message.delta", "agent_message_delta")
	add(rule{to: EvTurnComplete, fields: []field{
		{out: "finalText", from: []string{"final_text", "finalText", "text"}, def: ""},
		{out: "stopReason", from: []string{"stop_reason", "stopReason"}, def: StopEndTurn},
		{out: "usage", from: []string{"usage"}, def: map[string]any{"inputTokens": 0, "outputTokens": 0}},
	}}, "complete", "stream_end", "stream_complete", "turn_complete", "turn.complete")
	add(rule{to: EvTurnError, fields: []field{
		{out: "code", from: []string{"code", "error_code"}, def: "AGENT_ERROR"},
		{out: "message", from: []string{"message", "error"}, def: ""},
	}}, "error", "turn_error", "turn.error")
	add(rule{to: EvToolCallStart, fields: []field{fToolCallID, fToolName}}, "tool.call_start", "tool_call_start")
	add(rule{to: EvToolCallDelta, fields: []field{fToolCallID, {out: "delta", from: []string{"delta", "input_delta"}, def: ""}}},
		"tool.call_delta", "tool_call_delta")
	add(rule{to: EvToolCall, fields: []field{fToolCallID, fToolName, {out: "input", from: []string{"input", "arguments"}, def: map[string]any{}}}},
		"tool.call", "tool_call")
	add(rule{to: EvToolResult, fields: []field{fToolCallID,
		{out: "output", from: []string{"output", "result"}, def: ""},
		{out: "isError", from: []string{"is_error", "isError"}, def: false},
	}}, "tool.result", "tool_result")
	add(rule{to: EvToolError, fields: []field{fToolCallID, {out: "message", from: []string{"message", "error"}, def: ""}}},
		"tool.error", "tool_error")
	add(rule{to: EvQuestionRequested, fields: []field{fPromptID, {out: "questions", from: []string{"questions"}, def: []any{}}}},
		"tool.question_requested", "question_requested")
	add(rule{to: EvPermissionRequested, fields: []field{fPromptID, fToolName, {out: "description", from: []string{"description"}, def: ""}}},
		"tool.permission_requested", "permission_requested")
	add(rule{to: EvApprovalResolved, fields: []field{fPromptID,
		{out: "approved", from: []string{"approved"}}, {out: "answers", from: []string{"answers"}}, {out: "dismissed", from: []string{"dismissed"}},
	}}, "tool.approval_resolved", "approval_resolved")
	add(rule{to: EvSteerApplied, fields: []field{fText}}, "steer", "steer_applied", "turn.steer")
	add(rule{to: EvThinkingStart}, "thinking.start", "thinking_start")
	add(rule{to: EvThinkingProgress, fields: []field{fText}}, "thinking.progress", "thinking_progress", "thinking_update")
	add(rule{to: EvThinkingComplete}, "thinking.complete", "thinking_complete")
	add(rule{to: EvTerminalStream, fields: []field{{out: "data", from: []string{"data", "output", "text"}, def: ""}}},
		"terminal.stream", "terminal_stream")
	add(rule{to: EvTerminalComplete, fields: []field{{out: "exitCode", from: []string{"exit_code", "exitCode"}, def: 0}}},
		"terminal.complete", "terminal_complete")
	for _, n := range []string{EvSandboxProvisioning, EvSandboxInit, EvSandboxRemoved, EvPlanCreated, EvPlanStepStarted, EvPlanStepCompleted, EvPlanRevised} {
		add(rule{to: n, passthrough: true}, n, strings.ReplaceAll(n, ".", "_"))
	}
	add(rule{to: EvUsageUpdated, fields: []field{
		{out: "inputTokens", from: []string{"input_tokens", "inputTokens"}, def: 0},
		{out: "outputTokens", from: []string{"output_tokens", "outputTokens"}, def: 0},
	}}, "usage.updated", "usage_updated", "usage")
	return r
}()

// MappedTypes lists every upstream type name the table knows (for tests and docs).
func MappedTypes() map[string]string {
	out := make(map[string]string, len(rules))
	for k, v := range rules {
		out[k] = v.to
	}
	return out
}

// UpstreamType resolves the type of an upstream frame. Podium has spoken
// several dialects: {messageType, content}, {type:"update", event_type},
// {type}, and the type inside content.event_type. The most specific wins.
func UpstreamType(f map[string]any) string {
	if s, _ := f["event_type"].(string); s != "" {
		return s
	}
	if s, _ := f["messageType"].(string); s != "" {
		return s
	}
	if c, ok := f["content"].(map[string]any); ok {
		if s, _ := c["event_type"].(string); s != "" {
			return s
		}
	}
	s, _ := f["type"].(string)
	return s
}

// MapUpstream turns one upstream event into exactly one client event, so the
// client seq can be derived 1:1 from Podium's sequence. seq is the client seq
// the caller computed (generation base + upstream seq). An unknown type is
// forwarded as agent_event, never dropped.
func MapUpstream(sessionID string, seq uint64, up UpstreamEvent) Event {
	fields := up.Frame()
	typ := UpstreamType(fields)
	content := contentOf(fields)
	ev := Event{SessionID: sessionID, Seq: seq, TS: up.TS, TurnID: turnIDOf(fields, content)}
	rl, ok := rules[typ]
	if !ok {
		ev.Type = EvAgentEvent
		ev.Data = map[string]any{"upstreamType": typ, "content": content}
		return ev
	}
	ev.Type = rl.to
	ev.Data = make(map[string]any, len(rl.fields)+2)
	used := map[string]bool{"event_type": true, "turn_id": true, "turnId": true}
	for _, f := range rl.fields {
		for _, k := range f.from {
			if v, ok := content[k]; ok && v != nil {
				ev.Data[f.out] = normalize(f.out, v)
				used[k] = true
				break
			}
		}
		if _, ok := ev.Data[f.out]; !ok && f.def != nil {
			ev.Data[f.out] = f.def
		}
	}
	if rl.passthrough {
		for k, v := range content {
			if !used[k] {
				ev.Data[camel(k)] = camelizeValue(v)
			}
		}
	}
	return ev
}

// normalize reshapes the few structured fields whose upstream keys are snake_case.
func normalize(out string, v any) any {
	switch out {
	case "usage":
		return camelizeValue(v)
	}
	return v
}

func contentOf(f map[string]any) map[string]any {
	if c, ok := f["content"].(map[string]any); ok {
		return c
	}
	// Flat frames carry their fields beside the type.
	c := make(map[string]any, len(f))
	for k, v := range f {
		switch k {
		case "type", "messageType", "event_type", "seq", "ts":
			continue
		}
		c[k] = v
	}
	return c
}

func turnIDOf(f, content map[string]any) string {
	for _, m := range []map[string]any{f, content} {
		for _, k := range []string{"turn_id", "turnId"} {
			if s, _ := m[k].(string); s != "" {
				return s
			}
		}
	}
	return ""
}

// camel turns snake_case into camelCase; other keys are kept.
func camel(k string) string {
	if !strings.Contains(k, "_") {
		return k
	}
	parts := strings.Split(k, "_")
	var b strings.Builder
	b.WriteString(parts[0])
	for _, p := range parts[1:] {
		if p == "" {
			continue
		}
		b.WriteString(strings.ToUpper(p[:1]))
		b.WriteString(p[1:])
	}
	return b.String()
}

func camelize(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k == "event_type" {
			continue
		}
		out[camel(k)] = camelizeValue(v)
	}
	return out
}

func camelizeValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return camelize(t)
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = camelizeValue(x)
		}
		return out
	}
	return v
}
