package app

import (
	"encoding/json"
	"testing"

	"github.com/diminuendo/diminuendo/domain"
)

// rawFrames is a subscriber that keeps the bytes it is sent.
type rawFrames struct{ got []Frame }

func (r *rawFrames) Send(f Frame) bool { r.got = append(r.got, f); return true }

// A turn's upstream events, as the runtime port hands them on, reach the
// window and every subscriber with the bytes of the generic mapper and
// encoder, and drive the session's turn, prompts and state as before.
func TestApplyEncodesAsTheGenericMapper(t *testing.T) {
	frames := []string{
		`{"seq":1,"ts":10,"type":"update","event_type":"turn.started","turn_id":"turn_1","content":{}}`,
		`{"seq":2,"ts":11,"type":"update","event_type":"text_delta","turn_id":"turn_1","content":{"text":"Hello <b>\"world\"</b>\n"}}`,
		`{"seq":3,"ts":12,"type":"update","event_type":"thinking.progress","turn_id":"turn_1","content":{"text":"\u65e5\u672c \ud83c\udf89"}}`,
		`{"seq":4,"ts":13,"type":"update","event_type":"tool.call_delta","turn_id":"turn_1","content":{"tool_call_id":"c1","delta":"{\"path\":"}}`,
		`{"seq":5,"ts":14,"type":"update","event_type":"terminal.stream","turn_id":"turn_1","content":{"data":"$ ls\r\n"}}`,
		`{"seq":6,"ts":15,"type":"update","event_type":"usage.updated","turn_id":"turn_1","content":{"input_tokens":12,"output_tokens":40}}`,
		`{"seq":7,"ts":16,"type":"update","event_type":"tool.permission_requested","turn_id":"turn_1","content":{"prompt_id":"p1","tool_name":"shell","description":"run ls"}}`,
		`{"seq":8,"ts":17,"type":"update","event_type":"tool.approval_resolved","turn_id":"turn_1","content":{"prompt_id":"p1","approved":true}}`,
		`{"seq":9,"ts":18,"type":"update","event_type":"text_delta","turn_id":"turn_1","content":{"text":7}}`,
		`{"seq":10,"ts":19,"type":"update","event_type":"turn.complete","turn_id":"turn_1","content":{"usage":{"input_tokens":1}}}`,
	}
	ls := benchSession()
	ls.state = domain.StateReady
	sub := &rawFrames{}
	ls.subs[sub] = "u1"
	var sawPrompt bool
	for i, f := range frames {
		up, ok := domain.ReadUpstream([]byte(f))
		if !ok {
			t.Fatalf("frame %d not read: %s", i, f)
		}
		if !ls.apply(ls.gen, up) {
			t.Fatalf("frame %d refused", i)
		}
		if i == 0 && (ls.turnID != "turn_1" || ls.state != domain.StateRunning) {
			t.Fatalf("turn_started left turn %q state %s", ls.turnID, ls.state)
		}
		if i == 6 {
			sawPrompt = len(ls.pending) == 1 && ls.pending[0].Str("promptId") == "p1" && ls.state == domain.StateWaiting
		}
	}
	if !sawPrompt {
		t.Fatal("the permission prompt was not held while pending")
	}
	if len(ls.pending) != 0 || ls.turnID != "" || ls.state != domain.StateReady {
		t.Fatalf("after the turn: pending %d, turn %q, state %s", len(ls.pending), ls.turnID, ls.state)
	}
	held, whole := ls.win.Since(0, 0)
	if !whole || len(held) != len(frames) {
		t.Fatalf("window holds %d events (whole %v)", len(held), whole)
	}
	var events []Frame
	for _, f := range sub.got {
		if f.Seq != 0 {
			events = append(events, f)
		}
	}
	if len(events) != len(frames) {
		t.Fatalf("subscriber got %d events", len(events))
	}
	for i, f := range frames {
		var fields map[string]any
		if err := json.Unmarshal([]byte(f), &fields); err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(domain.MapUpstream(ls.id, uint64(i+1), domain.UpstreamEvent{Seq: uint64(i + 1), TS: int64(10 + i), Fields: fields}))
		if err != nil {
			t.Fatal(err)
		}
		if string(held[i].JSON) != string(want) || string(events[i].Data) != string(want) {
			t.Errorf("event %d\n window %s\n sent   %s\n want   %s", i+1, held[i].JSON, events[i].Data, want)
		}
		if held[i].Seq != uint64(i+1) || held[i].Type != events[i].Type {
			t.Errorf("event %d: window seq %d type %s, sent type %s", i+1, held[i].Seq, held[i].Type, events[i].Type)
		}
	}
}
