package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Malformed JSON, an unknown type and a 2 MiB frame each get their code, and
// the process stays healthy for everyone else.
func TestBadInputGetsStableCodes(t *testing.T) {
	g := startGateway(t, nil)
	c := g.dialDev(t)

	if err := c.c.WriteMessage(websocket.TextMessage, []byte(`{"type": "ping",`)); err != nil {
		t.Fatal(err)
	}
	if e := c.expect("error"); e["code"] != "INVALID_JSON" {
		t.Fatalf("malformed: %v", e)
	}
	c.sendInvalid(map[string]any{"type": "launch_missiles", "requestId": "r-9"})
	if e := c.expect("error"); e["code"] != "INVALID_MESSAGE" || e["requestId"] != "r-9" {
		t.Fatalf("unknown type: %v", e)
	}
	c.sendInvalid([]int{1, 2, 3})
	if e := c.expect("error"); e["code"] != "INVALID_MESSAGE" {
		t.Fatalf("array: %v", e)
	}
	c.sendInvalid(map[string]any{"type": "run_turn", "sessionId": 42, "text": "x", "requestId": "r-10"})
	if e := c.expect("error"); e["code"] != "INVALID_MESSAGE" || e["requestId"] != "r-10" {
		t.Fatalf("wrong field type: %v", e)
	}
	c.send(map[string]any{"type": "join_session", "sessionId": "ses_does_not_exist", "requestId": "r-11"})
	if e := c.expect("error"); e["code"] != "SESSION_NOT_FOUND" || e["requestId"] != "r-11" {
		t.Fatalf("missing session: %v", e)
	}
	if err := c.c.WriteMessage(websocket.BinaryMessage, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if e := c.expect("error"); e["code"] != "INVALID_MESSAGE" {
		t.Fatalf("binary: %v", e)
	}
	// The connection survived all of that.
	c.send(map[string]any{"type": "ping", "requestId": "alive"})
	if p := c.expect("pong"); p["requestId"] != "alive" {
		t.Fatalf("pong: %v", p)
	}

	big := `{"type":"run_turn","sessionId":"x","text":"` + strings.Repeat("a", 2<<20) + `"}`
	if err := c.c.WriteMessage(websocket.TextMessage, []byte(big)); err != nil {
		t.Fatal(err)
	}
	if e := c.expect("error"); e["code"] != "MESSAGE_TOO_LARGE" {
		t.Fatalf("2 MiB frame: %v", e)
	}
	_, err := c.read(5 * time.Second)
	var ce *websocket.CloseError
	if !asCloseError(err, &ce) || ce.Code != 1009 {
		t.Fatalf("want close 1009, got %v", err)
	}

	// The process is healthy and serves new clients.
	resp, err := http.Get(g.url("/api/health"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health after bad input: %v %v", err, resp)
	}
	resp.Body.Close()
	d := g.dialDev(t)
	d.send(map[string]any{"type": "ping"})
	d.expect("pong")
}

// More than 60 messages in 10 s on one connection are refused with
// RATE_LIMITED and a retry hint; the connection stays open.
func TestRateLimit(t *testing.T) {
	g := startGateway(t, nil)
	c := g.dialDev(t)
	for i := 0; i < 60; i++ {
		c.send(map[string]any{"type": "ping"})
	}
	for i := 0; i < 60; i++ {
		c.expect("pong")
	}
	c.send(map[string]any{"type": "ping", "requestId": "61"})
	e := c.expect("error")
	if e["code"] != "RATE_LIMITED" || e["requestId"] != "61" || e["retryAfterMs"].(float64) <= 0 {
		t.Fatalf("61st message: %v", e)
	}
}

func asCloseError(err error, target **websocket.CloseError) bool {
	ce, ok := err.(*websocket.CloseError)
	if ok {
		*target = ce
	}
	return ok
}
