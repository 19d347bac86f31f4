package e2e

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/app/config"
)

// Over a budget a client gets a clear refusal, never a crash: the
// connection cap closes with CAPACITY_EXCEEDED and 1013, the active-session
// cap answers CAPACITY_EXCEEDED and leaves the connection usable.
func TestCapacityRefusals(t *testing.T) {
	g := startGateway(t, func(cfg *config.Config) { cfg.MaxConnections = 1; cfg.MaxActiveSessions = 1 })
	first := g.dialDev(t)

	second := g.dial(t, nil)
	second.expect("welcome")
	e, err := second.read(5 * time.Second)
	if err != nil || e["type"] != "error" || e["code"] != "CAPACITY_EXCEEDED" {
		t.Fatalf("over the connection cap: %v %v", e, err)
	}
	_, err = second.read(5 * time.Second)
	if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != 1013 {
		t.Fatalf("want close 1013, got %v", err)
	}

	a := first.createSession("echo")["id"].(string)
	b := first.createSession("echo")["id"].(string)
	first.join(a, nil)
	first.send(map[string]any{"type": "join_session", "sessionId": b, "requestId": "cap"})
	if e := first.expect("error"); e["code"] != "CAPACITY_EXCEEDED" || e["requestId"] != "cap" {
		t.Fatalf("over the session cap: %v", e)
	}
	first.send(map[string]any{"type": "run_turn", "sessionId": a, "text": "still fine"})
	first.until("turn_complete")
}
