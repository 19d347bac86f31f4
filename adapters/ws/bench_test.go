package ws

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

// benchServer is a dev-mode server whose rate limit never refuses: the
// window is a nanosecond, so the limiter still runs its full-ring path.
func benchServer() *Server {
	cfg := DefaultConfig()
	cfg.DevMode = true
	cfg.RateWindow = time.Nanosecond
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := app.NewHub(nil, nil, nil, log, app.DefaultLimits())
	return New(cfg, hub, nil, nil, log)
}

var pingFrame = []byte(`{"type":"ping","requestId":"r1","ts":1764000000000}`)

// One client message through the read path without a socket: size check,
// rate limit, JSON validation, envelope, route, the ping handler, the pong's
// encoding and its push into the connection's outbox.
func BenchmarkDispatchPing(b *testing.B) {
	s := benchServer()
	id := domain.DevIdentity()
	var out int
	c := &conn{srv: s, id: "bench", ip: "127.0.0.1", joined: map[string]struct{}{}, ident: &id,
		rate: domain.NewSlidingWindow(s.cfg.RateLimit, s.cfg.RateWindow)}
	c.out = app.NewOutbox(s.cfg.OutboxBytes, func() {}, nil)
	var msgs [][]byte
	b.ReportAllocs()
	for b.Loop() {
		s.onMessage(c, pingFrame)
		msgs, _ = c.out.Take(msgs[:0], writeChunk) // the writer takes the pong
		out += len(msgs)
	}
	if out == 0 {
		b.Fatal("no pong was pushed")
	}
}

// A ping and its pong over a real loopback WebSocket: the client's write,
// connection's reader, dispatch, the outbox, the connection's writer and the
// client's read. Client and server share this process and its CPUs.
func BenchmarkPingRoundTrip(b *testing.B) {
	s := benchServer()
	e := echo.New()
	e.GET("/ws", s.Handle)
	ts := httptest.NewServer(e)
	defer ts.Close()
	defer s.Shutdown(b.Context())
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for _, want := range []string{"welcome", "connected", "authenticated"} {
		_, m, err := c.ReadMessage()
		if err != nil || !strings.Contains(string(m), `"type":"`+want+`"`) {
			b.Fatalf("handshake: want %s, got %s (%v)", want, m, err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.WriteMessage(websocket.TextMessage, pingFrame); err != nil {
			b.Fatal(err)
		}
		_, m, err := c.ReadMessage()
		if err != nil {
			b.Fatal(err)
		}
		if !strings.Contains(string(m), `"type":"pong"`) {
			b.Fatalf("got %s", m)
		}
	}
}
