package acp

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestFormElicitationNeedsTheFormMode(t *testing.T) {
	for raw, want := range map[string]bool{
		``: false, `null`: false, `{}`: false, `{"url":{}}`: false, `{"form":null}`: false,
		`true`: false, `{"form":true}`: false, `{"form":{}}`: true, `{"form":{},"url":{}}`: true,
	} {
		if got := formElicitation(json.RawMessage(raw)); got != want {
			t.Errorf("%q: %v, want %v", raw, got, want)
		}
	}
}

func TestQuestionsOfReadsEveryShapeAsTheWebClientDoes(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want []question
	}{
		{"objects", []any{map[string]any{"id": "topic", "question": "About?"}, map[string]any{"key": "tone", "label": "Tone?"}},
			[]question{{"topic", "About?"}, {"tone", "Tone?"}}},
		{"strings", []any{"First?", "Second?"}, []question{{"0", "First?"}, {"1", "Second?"}}},
		{"object of texts", map[string]any{"b": "B?", "a": "A?"}, []question{{"a", "A?"}, {"b", "B?"}}},
		{"duplicate ids keep the first", []any{map[string]any{"id": "x", "text": "One"}, map[string]any{"id": "x", "text": "Two"}}, []question{{"x", "One"}}},
		{"nothing usable", nil, []question{{"answer", "Answer"}}},
		{"empty list", []any{}, []question{{"answer", "Answer"}}},
	}
	for _, c := range cases {
		if got := questionsOf(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestElicitationAnswerAcceptsOnlyAccept(t *testing.T) {
	a, d := elicitationAnswer(json.RawMessage(`{"action":"accept","content":{"topic":"tides"}}`), nil)
	if d || !reflect.DeepEqual(a, map[string]any{"topic": "tides"}) {
		t.Errorf("accept: %v %v", a, d)
	}
	if a, d := elicitationAnswer(json.RawMessage(`{"action":"accept"}`), nil); d || a == nil || len(a) != 0 {
		t.Errorf("accept without content: %v %v", a, d)
	}
	for _, raw := range []string{`{"action":"decline"}`, `{"action":"cancel"}`, `{"action":"_later"}`, `[]`} {
		if a, d := elicitationAnswer(json.RawMessage(raw), nil); !d || a != nil {
			t.Errorf("%s: %v %v", raw, a, d)
		}
	}
	if _, d := elicitationAnswer(nil, &rpcError{Code: codeInternal, Message: "no"}); !d {
		t.Error("an error must dismiss")
	}
}
