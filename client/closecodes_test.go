package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/client"
)

// closingPeer is a WebSocket endpoint on a real listener that speaks the
// gateway's handshake and closes its first connection with code; later
// connections stay open. The gateway itself sends 1012, 1013, 4001 and
// 4008 only under conditions a test cannot cheaply arrange, and never 1001
// or 1008, which the contract reserves, so the client's answer to each
// code is checked against this peer.
func closingPeer(t *testing.T, code int) (string, *atomic.Int64, *atomic.Value) {
	var conns atomic.Int64
	var auth atomic.Value
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := conns.Add(1)
		auth.Store(r.Header.Get("Authorization"))
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for _, f := range []string{
			`{"type":"welcome","protocolVersion":1,"requiresAuth":true,"serverVersion":"test"}`,
			`{"type":"connected","clientId":"c","heartbeatIntervalMs":30000,"ts":1}`,
			`{"type":"authenticated","identity":{"userId":"u","email":"u@example.com","tenantId":"t","role":"developer","permissions":[]}}`,
		} {
			if ws.WriteMessage(websocket.TextMessage, []byte(f)) != nil {
				return
			}
		}
		if n == 1 {
			_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, "scripted"), time.Now().Add(time.Second))
			return
		}
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws", &conns, &auth
}

func TestCloseCodes(t *testing.T) {
	for _, tc := range []struct {
		code      int
		reconnect bool
		atLeast   time.Duration
	}{
		{1012, true, 0}, {1001, true, 0}, {4008, true, 0}, {4001, true, 0},
		{1013, true, 500 * time.Millisecond}, // backs off at least 1 s, jittered down to half
		{1008, false, 0},
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			url, conns, auth := closingPeer(t, tc.code)
			var tokens atomic.Int64
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			c, err := client.Dial(ctx, client.Options{URL: url, MinBackoff: 10 * time.Millisecond, TokenSource: func(context.Context) (string, error) {
				return fmt.Sprintf("tok-%d", tokens.Add(1)), nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if !tc.reconnect {
				select {
				case <-c.Done():
				case <-ctx.Done():
					t.Fatal("the client did not stop")
				}
				var ce *client.CloseError
				if !errors.As(c.Err(), &ce) || ce.Code != tc.code || conns.Load() != 1 {
					t.Fatalf("stopped with %v after %d connections", c.Err(), conns.Load())
				}
				return
			}
			for conns.Load() < 2 || c.State() != client.Open {
				if ctx.Err() != nil {
					t.Fatalf("no reconnection: %d connections, state %s, err %v", conns.Load(), c.State(), c.Err())
				}
				time.Sleep(5 * time.Millisecond)
			}
			if took := time.Since(start); took < tc.atLeast {
				t.Fatalf("reconnected after %s, want at least %s", took, tc.atLeast)
			}
			// Every connection presents a token fetched for it.
			if got := auth.Load(); got != "Bearer tok-2" || tokens.Load() != 2 {
				t.Fatalf("second connection's Authorization %v, %d tokens fetched", got, tokens.Load())
			}
		})
	}
}
