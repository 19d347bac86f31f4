package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"
)

// The checker itself: a gap, a repeat and an error frame are each reported,
// and in-order events are not.
func TestReadReportsGapsRepeatsAndErrors(t *testing.T) {
	frames := []string{
		`{"type":"user_message","seq":1,"ts":1}`,
		`{"type":"session_state","state":"running"}`,
		`{"type":"text_delta","seq":2,"ts":1}`,
		`{"type":"text_delta","seq":4,"ts":1}`,
		`{"type":"text_delta","seq":4,"ts":1}`,
		`{"type":"error","code":"INTERNAL","message":"boom"}`,
		`{"type":"turn_complete","seq":5,"ts":1}`,
	}
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for _, f := range frames {
			_ = c.WriteMessage(websocket.TextMessage, []byte(f))
		}
		_, _, _ = c.ReadMessage() // until the client closes
	}))
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var closing atomic.Bool
	cl := &client{c: c, closing: &closing, turns: make(chan uint64, 1), refused: make(chan string, 1)}
	var wg sync.WaitGroup
	wg.Add(1)
	go cl.read(&wg)
	if seq := <-cl.turns; seq != 5 {
		t.Fatalf("turn_complete seq %d", seq)
	}
	closing.Store(true)
	_ = c.Close()
	wg.Wait()
	if cl.count != 5 || cl.nbad != 3 || len(cl.lat) != 5 {
		t.Fatalf("count %d, problems %d %q, latencies %d", cl.count, cl.nbad, cl.bad, len(cl.lat))
	}
	for i, want := range []string{"seq 4 after 2", "seq 4 after 4", "error frame INTERNAL"} {
		if !strings.HasPrefix(cl.bad[i], want) {
			t.Errorf("problem %d = %q, want prefix %q", i, cl.bad[i], want)
		}
	}
}
