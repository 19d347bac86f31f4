package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/app/config"
)

// A client that stops reading while turns stream is cut off with 4008
// once more than WS_OUTBOX_BYTES wait for it; the frames written before the
// cut are whole and in order, and a resume from its last seq gets every
// later event exactly once. A join whose replay is larger than the bound is
// served whole, not cut off.
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

	// One long turn (up to 125,000 deltas, some 16 MB of frames) until the
	// slow client is cut off: how much the kernel buffers before the
	// gateway's bound is reached depends on the socket's send buffer, which
	// grows. The stream runs on without a pause, so the bound is reached
	// soon after the kernel's buffers fill, well within the gateway's write
	// timeout (a socket that stays full past it is closed without a close
	// frame, which this test does not mean to see); the cut is watched for
	// while the turn streams and the turn is stopped once it is seen.
	if r := g.rest(t, "POST", "/api/sessions/"+id+"/turns", "", map[string]any{"text": strings.Repeat("word ", 100000)}); r.status != 202 {
		t.Fatalf("turn: %d %s", r.status, r.body)
	}
	last, cut, done := 0, false, false
	for deadline := time.Now().Add(3 * time.Minute); !cut && !done; {
		if time.Now().After(deadline) {
			t.Fatal("neither a cut nor the end of the turn within 3 minutes")
		}
		cut = slowConsumersCut(t, g) > 0
		last, done = turnProgress(t, g, id, last)
		if !cut && !done {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !cut {
		t.Fatalf("%d events streamed and the client that reads nothing was never cut off", last)
	}
	if !done {
		// 409: the turn has already ended, the events page lagging behind.
		if r := g.rest(t, "POST", "/api/sessions/"+id+"/stop", "", nil); r.status/100 != 2 && r.status != 409 {
			t.Fatalf("stop: %d %s", r.status, r.body)
		}
	}

	// Now read what the slow client was sent: whole frames, in order,
	// then the close. The backlog can be megabytes (the kernel's buffers
	// grow), so it is read without the suite's per-frame schema check, to
	// answer the close within the gateway's wait even under the race
	// detector.
	var seen float64
	var closeErr *websocket.CloseError
	for i := 0; i < 1000000; i++ {
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := ws.ReadMessage()
		if err != nil {
			if !errors.As(err, &closeErr) {
				t.Fatalf("after seq %v: %v, want close 4008", seen, err)
			}
			break
		}
		var m struct {
			Seq float64 `json:"seq"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("after seq %v: a frame that is not one JSON object: %q", seen, b)
		}
		if m.Seq > 0 {
			if seen != 0 && m.Seq != seen+1 {
				t.Fatalf("seq %v after %v before the cut", m.Seq, seen)
			}
			seen = m.Seq
		}
	}
	if closeErr == nil || closeErr.Code != 4008 {
		t.Fatalf("closed with %v, want 4008 (slow consumer)", closeErr)
	}
	if !done {
		last = waitTurnComplete(t, g, id, last)
	}
	if int(seen) >= last {
		t.Fatalf("the slow client got every event (%v of %d) yet was cut", seen, last)
	}

	// The resume: the events after the last one seen, exactly once, from
	// the join's replay when it is complete, else from get_events pages
	// (as a client does when a join says replayComplete:false).
	back := g.dialDev(t)
	snap := back.join(id, map[string]any{"afterSeq": seen, "epoch": epoch})
	next := int(seen) + 1
	if snap["replayComplete"] == true {
		next = readSeqs(t, back, next, last)
	} else {
		next = pageSeqs(t, g, id, next, last)
	}
	if next-1 != last {
		t.Fatalf("the resume ended at seq %d, the session at %d", next-1, last)
	}

	// A replay larger than the bound (about 200 KB against 16 KiB) is
	// delivered whole, not taken for a slow consumer.
	fresh := g.dialDev(t)
	from := max(0, last-1500)
	if snap := fresh.join(id, map[string]any{"afterSeq": from, "epoch": epoch}); snap["replayComplete"] != true {
		t.Fatalf("join replaying 1500 events: %v", snap)
	}
	if end := readSeqs(t, fresh, from+1, last); end-1 != last {
		t.Fatalf("the large replay ended at seq %d, the session at %d", end-1, last)
	}
}

// readSeqs reads c's sequenced events, which must run from next to last
// with no gap or repeat, and returns the seq after the last one read.
func readSeqs(t *testing.T, c *client, next, last int) int {
	t.Helper()
	for next <= last {
		m := c.next()
		s, ok := m["seq"].(float64)
		if !ok {
			continue
		}
		if int(s) != next {
			t.Fatalf("got seq %v, want %d", s, next)
		}
		next++
	}
	return next
}

// pageSeqs pages the session's events over REST from next to last,
// checking each seq, and returns the seq after the last one read.
func pageSeqs(t *testing.T, g *gateway, id string, next, last int) int {
	t.Helper()
	for i := 0; next <= last && i < 1000; i++ {
		for _, e := range eventsPage(t, g, id, next-1) {
			if e.Seq != next {
				t.Fatalf("get_events: seq %d, want %d", e.Seq, next)
			}
			next++
		}
	}
	return next
}

// slowConsumersCut is the gateway's count of connections cut off as slow
// consumers.
func slowConsumersCut(t *testing.T, g *gateway) float64 {
	t.Helper()
	for _, l := range strings.Split(g.scrapeMetrics(t), "\n") {
		if v, ok := strings.CutPrefix(l, "diminuendo_ws_slow_consumers_total "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	t.Fatal("no diminuendo_ws_slow_consumers_total in /metrics")
	return 0
}

type seqEvent struct {
	Type string `json:"type"`
	Seq  int    `json:"seq"`
}

func eventsPage(t *testing.T, g *gateway, id string, after int) []seqEvent {
	t.Helper()
	r := g.rest(t, "GET", fmt.Sprintf("/api/sessions/%s/events?afterSeq=%d", id, after), "", nil)
	var page struct {
		Events []seqEvent `json:"events"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &page) != nil {
		t.Fatalf("events: %d %s", r.status, r.body)
	}
	return page.Events
}

// turnProgress reads the session's events after seq after, and returns
// the last seq read and whether a turn_complete was among them.
func turnProgress(t *testing.T, g *gateway, id string, after int) (int, bool) {
	t.Helper()
	for i := 0; i < 100; i++ {
		page := eventsPage(t, g, id, after)
		if len(page) == 0 {
			return after, false
		}
		for _, e := range page {
			after = e.Seq
			if e.Type == "turn_complete" {
				return after, true
			}
		}
	}
	return after, false
}

// waitTurnComplete pages through the session's events over REST, after
// seq after, until a turn_complete, and returns its seq.
func waitTurnComplete(t *testing.T, g *gateway, id string, after int) int {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		page := eventsPage(t, g, id, after)
		for _, e := range page {
			after = e.Seq
			if e.Type == "turn_complete" {
				return e.Seq
			}
		}
		if len(page) == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Fatal("no turn_complete within 60 s")
	return 0
}
