package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// A gap in a session's seqs (which a healthy gateway never leaves) makes
// the client re-join from the last seq it delivered; what the peer sends
// again is dropped, and the session's events come out whole and once. The
// peer is scripted on a real listener because the gateway cannot be made
// to skip a seq.
func TestGapRejoinsFromLastSeq(t *testing.T) {
	joins := make(chan map[string]any, 4)
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		send := func(f string) { _ = ws.WriteMessage(websocket.TextMessage, []byte(f)) }
		for _, f := range devHandshake {
			send(f)
		}
		for n := 0; ; {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			if m["type"] != "join_session" {
				continue
			}
			joins <- m
			n++
			rid, _ := m["requestId"].(string)
			if n == 1 {
				send(snapshot(rid, 0))
				send(textDelta(1))
				send(textDelta(3)) // seq 2 is missing
				send(textDelta(4))
			} else {
				send(snapshot(rid, 4))
				for _, seq := range []int{2, 3, 4, 3, 5} {
					send(textDelta(seq))
				}
			}
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := dialPeer(ctx, t, srv)
	if _, err := c.Join(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if got := firstSeqs(ctx, t, c, 5); fmt.Sprint(got) != "[1 2 3 4 5]" {
		t.Fatalf("delivered %v, want 1 to 5 once each", got)
	}
	if first := <-joins; first["afterSeq"] != nil {
		t.Fatalf("first join %v, want a fresh one", first)
	}
	if rejoin := <-joins; rejoin["afterSeq"] != float64(1) || rejoin["epoch"] != "e1" {
		t.Fatalf("re-join %v, want afterSeq 1 in epoch e1", rejoin)
	}
	select {
	case ev := <-c.Events():
		if ev.Sequenced() {
			t.Fatalf("an extra event: %s", ev)
		}
	case <-time.After(100 * time.Millisecond):
	}
}
