package jsonhead

import (
	"encoding/json"
	"testing"
)

func TestScanHeadReadsTopLevelFieldsOnly(t *testing.T) {
	cases := []struct {
		msg  string
		typ  string
		seq  uint64
		ts   int64
		fail bool
	}{
		{msg: `{"type":"text_delta","sessionId":"s1","turnId":"turn_1","seq":41,"ts":1795817321710,"text":"Hel"}`, typ: "text_delta", seq: 41, ts: 1795817321710},
		{msg: ` { "seq" : 7 , "type" : "turn_complete", "ts": 5 } `, typ: "turn_complete", seq: 7, ts: 5},
		// A nested "seq" and strings holding quotes, braces and key-like text are not the event's.
		{msg: `{"type":"tool_call","input":{"seq":99,"ts":1,"a":[{"seq":3}]},"text":"x\"seq\":5 } {","seq":12,"ts":9}`, typ: "tool_call", seq: 12, ts: 9},
		{msg: `{"type":"tool_result","output":"\\","isError":false,"n":null,"f":-1.5e3,"seq":3,"ts":4}`, typ: "tool_result", seq: 3, ts: 4},
		{msg: `{"type":"heartbeat","ts":1795817321710}`, typ: "heartbeat", ts: 1795817321710},
		{msg: `{"type":"error","code":"RATE_LIMITED","message":"slow down","retryAfterMs":100}`, typ: "error"},
		{msg: `{}`},
		{msg: `{"type":"x","seq":1.5}`, fail: true},
		{msg: `{"type":"x","seq":-1}`, fail: true},
		{msg: `{"type":"x"`, fail: true},
		{msg: `{"type":"x",}`, fail: true},
		{msg: `{"type":"x","text":"unterminated}`, fail: true},
		{msg: `{"type":"x","obj":{"a":1}`, fail: true},
		{msg: `["type"]`, fail: true},
		{msg: ``, fail: true},
	}
	for _, c := range cases {
		h, err := Scan([]byte(c.msg))
		if c.fail {
			if err == nil {
				t.Errorf("%s: scanned without error, want a syntax error", c.msg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.msg, err)
			continue
		}
		if string(h.Type) != c.typ || h.Seq != c.seq || h.TS != c.ts {
			t.Errorf("%s: got type %q seq %d ts %d, want %q %d %d", c.msg, h.Type, h.Seq, h.TS, c.typ, c.seq, c.ts)
		}
		// What encoding/json reads from the same bytes agrees.
		var want struct {
			Type string `json:"type"`
			Seq  uint64 `json:"seq"`
			TS   int64  `json:"ts"`
		}
		if err := json.Unmarshal([]byte(c.msg), &want); err != nil {
			t.Fatalf("%s: the case is not valid JSON: %v", c.msg, err)
		}
		if want.Type != c.typ || want.Seq != c.seq || want.TS != c.ts {
			t.Fatalf("%s: the case's expectation disagrees with encoding/json", c.msg)
		}
	}
}

func TestScanHeadDoesNotAllocate(t *testing.T) {
	msg := []byte(`{"type":"text_delta","sessionId":"0f6a1c","turnId":"turn_3","seq":4121,"ts":1795817321710,"text":"the quick"}`)
	n := testing.AllocsPerRun(100, func() {
		if h, err := Scan(msg); err != nil || h.Seq != 4121 {
			t.Fatalf("scan: %v %d", err, h.Seq)
		}
	})
	if n != 0 {
		t.Fatalf("Scan allocates %.1f times per message, want 0", n)
	}
}
