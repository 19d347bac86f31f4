package podiumsim

import (
	"encoding/json"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/domain"
)

// emitted is every event type the simulated agents emit and the client
// event it must become. A new event type in a script fails the test below
// until it is listed here with a real client type.
var emitted = map[string]string{
	"user_message":              domain.EvUserMessage,
	"stream_start":              domain.EvTurnStarted,
	"text_delta":                domain.EvTextDelta,
	"turn_complete":             domain.EvTurnComplete,
	"thinking.start":            domain.EvThinkingStart,
	"thinking.progress":         domain.EvThinkingProgress,
	"thinking.complete":         domain.EvThinkingComplete,
	"tool.call_start":           domain.EvToolCallStart,
	"tool.call_delta":           domain.EvToolCallDelta,
	"tool.call":                 domain.EvToolCall,
	"tool.result":               domain.EvToolResult,
	"terminal.stream":           domain.EvTerminalStream,
	"terminal.complete":         domain.EvTerminalComplete,
	"usage.updated":             domain.EvUsageUpdated,
	"tool.permission_requested": domain.EvPermissionRequested,
	"tool.approval_resolved":    domain.EvApprovalResolved,
	"tool.question_requested":   domain.EvQuestionRequested,
	"steer":                     domain.EvSteerApplied,
}

// scenarios drive every branch of every script.
var scenarios = []struct {
	name  string
	agent string
	drive func(t *testing.T, e *Engine, id string)
}{
	{"echo", "echo", func(t *testing.T, e *Engine, id string) {
		mustCommand(t, e, id, Command{Type: CmdProcessMessage, Text: "héllo wörld, more than sixteen bytes", ClientTurnID: "c1"})
		waitFor(t, e, id, 0, "turn_complete")
	}},
	{"coding", "coding-agent", func(t *testing.T, e *Engine, id string) {
		mustCommand(t, e, id, Command{Type: CmdProcessMessage, Text: "note this"})
		waitFor(t, e, id, 0, "turn_complete")
	}},
	{"guarded approved with steer", "guarded-agent", func(t *testing.T, e *Engine, id string) {
		mustCommand(t, e, id, Command{Type: CmdProcessMessage, Text: "note this"})
		fs := waitFor(t, e, id, 0, "tool.permission_requested")
		mustCommand(t, e, id, Command{Type: CmdSteer, Text: "briefly"})
		yes := true
		mustCommand(t, e, id, Command{Type: CmdAnswer, PromptID: fs[len(fs)-1].Content["prompt_id"].(string), Approved: &yes})
		waitFor(t, e, id, 0, "turn_complete")
	}},
	{"guarded denied", "guarded-agent", func(t *testing.T, e *Engine, id string) {
		mustCommand(t, e, id, Command{Type: CmdProcessMessage, Text: "note this"})
		fs := waitFor(t, e, id, 0, "tool.permission_requested")
		no := false
		mustCommand(t, e, id, Command{Type: CmdAnswer, PromptID: fs[len(fs)-1].Content["prompt_id"].(string), Approved: &no})
		waitFor(t, e, id, 0, "turn_complete")
	}},
	{"guarded dismissed", "guarded-agent", func(t *testing.T, e *Engine, id string) {
		mustCommand(t, e, id, Command{Type: CmdProcessMessage, Text: "note this"})
		fs := waitFor(t, e, id, 0, "tool.permission_requested")
		yes := true
		mustCommand(t, e, id, Command{Type: CmdAnswer, PromptID: fs[len(fs)-1].Content["prompt_id"].(string), Dismissed: &yes, Answers: map[string]any{}})
		waitFor(t, e, id, 0, "turn_complete")
	}},
	{"asking answered", "asking-agent", func(t *testing.T, e *Engine, id string) {
		mustCommand(t, e, id, Command{Type: CmdProcessMessage, Text: "ask me"})
		fs := waitFor(t, e, id, 0, "tool.question_requested")
		mustCommand(t, e, id, Command{Type: CmdAnswer, PromptID: fs[len(fs)-1].Content["prompt_id"].(string), Answers: map[string]any{"topic": "tides", "tone": "casual"}})
		waitFor(t, e, id, 0, "turn_complete")
	}},
	{"asking dismissed", "asking-agent", func(t *testing.T, e *Engine, id string) {
		mustCommand(t, e, id, Command{Type: CmdProcessMessage, Text: "ask me"})
		fs := waitFor(t, e, id, 0, "tool.question_requested")
		yes := true
		mustCommand(t, e, id, Command{Type: CmdAnswer, PromptID: fs[len(fs)-1].Content["prompt_id"].(string), Dismissed: &yes})
		waitFor(t, e, id, 0, "turn_complete")
	}},
	{"guarded interrupted", "guarded-agent", func(t *testing.T, e *Engine, id string) {
		mustCommand(t, e, id, Command{Type: CmdProcessMessage, Text: "note this"})
		waitFor(t, e, id, 0, "tool.permission_requested")
		mustCommand(t, e, id, Command{Type: CmdInterrupt})
		waitFor(t, e, id, 0, "turn_complete")
	}},
}

func TestEveryEmittedEventMapsToAClientEvent(t *testing.T) {
	seen := map[string]bool{}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			e := newEngine(t, EngineOptions{})
			id := mustCreate(t, e, sc.agent, "s")
			sc.drive(t, e, id)
			quiesce(t, e)
			frames, _, err := e.Events(id, 0, maxLimit)
			require.NoError(t, err)
			for _, f := range frames {
				seen[f.EventType] = true
				want, listed := emitted[f.EventType]
				if !assert.True(t, listed, "event type %q is not in the table", f.EventType) {
					continue
				}
				ev := domain.MapUpstream("s", f.Seq, wire(t, f))
				assert.Equal(t, want, ev.Type, f.EventType)
				assert.NotEqual(t, domain.EvAgentEvent, ev.Type)
				assert.Equal(t, f.TurnID, ev.TurnID)
				assert.NotEmpty(t, ev.TurnID)
			}
		})
	}
	var missing []string
	for typ := range emitted {
		if !seen[typ] {
			missing = append(missing, typ)
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "listed but never emitted by any scenario")
}

// TestMappedFieldsCarryTheScriptsData checks the content keys the scripts
// use are the ones the mapper reads, not merely the event names.
func TestMappedFieldsCarryTheScriptsData(t *testing.T) {
	e := newEngine(t, EngineOptions{})
	id := mustCreate(t, e, "guarded-agent", "s")
	scenarios[2].drive(t, e, id)
	frames, _, _ := e.Events(id, 0, maxLimit)
	byType := map[string]domain.Event{}
	for _, f := range frames {
		ev := domain.MapUpstream("s", f.Seq, wire(t, f))
		if _, dup := byType[ev.Type]; !dup {
			byType[ev.Type] = ev
		}
	}
	get := func(typ, field string) any {
		return byType[typ].Data[field]
	}
	assert.Equal(t, "note this", get(domain.EvUserMessage, "text"))
	assert.NotEmpty(t, get(domain.EvThinkingProgress, "text"))
	assert.Equal(t, "write_file", get(domain.EvPermissionRequested, "toolName"))
	assert.NotEmpty(t, get(domain.EvPermissionRequested, "promptId"))
	assert.NotEmpty(t, get(domain.EvPermissionRequested, "description"))
	assert.Equal(t, get(domain.EvPermissionRequested, "promptId"), get(domain.EvApprovalResolved, "promptId"))
	assert.Equal(t, true, get(domain.EvApprovalResolved, "approved"))
	assert.Equal(t, "briefly", get(domain.EvSteerApplied, "text"))
	assert.Equal(t, "write_file", get(domain.EvToolCallStart, "toolName"))
	assert.NotEmpty(t, get(domain.EvToolCallStart, "toolCallId"))
	assert.NotEmpty(t, get(domain.EvToolCallDelta, "delta"))
	assert.Equal(t, map[string]any{"path": notesPath, "content": "# Notes\n\nnote this\n"}, get(domain.EvToolCall, "input"))
	assert.Contains(t, get(domain.EvToolResult, "output"), notesPath)
	assert.Equal(t, false, get(domain.EvToolResult, "isError"))
	assert.NotEmpty(t, get(domain.EvTerminalStream, "data"))
	assert.Equal(t, 0.0, get(domain.EvTerminalComplete, "exitCode"))
	assert.Greater(t, get(domain.EvUsageUpdated, "outputTokens"), 0.0)
	usage, _ := get(domain.EvTurnComplete, "usage").(map[string]any)
	assert.Greater(t, usage["inputTokens"], 0.0)
	assert.Greater(t, usage["outputTokens"], 0.0)
	assert.Equal(t, domain.StopEndTurn, get(domain.EvTurnComplete, "stopReason"))
}

// wire decodes a frame the way a client of the wire sees it.
func wire(t *testing.T, f Frame) domain.UpstreamEvent {
	t.Helper()
	b, err := json.Marshal(f)
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(b, &fields))
	return domain.UpstreamEvent{Seq: f.Seq, TS: f.TS, Fields: fields}
}

// TestAskingAgentsQuestionAndAnswerMap checks the question's shape (ids and
// texts, as clients render them) and that the reply is built from the answer.
func TestAskingAgentsQuestionAndAnswerMap(t *testing.T) {
	for _, sc := range scenarios {
		if sc.agent != "asking-agent" {
			continue
		}
		t.Run(sc.name, func(t *testing.T) {
			e := newEngine(t, EngineOptions{})
			id := mustCreate(t, e, sc.agent, "s")
			sc.drive(t, e, id)
			frames, _, _ := e.Events(id, 0, maxLimit)
			byType := map[string]domain.Event{}
			for _, f := range frames {
				ev := domain.MapUpstream("s", f.Seq, wire(t, f))
				byType[ev.Type] = ev
			}
			q := byType[domain.EvQuestionRequested]
			assert.Equal(t, []any{
				map[string]any{"id": "topic", "question": "What should the note be about?"},
				map[string]any{"id": "tone", "question": "Which tone: formal or casual?"},
			}, q.Data["questions"])
			r := byType[domain.EvApprovalResolved]
			assert.Equal(t, q.Data["promptId"], r.Data["promptId"])
			assert.NotContains(t, r.Data, "approved", "a question is answered, not approved")
			final := byType[domain.EvTurnComplete].Data["finalText"]
			if sc.name == "asking answered" {
				assert.Equal(t, map[string]any{"topic": "tides", "tone": "casual"}, r.Data["answers"])
				assert.Equal(t, "Thank you. topic: tides. tone: casual.", final)
			} else {
				assert.Equal(t, true, r.Data["dismissed"])
				assert.Equal(t, "Understood, I will leave it there.", final)
			}
			assert.Equal(t, "end_turn", byType[domain.EvTurnComplete].Data["stopReason"])
		})
	}
}

// TestTypedEncodingMatchesGenericEncoding holds the per-event path to the
// generic one over every frame every scenario emits: the frame as the
// adapter hands it on (raw JSON) must encode to the same bytes as the frame
// decoded, mapped and encoded by Event.MarshalJSON, and the streamed types
// must take the typed path (which leaves Data unset).
func TestTypedEncodingMatchesGenericEncoding(t *testing.T) {
	typed := map[string]bool{}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			e := newEngine(t, EngineOptions{})
			id := mustCreate(t, e, sc.agent, "s")
			sc.drive(t, e, id)
			quiesce(t, e)
			frames, _, err := e.Events(id, 0, maxLimit)
			require.NoError(t, err)
			for _, f := range frames {
				raw, err := json.Marshal(f)
				require.NoError(t, err)
				up, ok := domain.ReadUpstream(raw)
				require.True(t, ok, "the adapter's reader refuses %s", raw)
				want, err := json.Marshal(domain.MapUpstream("ses_1", 100+f.Seq, wire(t, f)))
				require.NoError(t, err)
				ev, got, err := domain.EncodeUpstream("ses_1", 100+f.Seq, up)
				require.NoError(t, err)
				require.Equal(t, string(want), string(got), "frame %s", raw)
				if ev.Data == nil {
					typed[ev.Type] = true
				}
			}
		})
	}
	for _, typ := range []string{domain.EvTextDelta, domain.EvThinkingProgress, domain.EvTerminalStream, domain.EvToolCallDelta, domain.EvUsageUpdated} {
		assert.True(t, typed[typ], "%s did not take the typed path", typ)
	}
}
