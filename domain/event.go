package domain

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
)

// Client event types (docs/protocol.md). Names are fixed by the wire contract.
const (
	EvUserMessage         = "user_message"
	EvTurnStarted         = "turn_started"
	EvTextDelta           = "text_delta"
	EvTurnComplete        = "turn_complete"
	EvTurnError           = "turn_error"
	EvToolCallStart       = "tool_call_start"
	EvToolCallDelta       = "tool_call_delta"
	EvToolCall            = "tool_call"
	EvToolResult          = "tool_result"
	EvToolError           = "tool_error"
	EvQuestionRequested   = "question_requested"
	EvPermissionRequested = "permission_requested"
	EvApprovalResolved    = "approval_resolved"
	EvSteerApplied        = "steer_applied"
	EvThinkingStart       = "thinking.start"
	EvThinkingProgress    = "thinking.progress"
	EvThinkingComplete    = "thinking.complete"
	EvTerminalStream      = "terminal.stream"
	EvTerminalComplete    = "terminal.complete"
	EvSandboxProvisioning = "sandbox.provisioning"
	EvSandboxInit         = "sandbox.init"
	EvSandboxRemoved      = "sandbox.removed"
	EvPlanCreated         = "plan.created"
	EvPlanStepStarted     = "plan.step_started"
	EvPlanStepCompleted   = "plan.step_completed"
	EvPlanRevised         = "plan.revised"
	EvUsageUpdated        = "usage.updated"
	EvAgentEvent          = "agent_event"
)

// Stop reasons of turn_complete.
const (
	StopEndTurn   = "end_turn"
	StopCancelled = "cancelled"
	StopMaxTokens = "max_tokens"
	StopError     = "error"
)

// Event is one sequenced session event as clients receive it. Data holds the
// type-specific fields; it is flattened beside the envelope on the wire.
type Event struct {
	Type      string         `json:"type"`
	SessionID string         `json:"sessionId"`
	TurnID    string         `json:"turnId,omitempty"`
	Seq       uint64         `json:"seq"`
	TS        int64          `json:"ts"`
	Data      map[string]any `json:"-"`
}

// envelopeKeys are written by MarshalJSON itself; Data may not override them.
var envelopeKeys = map[string]bool{"type": true, "sessionId": true, "turnId": true, "seq": true, "ts": true}

// MarshalJSON writes the envelope first, then Data in key order, so the
// same event always has the same bytes on every connection and instance.
func (e Event) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.Grow(96 + 32*len(e.Data))
	b.WriteString(`{"type":`)
	writeJSONString(&b, e.Type)
	b.WriteString(`,"sessionId":`)
	writeJSONString(&b, e.SessionID)
	if e.TurnID != "" {
		b.WriteString(`,"turnId":`)
		writeJSONString(&b, e.TurnID)
	}
	b.WriteString(`,"seq":`)
	b.WriteString(strconv.FormatUint(e.Seq, 10))
	b.WriteString(`,"ts":`)
	b.WriteString(strconv.FormatInt(e.TS, 10))
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		if !envelopeKeys[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteByte(',')
		writeJSONString(&b, k)
		b.WriteByte(':')
		v, err := json.Marshal(e.Data[k])
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads the envelope and keeps every other field in Data.
func (e *Event) UnmarshalJSON(p []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(p, &m); err != nil {
		return err
	}
	*e = Event{}
	for k, raw := range m {
		var err error
		switch k {
		case "type":
			err = json.Unmarshal(raw, &e.Type)
		case "sessionId":
			err = json.Unmarshal(raw, &e.SessionID)
		case "turnId":
			err = json.Unmarshal(raw, &e.TurnID)
		case "seq":
			err = json.Unmarshal(raw, &e.Seq)
		case "ts":
			err = json.Unmarshal(raw, &e.TS)
		default:
			var v any
			err = json.Unmarshal(raw, &v)
			if e.Data == nil {
				e.Data = map[string]any{}
			}
			e.Data[k] = v
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	v, _ := json.Marshal(s) // a string always marshals
	b.Write(v)
}

// Str returns Data[k] as a string ("" when absent or not a string).
func (e *Event) Str(k string) string {
	s, _ := e.Data[k].(string)
	return s
}
