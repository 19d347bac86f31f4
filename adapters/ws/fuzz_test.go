package ws_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app/config"
	"github.com/diminuendo/diminuendo/gatewaytest"
	"github.com/diminuendo/diminuendo/internal/syncbuf"
)

// dispatchSeeds are one frame of every client message type, well formed or
// broken in the ways clients break them.
var dispatchSeeds = []string{
	`{"type":"ping","requestId":"p1","ts":1764000000000}`,
	`{"type":"authenticate","token":"x","requestId":"a1"}`,
	`{"type":"list_sessions","requestId":"l1"}`,
	`{"type":"create_session","agentType":"echo","requestId":"c1"}`,
	`{"type":"create_session","agentType":"nope","requestId":"c2"}`,
	`{"type":"join_session","sessionId":"ses_0123456789abcdef","afterSeq":3,"requestId":"j1"}`,
	`{"type":"leave_session","sessionId":"ses_0123456789abcdef","requestId":"lv1"}`,
	`{"type":"leave_session","requestId":"lv2"}`,
	`{"type":"run_turn","sessionId":"ses_0123456789abcdef","text":"hello","requestId":"r1"}`,
	`{"type":"stop_turn","sessionId":"ses_0123456789abcdef","requestId":"s1"}`,
	`{"type":"steer","sessionId":"ses_0123456789abcdef","text":"left","requestId":"st1"}`,
	`{"type":"answer_question","sessionId":"ses_0123456789abcdef","questionId":"q1","answers":{"a":"b"},"requestId":"aq1"}`,
	`{"type":"get_events","sessionId":"ses_0123456789abcdef","afterSeq":0,"limit":10,"requestId":"g1"}`,
	`{"type":"get_events","sessionId":"ses_0123456789abcdef","requestId":"g2"}`,
	`{"type":"get_history","sessionId":"ses_0123456789abcdef","requestId":"h1"}`,
	`{"type":"rename_session","sessionId":"ses_0123456789abcdef","name":"n","requestId":"rn1"}`,
	`{"type":"archive_session","sessionId":"ses_0123456789abcdef","requestId":"ar1"}`,
	`{"type":"unarchive_session","sessionId":"ses_0123456789abcdef","requestId":"ua1"}`,
	`{"type":"delete_session","sessionId":"ses_0123456789abcdef","requestId":"d1"}`,
	`{"type":"list_files","sessionId":"ses_0123456789abcdef","requestId":"f1"}`,
	`{"type":"read_file","sessionId":"ses_0123456789abcdef","path":"../etc/passwd","requestId":"f2"}`,
	`{"type":"file_history","sessionId":"ses_0123456789abcdef","path":"a.go","requestId":"f3"}`,
	`{"type":"file_at_iteration","sessionId":"ses_0123456789abcdef","path":"a.go","iteration":1,"requestId":"f4"}`,
	`{"type":"manage_members","action":"list","requestId":"m1"}`,
	`{"type":"list_agent_types","requestId":"t1"}`,
	`{"type":"nope","requestId":"u1"}`,
	`{"type":5,"requestId":"u2"}`,
	`{"type":"ping","requestId":7}`,
	`{"requestId":"u3"}`,
	`{"type":"ping","requestId":"` + strings.Repeat("r", 129) + `"}`,
	`{"type":"ping","REQUESTID":"case"}`,
	`{"type":"ping","requestId":"a","requestId":"b"}`,
	`[]`, `null`, `"ping"`, `1e999`, `{`, ``, "\xff\xfe", `{"type":"ping","requestId":"\ud800"}`,
}

// FuzzDispatch sends each input as one frame, from a client, to a whole
// gateway in dev mode over a real WebSocket, then a ping as a sentinel, and
// checks what comes back before the sentinel's pong:
//   - the connection stays open, but for the documented closes: 1007 for a
//     text frame that is not UTF-8 (and only then), 1009 for one over 1 MiB;
//   - every frame is a JSON object with a string type, and every error has
//     a code from openapi.yaml's closed ErrorCode set, never INTERNAL;
//   - a frame whose requestId (that exact key, a string of at most 128
//     characters) can be read gets exactly one frame carrying it back, and no
//     frame carries any other requestId;
//   - a binary frame gets exactly one INVALID_MESSAGE;
//   - the gateway logs no error.
func FuzzDispatch(f *testing.F) {
	for _, s := range dispatchSeeds {
		f.Add([]byte(s), false)
	}
	f.Add([]byte(`{"type":"ping","requestId":"bin"}`), true)

	errLog := &syncbuf.Buffer{}
	gw := gatewaytest.Start(f, gatewaytest.WithDevMode(),
		gatewaytest.WithLogger(slog.New(slog.NewTextHandler(errLog, &slog.HandlerOptions{Level: slog.LevelError}))),
		gatewaytest.WithConfig(func(c *config.Config) {
			// Every frame is served (the limit has its own tests): a
			// window of a nanosecond never fills. A large limit would not
			// do: the window keeps a ring of that many entries.
			c.RateLimitWindow = time.Nanosecond
		}))
	codes := errorCodes(f)
	prefix := randomHex(8)
	var c *websocket.Conn
	n := 0
	f.Cleanup(func() {
		if c != nil {
			_ = c.Close()
		}
	})

	f.Fuzz(func(t *testing.T, frame []byte, binary bool) {
		if c == nil {
			c = dialDev(t, gw.WSURL)
		}
		n++
		sentinel := fmt.Sprintf("sentinel-%s-%d", prefix, n)
		kind := websocket.TextMessage
		if binary {
			kind = websocket.BinaryMessage
		}
		if err := c.WriteMessage(kind, frame); err != nil {
			t.Fatalf("write: %v", err)
		}
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping","requestId":"`+sentinel+`"}`))

		var got []map[string]any
		deadline := time.Now().Add(10 * time.Second)
		for {
			_ = c.SetReadDeadline(deadline)
			_, b, err := c.ReadMessage()
			if err != nil {
				conn := c
				c = nil
				_ = conn.Close()
				var ce *websocket.CloseError
				if !errors.As(err, &ce) {
					t.Fatalf("the connection failed without a close frame: %v (after %v)", err, got)
				}
				switch {
				case ce.Code == websocket.CloseInvalidFramePayloadData && !binary && !utf8.Valid(frame):
				case ce.Code == websocket.CloseMessageTooBig && len(frame) > 1<<20:
				default:
					t.Fatalf("closed with %d %q for a frame of %d bytes (after %v)", ce.Code, ce.Text, len(frame), got)
				}
				return
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("the server sent a frame that is not a JSON object: %q", b)
			}
			if m["requestId"] == sentinel && m["type"] == "pong" {
				break
			}
			if m["type"] == "heartbeat" {
				continue // the server's own, on its clock
			}
			got = append(got, m)
		}
		if !binary && !utf8.Valid(frame) {
			t.Fatalf("a text frame that is not UTF-8 was served: %v", got)
		}

		rid := exactRequestID(frame)
		echoed, errs := 0, 0
		for _, m := range got {
			typ, ok := m["type"].(string)
			if !ok || typ == "" {
				t.Fatalf("a frame without a type: %v", m)
			}
			if typ == "error" {
				errs++
				code, _ := m["code"].(string)
				if !codes[code] || code == string(api.ErrorCodeINTERNAL) {
					t.Fatalf("error code %q is not a client error from the closed set: %v", code, m)
				}
				if msg, _ := m["message"].(string); msg == "" {
					t.Fatalf("an error without a message: %v", m)
				}
			}
			if v, has := m["requestId"]; has {
				if v != rid || binary {
					t.Fatalf("a frame carries requestId %q; the frame's own is %q: %v", v, rid, m)
				}
				echoed++
			}
		}
		switch {
		case binary:
			if len(got) != 1 || errs != 1 || got[0]["code"] != string(api.ErrorCodeINVALIDMESSAGE) {
				t.Fatalf("a binary frame got %v, want one INVALID_MESSAGE", got)
			}
		case rid != "" && echoed != 1:
			t.Fatalf("%d frames answer requestId %q, want exactly 1: %v", echoed, rid, got)
		case rid == "" && errs > 1:
			t.Fatalf("%d errors for one frame: %v", errs, got)
		}
		if errLog.Len() > 0 {
			t.Fatalf("the gateway logged an error for %q:\n%s", frame, errLog.String())
		}
	})
}

// exactRequestID is the frame's requestId as the contract defines it: the
// string under the exact key requestId of a JSON object, at most 128
// characters; "" when there is none.
func exactRequestID(raw []byte) string {
	if !utf8.Valid(raw) {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(m["requestId"], &s) != nil || len(s) > 128 {
		return ""
	}
	return s
}

// errorCodes is openapi.yaml's closed ErrorCode set.
func errorCodes(tb testing.TB) map[string]bool {
	spec, err := api.GetSpec()
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]bool{}
	for _, v := range spec.Components.Schemas["ErrorCode"].Value.Enum {
		out[v.(string)] = true
	}
	if len(out) == 0 {
		tb.Fatal("openapi.yaml has no ErrorCode values")
	}
	return out
}

func dialDev(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(16 << 20)
	for _, want := range []string{"welcome", "connected", "authenticated"} {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, m, err := c.ReadMessage()
		if err != nil || !strings.Contains(string(m), `"type":"`+want+`"`) {
			t.Fatalf("handshake: want %s, got %s (%v)", want, m, err)
		}
	}
	return c
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// A key that differs from a field of the message only by case is refused:
// the schema check reads keys exactly, the decoder would not, so the value
// would reach the handler unchecked.
func TestCaseVariantKeysAreRefused(t *testing.T) {
	gw := gatewaytest.Start(t, gatewaytest.WithDevMode())
	c := dialDev(t, gw.WSURL)
	defer c.Close()
	for _, frame := range []string{
		`{"type":"get_events","sessionId":"ses_0123456789abcdef","afterSeq":0,"limit":10,"LIMIT":100000000,"requestId":"k1"}`,
		`{"type":"get_events","SessionId":"ses_0123456789abcdef","sessionId":"ses_0123456789abcdef","afterSeq":0,"requestId":"k2"}`,
		`{"type":"ping","requestId":"k3","Type":"list_sessions"}`,
	} {
		if err := c.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		if m["type"] != "error" || m["code"] != "INVALID_MESSAGE" || !strings.Contains(m["message"].(string), "case-sensitive") {
			t.Fatalf("%s: got %s", frame, b)
		}
	}
}
