package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"testing"
)

// reference is today's encoding of a frame: decoded into a map, mapped
// generically, encoded by Event.MarshalJSON.
func reference(t testing.TB, sessionID string, seq uint64, ts int64, raw []byte) (Event, []byte, bool) {
	var fields map[string]any
	if json.Unmarshal(raw, &fields) != nil || fields == nil {
		return Event{}, nil, false
	}
	ev := MapUpstream(sessionID, seq, UpstreamEvent{Seq: 1, TS: ts, Fields: fields})
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("reference encoding of %s: %v", raw, err)
	}
	return ev, b, true
}

// sameAsReference checks EncodeUpstream against the reference for one
// frame and reports whether the typed path took it.
func sameAsReference(t *testing.T, raw []byte) bool {
	t.Helper()
	const sid = "ses_<&>\u2028"
	want, wantB, ok := reference(t, sid, 7, 1_800_000_000_000, raw)
	if !ok {
		return false
	}
	got, gotB, err := EncodeUpstream(sid, 7, UpstreamEvent{Seq: 1, TS: 1_800_000_000_000, Raw: raw})
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	if !bytes.Equal(gotB, wantB) {
		t.Fatalf("frame %s\n got %s\nwant %s", raw, gotB, wantB)
	}
	if got.Type != want.Type || got.TurnID != want.TurnID || got.Seq != want.Seq || got.TS != want.TS || got.SessionID != want.SessionID {
		t.Fatalf("frame %s: event %+v, want %+v", raw, got, want)
	}
	// The typed path leaves Data unset; the generic path always sets it.
	return got.Data == nil
}

// Strings that exercise every rule of decoding and encoding a JSON string.
var trickyStrings = []string{
	`""`, `"plain words "`, `"line\nbreak\ttab\r\b\f"`, `"quote \" backslash \\ slash \/"`,
	`"<b>&amp;</b>"`, `"\u003c\u0026\u003e"`, `"é ü 日本 🎉"`, `"\u00e9\u65e5"`, `"\ud83c\udf89"`,
	`"lone \ud83c here"`, `"lone \udf89 low"`, `"\ud83c\u0041"`, `"\ud83c\\"`, "\"raw \u2028 and \u2029\"",
	`"\u2028\u2029"`, "\"bad utf8 \xff\xfe end\"", "\"cut \xe6\x97\"", `"\u0000\u001f\u007f"`,
	`"\ufffd"`, "\"\xef\xbf\xbd\"", `"\"\"\"\""`,
}

// Values of other kinds, which the generic path encodes as it decodes them.
var otherValues = []string{`null`, `0`, `-0`, `12`, `-7`, `1.5`, `1e3`, `123456789012345`, `1234567890123456789`,
	`true`, `false`, `{"b":1,"a":"x"}`, `[1,"two"]`, `{}`}

func corpus() [][]byte {
	var out [][]byte
	add := func(format string, args ...any) { out = append(out, []byte(fmt.Sprintf(format, args...))) }
	names := make([]string, 0, len(rules))
	for n := range rules {
		names = append(names, n)
	}
	sort.Strings(names)
	values := append(append([]string{}, trickyStrings...), otherValues...)
	valuesDone := map[string]bool{}
	for _, n := range append(names, "not_a_known_type") {
		q := fmt.Sprintf("%q", n)
		// The content keys the rule reads, and one it does not.
		keys := []string{"unread_key", "turn_id", "turnId"}
		for _, f := range rules[n].fields {
			keys = append(keys, f.from...)
		}
		add(`{"seq":3,"ts":9,"type":"update","event_type":%s,"turn_id":"turn_1","content":{}}`, q)
		add(`{"messageType":%s,"content":{"turnId":"t2"}}`, q)
		add(`{"content":{"event_type":%s,"turn_id":""}}`, q)
		add(`{"type":%s,"text":"flat"}`, q)
		add(` { "type" : "update" , "event_type" : %s , "content" : { "text" : "spaced" } } `, q)
		for _, k := range keys {
			// Every value once per typed client type and key (aliases
			// share the rule); the generic types meet them as the typed
			// types' keys below.
			if slices.Contains(typedTypes, rules[n].to) && !valuesDone[rules[n].to+k] {
				valuesDone[rules[n].to+k] = true
				for _, v := range values {
					add(`{"seq":3,"ts":9,"type":"update","event_type":%s,"turn_id":"turn_1","content":{%q:%s}}`, q, k, v)
				}
			}
			add(`{"event_type":%s,"content":{%q:"a",%q:"b"}}`, q, k, k)
			// Keys that camelCase alike are left out: a passthrough
			// type keeps one of them at random.
			add(`{"event_type":%s,"content":{%q:null,"text":"x","delta":"y","output":"z","id":"i"}}`, q, k)
			add(`{"event_type":%s,"content":{%q:"x","text":"y","data":"z","tool_call_id":"c","input_tokens":3,"output_tokens":4}}`, q, k)
		}
		add(`{"event_type":%s,"event_type":"text_delta","content":{"text":"dup"}}`, q)
		add(`{"event_type":%s,"content":{"text":"a"},"content":{"text":"b"}}`, q)
		add(`{"event_typ\u0065":%s,"content":{"text":"escaped key"}}`, q)
		add(`{"event_type":%s,"content":{"t\u0065xt":"escaped key"}}`, q)
		add(`{"event_type":%s,"extra":{"deep":[1,{"x":null}]},"content":{"text":"x","other":[true,false]}}`, q)
		add(`{"event_type":%s,"content":{"text":"x"}} trailing`, q)
		add(`{"event_type":%s,"content":{"text":"x"}`, q)
		// Turn ids and type values once per typed client type: a generic
		// type never reaches the typed reader's checks.
		if n != "not_a_known_type" && (valuesDone[rules[n].to] || !slices.Contains(typedTypes, rules[n].to)) {
			continue
		}
		valuesDone[rules[n].to] = true
		for _, v := range trickyStrings {
			add(`{"event_type":%s,"turn_id":%s,"content":{"text":"x"}}`, q, v)
		}
		for _, v := range otherValues {
			add(`{"event_type":%s,"turn_id":%s,"content":{"turnId":"c"}}`, q, v)
			add(`{"event_type":%s,"content":{"event_type":%s}}`, q, v)
			add(`{"type":"x","content":{"event_type":%s,"text":"y"}}`, v)
			add(`{"event_type":%s,"content":%s}`, q, v)
		}
	}
	return out
}

// EncodeUpstream writes every frame of the corpus exactly as the generic
// mapper and encoder do, and takes the typed path for the streamed types.
func TestEncodeUpstreamMatchesGenericEncoder(t *testing.T) {
	typedSeen := map[string]int{}
	for _, raw := range corpus() {
		if sameAsReference(t, raw) {
			var f map[string]any
			_ = json.Unmarshal(raw, &f)
			typedSeen[MapUpstream("s", 1, UpstreamEvent{Fields: f}).Type]++
		}
	}
	for _, typ := range typedTypes {
		if typedSeen[typ] == 0 {
			t.Errorf("%s never took the typed path", typ)
		}
	}
	if typedSeen[EvQuestionRequested]+typedSeen[EvAgentEvent]+typedSeen[EvToolCall] != 0 {
		t.Errorf("generic types took the typed path: %v", typedSeen)
	}
}

// One encoder through the whole corpus, whose frames change turn ids at
// random, gives each frame's bytes and turn id as a fresh one does.
func TestUpstreamEncoderReusesOnlyTheSameTurn(t *testing.T) {
	shared := NewUpstreamEncoder("ses_1")
	for i, raw := range corpus() {
		up := UpstreamEvent{Seq: 1, TS: 5, Raw: raw}
		want, wantB, wantErr := EncodeUpstream("ses_1", uint64(i+1), up)
		got, gotB, gotErr := shared.Encode(uint64(i+1), up)
		if (wantErr == nil) != (gotErr == nil) || !bytes.Equal(gotB, wantB) || got.TurnID != want.TurnID {
			t.Fatalf("frame %s: shared encoder gives %s (turn %q), a fresh one %s (turn %q)", raw, gotB, got.TurnID, wantB, want.TurnID)
		}
	}
}

// The typed path serves the frames the streamed types arrive in.
func TestEncodeUpstreamTypesTheStreamedEvents(t *testing.T) {
	for _, raw := range []string{
		`{"seq":5,"ts":1,"type":"update","event_type":"text_delta","turn_id":"turn_1","content":{"text":"words"}}`,
		`{"seq":5,"ts":1,"type":"update","event_type":"thinking.progress","turn_id":"turn_1","content":{"text":"hmm"}}`,
		`{"seq":5,"ts":1,"type":"update","event_type":"terminal.stream","turn_id":"turn_1","content":{"data":"$ ls\n"}}`,
		`{"seq":5,"ts":1,"type":"update","event_type":"tool.call_delta","turn_id":"turn_1","content":{"tool_call_id":"c1","delta":"{\"pa"}}`,
		`{"seq":5,"ts":1,"type":"update","event_type":"usage.updated","turn_id":"turn_1","content":{"input_tokens":12,"output_tokens":40}}`,
	} {
		if !sameAsReference(t, []byte(raw)) {
			t.Errorf("generic path for %s", raw)
		}
	}
}

func FuzzEncodeUpstream(f *testing.F) {
	// A sample of the corpus keeps the seed run short; the whole corpus
	// runs in TestEncodeUpstreamMatchesGenericEncoder.
	for i, raw := range corpus() {
		if i%97 == 0 {
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		sameAsReference(t, raw)
	})
}

// Session ids are written as json.Marshal writes a Go string.
func TestAppendStringMatchesMarshal(t *testing.T) {
	for _, q := range trickyStrings {
		var s string
		if err := json.Unmarshal([]byte(q), &s); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for _, in := range []string{s, q} {
			want, _ := json.Marshal(in)
			if got := appendString(nil, in); !bytes.Equal(got, want) {
				t.Errorf("%q: got %s want %s", in, got, want)
			}
		}
	}
}

// What the runtime adapter decodes of a frame's envelope with encoding/json.
type headRef struct {
	Seq     *uint64 `json:"seq"`
	TS      int64   `json:"ts"`
	Type    string  `json:"type"`
	Message string  `json:"message"`
}

// ReadUpstream accepts a frame only when encoding/json reads the same
// envelope from it and decodes it as an object.
func sameHead(t *testing.T, raw []byte) bool {
	t.Helper()
	up, ok := ReadUpstream(raw)
	if !ok {
		return false
	}
	var h headRef
	var fields map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("ReadUpstream took %s, encoding/json: %v", raw, err)
	}
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		t.Fatalf("ReadUpstream took %s, which is no object: %v", raw, err)
	}
	if h.Seq == nil || *h.Seq != up.Seq || h.TS != up.TS || !bytes.Equal(up.Raw, raw) {
		t.Fatalf("%s: read seq %d ts %d, encoding/json %v %d", raw, up.Seq, up.TS, h.Seq, h.TS)
	}
	return true
}

var heads = []string{
	`{"seq":1,"ts":2,"type":"update","event_type":"text_delta","content":{"text":"x"}}`,
	`{"seq":18446744073709551615,"ts":-9223372036854775807}`, `{"seq":18446744073709551616}`,
	`{"seq":0}`, `{"seq":null}`, `{"seq":"3"}`, `{"seq":1.0}`, `{"seq":1e2}`, `{"seq":-1}`, `{"ts":5}`,
	`{"seq":1,"ts":"5"}`, `{"seq":1,"ts":null}`, `{"seq":1,"ts":1.5}`, `{"seq":1,"type":5}`, `{"seq":1,"type":null}`,
	`{"seq":1,"message":{}}`, `{"seq":1,"seq":2}`, `{"SEQ":1}`, `{"seq":1,"Seq":2}`, `{"seq":1,"Ts":2}`,
	"{\"seq\":1,\"\u017feq\":2}", `{"seq":1,"s\u0065q":2}`, `{"seq":1,"TYPE":4}`, `{"seq":1} x`, `{"seq":1`,
	`[1]`, `null`, `{"seq":1,"content":{"a":[1,{"b":"\ud800"}]}}`, ` {"seq" : 7 , "ts" : 0 } `,
}

func TestReadUpstreamMatchesEncodingJSON(t *testing.T) {
	took := 0
	for _, h := range heads {
		if sameHead(t, []byte(h)) {
			took++
		}
	}
	for _, raw := range corpus() {
		sameHead(t, raw)
	}
	if took < 4 {
		t.Fatalf("ReadUpstream took only %d plain frames", took)
	}
}

func FuzzReadUpstream(f *testing.F) {
	for _, h := range heads {
		f.Add([]byte(h))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { sameHead(t, raw) })
}
