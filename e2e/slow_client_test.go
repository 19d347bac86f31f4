package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/app/config"
)

// trickle writes head, then one byte of body every step, and reports how
// long the server kept the connection open (bounded by limit).
func trickle(t *testing.T, addr, head string, step, limit time.Duration) time.Duration {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, c) // returns when the server closes
		close(closed)
	}()
	tick := time.NewTicker(step)
	defer tick.Stop()
	for {
		select {
		case <-closed:
			return time.Since(start)
		case <-tick.C:
			if time.Since(start) > limit {
				return time.Since(start)
			}
			_, _ = c.Write([]byte("x"))
		}
	}
}

// A body or headers trickled a byte at a time hold a connection no longer
// than HTTP_READ_TIMEOUT, token or not; event streams and WebSockets,
// which outlive it, keep working.
func TestSlowRequestsAreCutAtTheReadTimeout(t *testing.T) {
	g := startGateway(t, func(c *config.Config) { c.HTTPReadTimeout = time.Second })

	body := fmt.Sprintf("POST /api/sessions HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n{", g.addr)
	if held := trickle(t, g.addr, body, 100*time.Millisecond, 8*time.Second); held > 4*time.Second {
		t.Errorf("a trickled body held its connection %v", held)
	}
	headers := fmt.Sprintf("GET /api/sessions HTTP/1.1\r\nHost: %s\r\nX-Slow: ", g.addr)
	if held := trickle(t, g.addr, headers, 100*time.Millisecond, 8*time.Second); held > 4*time.Second {
		t.Errorf("trickled headers held their connection %v", held)
	}

	ws := g.dialDev(t)
	s := ws.createSession("echo")
	id := s["id"].(string)
	resp, err := http.Get(g.url("/api/sessions/" + id + "/events/stream"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	time.Sleep(2500 * time.Millisecond) // well past the read timeout

	ws.send(map[string]any{"type": "ping", "requestId": "late"})
	if m := ws.expect("pong"); m["requestId"] != "late" {
		t.Fatalf("the WebSocket after the read timeout: %v", m)
	}
	r := g.rest(t, "POST", "/api/sessions/"+id+"/turns", "", map[string]any{"text": "still streaming"})
	if r.status != 202 {
		t.Fatalf("turn: %d %s", r.status, r.body)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the event stream ended at the read timeout")
			}
			if strings.Contains(l, `"turn_complete"`) {
				return
			}
		case <-deadline:
			t.Fatal("no turn_complete on the event stream")
		}
	}
}
