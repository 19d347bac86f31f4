package acp

import (
	"fmt"
	"strings"

	"github.com/diminuendo/diminuendo/domain"
)

// update is the "update" object of one session/update notification.
type update = map[string]any

// mapCtx is what a rule needs to know about the connection and the moment.
type mapCtx struct {
	// echoUser: show the user's message (a replay, or a turn another
	// client started); a live prompt of this connection is not echoed.
	echoUser bool
	// terminalMeta: the client advertised the _meta terminal convention
	// (clientCapabilities._meta.terminal_output).
	terminalMeta bool
}

// mapState is what the translation of one session remembers between
// events: tool calls, the current plan and the open terminal.
type mapState struct {
	tools    map[string]*toolState
	plan     []planEntry
	termID   string // tool call id of the turn's terminal, "" when none is open
	termText string // its output so far (content replaces, so it is resent whole)
}

type toolState struct{ name, kind string }

type planEntry struct {
	id, content, status string
}

// rule turns one gateway event into the session/update payloads it maps
// to. nil means "no mapping": the event then travels whole in _meta.
type rule func(st *mapState, ev *domain.Event, mc mapCtx) []update

// table is the mapping from the gateway's events to ACP, in one place;
// docs/acp.md documents it row by row.
var table = map[string]rule{
	domain.EvUserMessage: func(_ *mapState, ev *domain.Event, mc mapCtx) []update {
		if !mc.echoUser {
			return nil
		}
		return []update{chunk("user_message_chunk", ev.Str("text"))}
	},
	domain.EvSteerApplied: func(_ *mapState, ev *domain.Event, _ mapCtx) []update {
		return []update{chunk("user_message_chunk", ev.Str("text"))}
	},
	domain.EvTextDelta: func(_ *mapState, ev *domain.Event, _ mapCtx) []update {
		return []update{chunk("agent_message_chunk", ev.Str("text"))}
	},
	domain.EvThinkingProgress: func(_ *mapState, ev *domain.Event, _ mapCtx) []update {
		return []update{chunk("agent_thought_chunk", ev.Str("text"))}
	},
	domain.EvToolCallStart: func(st *mapState, ev *domain.Event, _ mapCtx) []update {
		id, name := ev.Str("toolCallId"), ev.Str("toolName")
		ts := &toolState{name: name, kind: toolKind(name)}
		st.tool(id, ts)
		return []update{{"sessionUpdate": "tool_call", "toolCallId": id, "title": titleOf(name), "kind": ts.kind, "status": "pending"}}
	},
	domain.EvToolCall: func(st *mapState, ev *domain.Event, _ mapCtx) []update {
		id, name := ev.Str("toolCallId"), ev.Str("toolName")
		ts, known := st.tools[id]
		if !known {
			ts = &toolState{name: name, kind: toolKind(name)}
			st.tool(id, ts)
		}
		input, _ := ev.Data["input"].(map[string]any)
		u := update{"sessionUpdate": "tool_call_update", "toolCallId": id, "status": "in_progress", "rawInput": ev.Data["input"]}
		if !known {
			u["sessionUpdate"], u["title"], u["kind"] = "tool_call", titleOf(name), ts.kind
		}
		if p := pathOf(input); p != "" {
			u["locations"] = []any{map[string]any{"path": p}}
			u["title"] = titleOf(name) + " " + p
			if d := diffOf(input, p); d != nil && ts.kind == "edit" {
				u["content"] = []any{d}
			}
		}
		return []update{u}
	},
	domain.EvToolResult: func(st *mapState, ev *domain.Event, _ mapCtx) []update {
		status := "completed"
		if b, _ := ev.Data["isError"].(bool); b {
			status = "failed"
		}
		u := update{"sessionUpdate": "tool_call_update", "toolCallId": ev.Str("toolCallId"), "status": status, "rawOutput": ev.Data["output"]}
		if s, ok := ev.Data["output"].(string); ok && s != "" {
			u["content"] = []any{textContent(s)}
		}
		return []update{u}
	},
	domain.EvToolError: func(_ *mapState, ev *domain.Event, _ mapCtx) []update {
		return []update{{"sessionUpdate": "tool_call_update", "toolCallId": ev.Str("toolCallId"), "status": "failed",
			"rawOutput": map[string]any{"error": ev.Str("message")}, "content": []any{textContent(ev.Str("message"))}}}
	},
	domain.EvTerminalStream: func(st *mapState, ev *domain.Event, mc mapCtx) []update {
		data := ev.Str("data")
		var out []update
		if st.termID == "" {
			st.termID = fmt.Sprintf("term_%s_%d", ev.TurnID, ev.Seq)
			st.termText = ""
			u := update{"sessionUpdate": "tool_call", "toolCallId": st.termID, "title": "Terminal", "kind": "execute", "status": "in_progress"}
			if mc.terminalMeta {
				u["content"] = []any{map[string]any{"type": "terminal", "terminalId": st.termID}}
				u["_meta"] = map[string]any{"terminal_info": map[string]any{"terminal_id": st.termID}}
			}
			out = append(out, u)
		}
		if len(st.termText) < maxTerminalText {
			st.termText += data
		}
		u := update{"sessionUpdate": "tool_call_update", "toolCallId": st.termID}
		if mc.terminalMeta {
			u["_meta"] = map[string]any{"terminal_output": map[string]any{"terminal_id": st.termID, "data": data}}
		} else {
			u["content"] = []any{textContent("```\n" + st.termText + "```")}
		}
		return append(out, u)
	},
	domain.EvTerminalComplete: func(st *mapState, ev *domain.Event, mc mapCtx) []update {
		if st.termID == "" {
			return nil
		}
		code := intOf(ev.Data["exitCode"])
		status := "completed"
		if code != 0 {
			status = "failed"
		}
		u := update{"sessionUpdate": "tool_call_update", "toolCallId": st.termID, "status": status, "rawOutput": map[string]any{"exitCode": code}}
		if mc.terminalMeta {
			u["_meta"] = map[string]any{"terminal_exit": map[string]any{"terminal_id": st.termID, "exit_code": code, "signal": nil}}
		}
		st.termID, st.termText = "", ""
		return []update{u}
	},
	domain.EvPlanCreated:       planReplace,
	domain.EvPlanRevised:       planReplace,
	domain.EvPlanStepStarted:   planStep("in_progress"),
	domain.EvPlanStepCompleted: planStep("completed"),
	domain.EvUsageUpdated: func(_ *mapState, ev *domain.Event, _ mapCtx) []update {
		return []update{usage(ev.Data)}
	},
	domain.EvPermissionRequested: func(st *mapState, ev *domain.Event, _ mapCtx) []update {
		name := ev.Str("toolName")
		id := permissionToolCallID(ev.Str("promptId"))
		st.tool(id, &toolState{name: name, kind: toolKind(name)})
		return []update{{"sessionUpdate": "tool_call", "toolCallId": id, "title": permissionTitle(ev), "kind": toolKind(name), "status": "pending",
			"rawInput": map[string]any{"toolName": name, "description": ev.Str("description")}}}
	},
	domain.EvApprovalResolved: func(st *mapState, ev *domain.Event, _ mapCtx) []update {
		id := permissionToolCallID(ev.Str("promptId"))
		if _, ok := st.tools[id]; !ok {
			return nil // a question's answer: no tool call stands for it
		}
		status := "failed"
		if b, _ := ev.Data["approved"].(bool); b {
			status = "completed"
		}
		return []update{{"sessionUpdate": "tool_call_update", "toolCallId": id, "status": status, "rawOutput": map[string]any{"approved": ev.Data["approved"]}}}
	},
	domain.EvTurnComplete: func(st *mapState, ev *domain.Event, _ mapCtx) []update {
		st.termID, st.termText = "", ""
		u, _ := ev.Data["usage"].(map[string]any)
		if u == nil {
			return nil
		}
		return []update{usage(u)}
	},
}

// maxTerminalText bounds the terminal output resent with each update.
const maxTerminalText = 256 << 10

// stopReasons maps the gateway's stop reasons onto ACP's enum. "error" has
// no ACP value: such a prompt is answered with a JSON-RPC error instead.
var stopReasons = map[string]string{
	domain.StopEndTurn:   "end_turn",
	domain.StopCancelled: "cancelled",
	domain.StopMaxTokens: "max_tokens",
	"max_turn_requests":  "max_turn_requests",
	"refusal":            "refusal",
}

// toolKinds picks an ACP tool kind from a tool's name, first match wins.
var toolKinds = []struct{ substr, kind string }{
	{"read", "read"}, {"view", "read"}, {"cat", "read"},
	{"write", "edit"}, {"edit", "edit"}, {"patch", "edit"}, {"replace", "edit"},
	{"delete", "delete"}, {"remove", "delete"},
	{"move", "move"}, {"rename", "move"},
	{"search", "search"}, {"grep", "search"}, {"find", "search"}, {"glob", "search"},
	{"bash", "execute"}, {"shell", "execute"}, {"exec", "execute"}, {"run", "execute"}, {"terminal", "execute"}, {"command", "execute"},
	{"fetch", "fetch"}, {"http", "fetch"}, {"web", "fetch"},
	{"think", "think"},
}

// toolKind matches the start of each word of the name (write_file,
// web-fetch, run.command), so "frobnicate" is not a "cat".
func toolKind(name string) string {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	for _, k := range toolKinds {
		for _, w := range words {
			if strings.HasPrefix(w, k.substr) {
				return k.kind
			}
		}
	}
	return "other"
}

func (st *mapState) tool(id string, ts *toolState) {
	if st.tools == nil {
		st.tools = map[string]*toolState{}
	}
	st.tools[id] = ts
}

func titleOf(toolName string) string {
	if toolName == "" {
		return "Tool call"
	}
	return toolName
}

func permissionToolCallID(promptID string) string { return "perm_" + promptID }

func permissionTitle(ev *domain.Event) string {
	if d := ev.Str("description"); d != "" {
		return d
	}
	return "Allow " + titleOf(ev.Str("toolName")) + "?"
}

func chunk(kind, text string) update {
	return update{"sessionUpdate": kind, "content": map[string]any{"type": "text", "text": text}}
}

func textContent(s string) map[string]any {
	return map[string]any{"type": "content", "content": map[string]any{"type": "text", "text": s}}
}

func usage(u map[string]any) update {
	used := intOf(u["inputTokens"]) + intOf(u["outputTokens"])
	// The gateway does not know the model's context window: size 0 says so.
	return update{"sessionUpdate": "usage_update", "used": max(0, used), "size": 0,
		"_meta": map[string]any{"inputTokens": intOf(u["inputTokens"]), "outputTokens": intOf(u["outputTokens"])}}
}

// pathOf finds the file a tool works on in its input.
func pathOf(input map[string]any) string {
	for _, k := range []string{"path", "file_path", "filePath", "file"} {
		if s, _ := input[k].(string); s != "" {
			return s
		}
	}
	return ""
}

// diffOf is a file write's diff: the new content, and the old one when the
// agent's input carries it (null: a new or wholly rewritten file).
func diffOf(input map[string]any, path string) map[string]any {
	var newText *string
	for _, k := range []string{"content", "newText", "new_text", "text"} {
		if s, ok := input[k].(string); ok {
			newText = &s
			break
		}
	}
	if newText == nil {
		return nil
	}
	var old any
	for _, k := range []string{"oldText", "old_text", "oldContent"} {
		if s, ok := input[k].(string); ok {
			old = s
			break
		}
	}
	return map[string]any{"type": "diff", "path": path, "oldText": old, "newText": *newText}
}

func intOf(v any) int64 {
	switch n := v.(type) {
	case float64:
		return int64(n)
	case int:
		return int64(n)
	case int64:
		return n
	}
	return 0
}

// planReplace takes a whole plan: its steps under "steps", "entries" or
// "items", each a string or an object with a title and a status.
func planReplace(st *mapState, ev *domain.Event, _ mapCtx) []update {
	var items []any
	for _, k := range []string{"steps", "entries", "items", "plan"} {
		if a, ok := ev.Data[k].([]any); ok {
			items = a
			break
		}
	}
	st.plan = st.plan[:0]
	for i, it := range items {
		e := planEntry{id: fmt.Sprint(i), status: "pending"}
		switch v := it.(type) {
		case string:
			e.content = v
		case map[string]any:
			for _, k := range []string{"id", "stepId"} {
				if s := fmt.Sprint(v[k]); v[k] != nil && s != "" {
					e.id = s
					break
				}
			}
			for _, k := range []string{"content", "title", "description", "text", "name"} {
				if s, _ := v[k].(string); s != "" {
					e.content = s
					break
				}
			}
			e.status = planStatus(v["status"])
		default:
			e.content = fmt.Sprint(v)
		}
		st.plan = append(st.plan, e)
	}
	return []update{planUpdate(st)}
}

// planStep moves one step (by id, stepId or index) to status.
func planStep(status string) rule {
	return func(st *mapState, ev *domain.Event, _ mapCtx) []update {
		var key string
		for _, k := range []string{"stepId", "id", "index", "step"} {
			if v, ok := ev.Data[k]; ok && v != nil {
				key = fmt.Sprint(v)
				break
			}
		}
		found := false
		for i := range st.plan {
			if st.plan[i].id == key {
				st.plan[i].status, found = status, true
			}
		}
		if !found {
			title := ev.Str("title")
			if title == "" {
				title = ev.Str("description")
			}
			if title == "" {
				return nil
			}
			st.plan = append(st.plan, planEntry{id: key, content: title, status: status})
		}
		return []update{planUpdate(st)}
	}
}

func planStatus(v any) string {
	switch strings.ToLower(fmt.Sprint(v)) {
	case "in_progress", "running", "started", "active":
		return "in_progress"
	case "completed", "complete", "done", "finished":
		return "completed"
	}
	return "pending"
}

func planUpdate(st *mapState) update {
	entries := make([]any, len(st.plan))
	for i, e := range st.plan {
		entries[i] = map[string]any{"content": e.content, "priority": "medium", "status": e.status}
	}
	return update{"sessionUpdate": "plan", "entries": entries}
}

// translate maps ev to the updates to send, each marked with the event's
// place in the session's stream; an event without a mapping travels whole
// in the _meta of a session_info_update, so nothing is dropped.
func translate(st *mapState, ev *domain.Event, mc mapCtx) []update {
	var out []update
	if r, ok := table[ev.Type]; ok {
		out = r(st, ev, mc)
	}
	mark := map[string]any{"seq": ev.Seq, "event": ev.Type}
	if ev.TurnID != "" {
		mark["turnId"] = ev.TurnID
	}
	if s := ev.Str("clientTurnId"); s != "" {
		mark["clientTurnId"] = s
	}
	if len(out) == 0 || ev.Type == domain.EvTurnComplete || ev.Type == domain.EvTurnError {
		// Whole, for clients (and the stdio bridge) that follow turns
		// they did not start.
		mark["payload"] = ev.Data
	}
	if ev.Type == domain.EvTurnComplete {
		if r, ok := stopReasons[ev.Str("stopReason")]; ok {
			mark["stopReason"] = r
		}
	}
	if len(out) == 0 {
		return []update{{"sessionUpdate": "session_info_update", "_meta": map[string]any{metaKey: mark}}}
	}
	for _, u := range out {
		m, _ := u["_meta"].(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		m[metaKey] = mark
		u["_meta"] = m
	}
	return out
}

// metaKey names the gateway's entry in every _meta it writes.
const metaKey = "diminuendo"
