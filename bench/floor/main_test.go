package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Every subscriber of a topic gets every published event once and in
// order, whole lines of newline-joined batches, and other topics get none.
func TestPublishReachesEverySubscriberInOrder(t *testing.T) {
	srv := httptest.NewServer(newServer().routes())
	defer srv.Close()
	ws := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws?topic="
	type result struct {
		last, frames int
		err          error
	}
	const turns, events = 3, 400
	results := make(chan result, 5)
	var conns []*websocket.Conn
	for i := 0; i < 5; i++ {
		topic := "a"
		if i == 4 {
			topic = "b"
		}
		c, _, err := websocket.DefaultDialer.Dial(ws+topic, nil)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		go func() {
			var r result
			for {
				_ = c.SetReadDeadline(time.Now().Add(time.Second))
				_, b, err := c.ReadMessage()
				if err != nil {
					results <- r
					return
				}
				r.frames++
				for _, line := range bytes.Split(b, []byte{'\n'}) {
					var f struct {
						Seq int `json:"seq"`
					}
					if err := json.Unmarshal(line, &f); err != nil || f.Seq != r.last+1 {
						r.err = fmt.Errorf("line %q after seq %d (%v)", line, r.last, err)
						results <- r
						return
					}
					r.last = f.Seq
				}
			}
		}()
	}
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for i := 0; i < 100 && !strings.Contains(health(t, srv.URL), `"connections":5`); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	for turn := 0; turn < turns; turn++ {
		resp, err := http.Post(fmt.Sprintf("%s/publish?topic=a&events=%d&bytes=120", srv.URL, events), "", nil)
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("publish: %v %v", err, resp)
		}
	}
	var whole, none int
	for i := 0; i < 5; i++ {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		switch r.last {
		case turns * events:
			whole++
		case 0:
			none++
		default:
			t.Fatalf("a subscriber stopped at seq %d of %d", r.last, turns*events)
		}
	}
	if whole != 4 || none != 1 {
		t.Fatalf("%d subscribers got every event and %d none; want 4 and 1", whole, none)
	}
}

func health(t *testing.T, base string) string {
	resp, err := http.Get(base + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return b.String()
}

func TestParseGaps(t *testing.T) {
	if g, ok := parseGaps("", 3); !ok || g != nil {
		t.Fatalf("no gaps: %v %v", g, ok)
	}
	g, ok := parseGaps("0,0,252", 3)
	if !ok || len(g) != 3 || g[2] != 252*time.Millisecond || g[0] != 0 {
		t.Fatalf("0,0,252: %v %v", g, ok)
	}
	for _, bad := range []string{"1,2", "1,2,3,4", "1,-2,3", "1,x,3", "1,,3", "1,2,60001"} {
		if _, ok := parseGaps(bad, 3); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}
