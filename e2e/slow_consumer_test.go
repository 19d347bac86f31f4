package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/app/config"
)

// A client that stops reading while a turn streams is cut off with 4008
// once more than WS_OUTBOX_BYTES wait for it; the frames written before the
// cut are whole and in order, and a resume from its last seq gets every
// later event exactly once.
func TestSlowConsumerIsCutOffAndResumesWithoutLoss(t *testing.T) {
	g := startGateway(t, func(c *config.Config) {
		c.OutboxBytes = 16 << 10
		c.SimStepDelay = 0
		c.ReplayWindowEvents = 5000
	})
	owner := g.dialDev(t)
	id := owner.createSession("echo")["id"].(string)
	epoch := owner.join(id, nil)["epoch"].(string)
	_ = owner.c.Close()

	// The slow client's socket holds little, so its backlog stays in the
	// gateway, where the bound applies.
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	ws, _, err := d.Dial("ws://"+g.addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	ws.SetReadLimit(16 << 20)
	slow := &client{t: t, c: ws}
	slow.expect("welcome")
	slow.expect("connected")
	slow.expect("authenticated")
	slow.join(id, nil)

	// 6 KB of text: about 1,500 deltas, some 200 KB of frames, within what
	// one join replays.
	if r := g.rest(t, "POST", "/api/sessions/"+id+"/turns", "", map[string]any{"text": strings.Repeat("word ", 1200)}); r.status != 202 {
		t.Fatalf("turn: %d %s", r.status, r.body)
	}
	last := waitTurnComplete(t, g, id)
	if last < 1000 {
		t.Fatalf("the turn streamed only %d events", last)
	}

	// Now read what the slow client was sent: whole frames, in order,
	// then the close.
	var seen float64
	var closeErr *websocket.CloseError
	for i := 0; i < 100000; i++ {
		m, err := slow.read(10 * time.Second)
		if err != nil {
			if !errors.As(err, &closeErr) {
				t.Fatalf("after seq %v: %v, want close 4008", seen, err)
			}
			break
		}
		if s, ok := m["seq"].(float64); ok {
			if seen != 0 && s != seen+1 {
				t.Fatalf("seq %v after %v before the cut", s, seen)
			}
			seen = s
		}
	}
	if closeErr == nil || closeErr.Code != 4008 {
		t.Fatalf("closed with %v, want 4008 (slow consumer)", closeErr)
	}

	// The resumed client gets every later event exactly once, to the end
	// of the turn, though the replay is larger than the bound.
	back := g.dialDev(t)
	snap := back.join(id, map[string]any{"afterSeq": seen, "epoch": epoch})
	if snap["replayComplete"] != true {
		t.Fatalf("resume after the cut: %v", snap)
	}
	next := seen + 1
	for i := 0; i < 100000; i++ {
		m := back.next()
		s, ok := m["seq"].(float64)
		if !ok {
			continue
		}
		if s != next {
			t.Fatalf("resumed at %v: got seq %v, want %v", seen, s, next)
		}
		next++
		if m["type"] == "turn_complete" {
			break
		}
	}
	if int(next-1) != last {
		t.Fatalf("the resume ended at seq %v, the session at %d", next-1, last)
	}
	if int(seen) >= last {
		t.Fatalf("the slow client got every event (%v of %d): nothing was cut", seen, last)
	}
}

// waitTurnComplete pages through the session's events over REST until a
// turn_complete, and returns its seq.
func waitTurnComplete(t *testing.T, g *gateway, id string) int {
	t.Helper()
	after := 0
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r := g.rest(t, "GET", fmt.Sprintf("/api/sessions/%s/events?afterSeq=%d", id, after), "", nil)
		var page struct {
			Events []struct {
				Type string `json:"type"`
				Seq  int    `json:"seq"`
			} `json:"events"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &page) != nil {
			t.Fatalf("events: %d %s", r.status, r.body)
		}
		for _, e := range page.Events {
			after = e.Seq
			if e.Type == "turn_complete" {
				return e.Seq
			}
		}
		if len(page.Events) == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Fatal("no turn_complete within 30 s")
	return 0
}
