package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	httpadapter "github.com/diminuendo/diminuendo/adapters/http"
	"github.com/diminuendo/diminuendo/app/config"
	"github.com/diminuendo/diminuendo/app/root"
)

// gateway is a running gateway under test.
type gateway struct {
	t    *testing.T
	addr string
	app  *fxtest.App
	logs *lockedBuffer // set by startAuthGateway
}

// startGateway boots the whole gateway (embedded simulators included) on a
// loopback port. mutate adjusts the configuration first.
func startGateway(t *testing.T, mutate func(*config.Config), extra ...fx.Option) *gateway {
	t.Helper()
	// The per-identity REST rate is raised: the suite's tests make many
	// calls as one identity; TestRESTRateLimitPerIdentity holds the default.
	cfg, err := config.Parse([]string{"DEV_MODE=true", "HOST=127.0.0.1", "PORT=0", "SIM_STEP_DELAY=1ms", "LOG_LEVEL=warn", "SHUTDOWN_DRAIN=2s",
		"REST_RATE_LIMIT=100000", "DATA_DIR=" + t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(&cfg)
	}
	var srv *httpadapter.Server
	opts := append([]fx.Option{root.Options(cfg), fx.Populate(&srv), fx.NopLogger}, extra...)
	a := fxtest.New(t, opts...)
	a.RequireStart()
	t.Cleanup(a.RequireStop)
	return &gateway{t: t, addr: srv.Addr(), app: a}
}

func (g *gateway) url(path string) string { return "http://" + g.addr + path }

// client is a WebSocket test client that records every frame it reads.
type client struct {
	t    *testing.T
	c    *websocket.Conn
	seen []map[string]any
	// batch: the connection asked for batched frames; pending holds the
	// rest of the last frame, perFrame how many messages each frame held.
	batch    bool
	pending  [][]byte
	perFrame []int
}

func (g *gateway) dial(t *testing.T, header http.Header) *client {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial("ws://"+g.addr+"/ws", header)
	if err != nil {
		if resp != nil {
			t.Fatalf("dial: %v (HTTP %d)", err, resp.StatusCode)
		}
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(16 << 20)
	cl := &client{t: t, c: c}
	t.Cleanup(func() { _ = c.Close() })
	return cl
}

// dialBatch dials asking for batched frames (subprotocol
// diminuendo.v1.batch) and consumes the dev-mode handshake.
func (g *gateway) dialBatch(t *testing.T) *client {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"diminuendo.v1.batch"}, HandshakeTimeout: 10 * time.Second}
	c, resp, err := d.Dial("ws://"+g.addr+"/ws", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != "diminuendo.v1.batch" {
		t.Fatalf("Sec-WebSocket-Protocol %q, want diminuendo.v1.batch", got)
	}
	c.SetReadLimit(16 << 20)
	cl := &client{t: t, c: c, batch: true}
	t.Cleanup(func() { _ = c.Close() })
	cl.expect("welcome")
	cl.expect("connected")
	cl.expect("authenticated")
	return cl
}

// dialDev dials and consumes the dev-mode handshake.
func (g *gateway) dialDev(t *testing.T) *client {
	cl := g.dial(t, nil)
	cl.expect("welcome")
	cl.expect("connected")
	cl.expect("authenticated")
	return cl
}

// send writes a client message, which must match ClientMessage.
func (c *client) send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	checkSent(c.t, b)
	c.write(b)
}

// sendInvalid writes a message the test means to break the contract, to
// see it refused; it is not checked against ClientMessage.
func (c *client) sendInvalid(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.write(b)
}

func (c *client) write(b []byte) {
	c.t.Helper()
	if err := c.c.WriteMessage(websocket.TextMessage, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read returns the next message, failing after timeout. A batching
// client's frame is split on '\n' and every line is one message; any other
// client's frame must be exactly one JSON object.
func (c *client) read(timeout time.Duration) (map[string]any, error) {
	if len(c.pending) == 0 {
		_ = c.c.SetReadDeadline(time.Now().Add(timeout))
		_, b, err := c.c.ReadMessage()
		if err != nil {
			return nil, err
		}
		if c.batch {
			c.pending = bytes.Split(b, []byte{'\n'})
		} else {
			c.pending = [][]byte{b}
		}
		c.perFrame = append(c.perFrame, len(c.pending))
	}
	b := c.pending[0]
	c.pending = c.pending[1:]
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("frame is not JSON: %s", b)
	}
	checkReceived(c.t, m)
	c.seen = append(c.seen, m)
	return m, nil
}

// next reads frames, skipping heartbeats, until one arrives.
func (c *client) next() map[string]any {
	c.t.Helper()
	for {
		m, err := c.read(10 * time.Second)
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if m["type"] != "heartbeat" {
			return m
		}
	}
}

// expect reads the next frame and checks its type. session_state frames,
// which arrive whenever the live state moves, are skipped unless asked for.
func (c *client) expect(typ string) map[string]any {
	c.t.Helper()
	m := c.next()
	for i := 0; i < 8 && m["type"] == "session_state" && typ != "session_state"; i++ {
		m = c.next()
	}
	if m["type"] != typ {
		c.t.Fatalf("want %s, got %v", typ, m)
	}
	return m
}

// until reads frames until one of type typ, returning all read (inclusive).
func (c *client) until(typ string) []map[string]any {
	c.t.Helper()
	var out []map[string]any
	for i := 0; i < 10000; i++ {
		m := c.next()
		out = append(out, m)
		if m["type"] == typ {
			return out
		}
		if m["type"] == "error" {
			c.t.Fatalf("error while waiting for %s: %v", typ, m)
		}
	}
	c.t.Fatalf("no %s in 10000 frames", typ)
	return nil
}

func (c *client) createSession(agentType string) map[string]any {
	c.t.Helper()
	c.send(map[string]any{"type": "create_session", "agentType": agentType, "requestId": "create"})
	m := c.expect("session_created")
	return m["session"].(map[string]any)
}

func (c *client) join(sessionID string, extra map[string]any) map[string]any {
	c.t.Helper()
	msg := map[string]any{"type": "join_session", "sessionId": sessionID, "requestId": "join"}
	for k, v := range extra {
		msg[k] = v
	}
	c.send(msg)
	return c.expect("state_snapshot")
}

// sequenced filters frames that carry a seq.
func sequenced(frames []map[string]any) []map[string]any {
	var out []map[string]any
	for _, f := range frames {
		if _, ok := f["seq"]; ok {
			out = append(out, f)
		}
	}
	return out
}

func seqOf(f map[string]any) uint64 { return uint64(f["seq"].(float64)) }

// requireGapless checks seqs run from first, one by one.
func requireGapless(t *testing.T, evs []map[string]any, first uint64) {
	t.Helper()
	for i, e := range evs {
		if got := seqOf(e); got != first+uint64(i) {
			t.Fatalf("event %d (%s) has seq %d, want %d", i, e["type"], got, first+uint64(i))
		}
	}
}

func types(evs []map[string]any) string {
	var b strings.Builder
	for i, e := range evs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, e["type"])
	}
	return b.String()
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
