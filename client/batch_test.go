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
		ev := func(seq int) string {
			return fmt.Sprintf(`{"type":"text_delta","sessionId":"s1","turnId":"turn_1","seq":%d,"ts":1,"text":"%d"}`, seq, seq)
		}
		send(`{"type":"welcome","protocolVersion":1,"requiresAuth":false,"serverVersion":"test"}`,
			`{"type":"connected","clientId":"c","heartbeatIntervalMs":30000,"ts":1}`,
			`{"type":"authenticated","identity":{"userId":"u","email":"u@example.com","tenantId":"t","role":"owner","permissions":[]}}`,
			`{"type":"heartbeat","ts":2}`)
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
			send(fmt.Sprintf(`{"type":"state_snapshot","sessionId":"s1","epoch":"e1","latestSeq":0,"replayComplete":true,"pendingPrompts":[],"state":"running","requestId":%q,"session":{"id":"s1","name":"n","agentType":"echo","projectId":"","state":"running","archived":false,"createdBy":"u","createdAt":1,"updatedAt":1,"epoch":"e1","latestSeq":0}}`, rid),
				ev(1), ev(2))
			send(ev(3), ev(4), ev(5))
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{URL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := <-asked; p != client.BatchProtocol {
		t.Fatalf("Sec-WebSocket-Protocol %q, want %s", p, client.BatchProtocol)
	}
	if _, err := c.Join(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	var got []int64
	for len(got) < 5 {
		select {
		case ev := <-c.Events():
			if ev.Sequenced() {
				got = append(got, ev.Seq)
			}
		case <-ctx.Done():
			t.Fatalf("delivered %v", got)
		}
	}
	if fmt.Sprint(got) != "[1 2 3 4 5]" {
		t.Fatalf("delivered %v, want 1 to 5 once each", got)
	}
}
