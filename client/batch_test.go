package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/client"
)

// The client asks for batched frames, and takes every line of a batched
// frame as one message: the handshake, a join reply and a session's events
// all arrive several to a frame here, and come out whole, once and in order.
func TestBatchedFramesAreSplitIntoMessages(t *testing.T) {
	up := websocket.Upgrader{Subprotocols: []string{client.BatchProtocol}}
	asked := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked <- r.Header.Get("Sec-WebSocket-Protocol")
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		send := func(lines ...string) { _ = ws.WriteMessage(websocket.TextMessage, []byte(strings.Join(lines, "\n"))) }
		send(append(devHandshake, `{"type":"heartbeat","ts":2}`)...)
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			if m["type"] != "join_session" {
				continue
			}
			rid, _ := m["requestId"].(string)
			send(snapshot(rid, 0), textDelta(1), textDelta(2))
			send(textDelta(3), textDelta(4), textDelta(5))
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := dialPeer(ctx, t, srv)
	if p := <-asked; p != client.BatchProtocol {
		t.Fatalf("Sec-WebSocket-Protocol %q, want %s", p, client.BatchProtocol)
	}
	if _, err := c.Join(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if got := firstSeqs(ctx, t, c, 5); fmt.Sprint(got) != "[1 2 3 4 5]" {
		t.Fatalf("delivered %v, want 1 to 5 once each", got)
	}
}
