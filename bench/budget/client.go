package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/bench/internal/jsonhead"
	"github.com/diminuendo/diminuendo/bench/internal/wire"
)

// batchProtocol is the WebSocket subprotocol under which the gateway may
// put several messages into one frame, newline-separated (docs/protocol.md).
const batchProtocol = "diminuendo.v1.batch"

// dialer keeps each connection small: 10,000 of them live in this process.
// Write buffers come from a pool, since only one connection per streaming
// session ever writes after setup, and rarely.
var dialer = websocket.Dialer{
	HandshakeTimeout: 30 * time.Second,
	ReadBufferSize:   2048,
	WriteBufferSize:  1024,
	WriteBufferPool:  &sync.Pool{},
}

// session is one of the run's sessions and the clients joined to it.
type session struct {
	idx     int
	id      string
	clients []*client
	runTurn []byte        // the driver's run_turn, encoded once; nil for an idle session
	final   atomic.Uint64 // seq of the last turn_complete seen by the driver
}

// shared is the run's state every reader goroutine reads.
type shared struct {
	closing   atomic.Bool  // the tool is closing the connections: a close is expected
	driving   atomic.Bool  // drivers start a new turn after each turn_complete
	record    atomic.Bool  // latencies are counted (the measured window)
	running   atomic.Int64 // turns sent and not yet complete (a refused one until it is sent again)
	streaming atomic.Int64 // turns between their user_message and turn_complete
	turns     atomic.Int64 // turns completed
	lat       *hist

	mu       sync.Mutex
	refusals map[string]int // run_turns refused as retryable, by code
}

// refused counts a run_turn the gateway refused with a retryable code.
func (sh *shared) refused(code string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.refusals == nil {
		sh.refusals = map[string]int{}
	}
	sh.refusals[code]++
}

// client is one connection, joined to one session. After setup its reader
// goroutine owns every field but the atomics and, for a driver, the
// connection's writes, which wmu orders with the first run_turn.
type client struct {
	c      *websocket.Conn
	s      *session
	k      int
	driver bool
	first  uint64 // the snapshot's latestSeq: events after it are expected
	last   atomic.Uint64
	count  atomic.Int64 // sequenced events received
	frames int64        // frames that carried sequenced events
	buf    []byte       // the current frame, reused
	nbad   int
	bad    []string

	wmu     sync.Mutex
	pending atomic.Bool // driver: a turn sent and not complete
}

func (cl *client) problem(format string, args ...any) {
	cl.nbad++
	if len(cl.bad) < 5 {
		cl.bad = append(cl.bad, fmt.Sprintf(format, args...))
	}
}

// read receives until the connection closes: per frame one read into the
// client's own buffer and, per message, a scan of its type, seq and ts.
func (cl *client) read(sh *shared, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		_, r, err := cl.c.NextReader()
		if err == nil {
			cl.buf, err = readAll(r, cl.buf[:0])
		}
		if err != nil {
			if !sh.closing.Load() {
				cl.problem("connection ended early: %v", err)
			}
			if cl.driver && cl.pending.CompareAndSwap(true, false) {
				sh.running.Add(-1)
			}
			return
		}
		now := time.Now().UnixMicro()
		sequenced := false
		rest := cl.buf
		for len(rest) > 0 {
			line := rest
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				line, rest = rest[:i], rest[i+1:]
			} else {
				rest = nil
			}
			if cl.message(line, now, sh) {
				sequenced = true
			}
		}
		if sequenced {
			cl.frames++
		}
	}
}

// readAll appends r's bytes to b, growing it only when a frame is larger
// than any before on this connection.
func readAll(r io.Reader, b []byte) ([]byte, error) {
	if cap(b) == 0 {
		b = make([]byte, 0, 512)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// message checks one server message; true if it was a sequenced event.
func (cl *client) message(b []byte, now int64, sh *shared) bool {
	h, err := jsonhead.Scan(b)
	if err != nil {
		cl.problem("undecodable message %.80q: %v", b, err)
		return false
	}
	if string(h.Type) == "error" {
		var e struct{ Code, Message, RequestID string }
		_ = json.Unmarshal(b, &e)
		if cl.driver && e.RequestID == turnRequestID && retryable[e.Code] {
			// The protocol's advice: back off, then send it again. Not a
			// delivery problem, but counted and reported.
			sh.refused(e.Code)
			time.AfterFunc(time.Duration(500+rand.IntN(1000))*time.Millisecond, func() { cl.retryTurn(sh) })
			return false
		}
		if cl.driver && e.RequestID == turnRequestID && e.Code == "INVALID_STATE" && strings.Contains(e.Message, "running") {
			// A retried run_turn whose refused first send started the turn
			// after all: that turn's turn_complete carries the chain on.
			sh.refused(e.Code + " (the turn was running after all)")
			return false
		}
		cl.problem("error frame %s: %s", e.Code, e.Message)
		return false
	}
	if h.Seq == 0 {
		return false // unsequenced: heartbeat, session_state
	}
	if prev := cl.last.Load(); h.Seq != prev+1 {
		cl.problem("seq %d (%s) after %d", h.Seq, h.Type, prev)
	}
	cl.last.Store(h.Seq)
	cl.count.Add(1)
	if sh.record.Load() {
		sh.lat.add(now - h.TS*1000)
	}
	if !cl.driver {
		return true
	}
	switch string(h.Type) {
	case "user_message":
		sh.streaming.Add(1)
	case "turn_error":
		cl.problem("turn_error at seq %d", h.Seq)
		fallthrough
	case "turn_complete":
		sh.streaming.Add(-1)
		cl.s.final.Store(h.Seq)
		sh.turns.Add(1)
		if !sh.driving.Load() || !cl.startTurn(sh) {
			if cl.pending.CompareAndSwap(true, false) {
				sh.running.Add(-1)
			}
		}
	}
	return true
}

// turnRequestID marks the drivers' run_turn, so that a refusal of it is
// told from other errors.
const turnRequestID = "t"

// retryable are the codes on which docs/protocol.md has a client retry.
var retryable = map[string]bool{"UPSTREAM_UNAVAILABLE": true, "CAPACITY_EXCEEDED": true, "RATE_LIMITED": true}

// retryTurn sends a refused run_turn again, unless the drivers have stopped.
func (cl *client) retryTurn(sh *shared) {
	if sh.driving.Load() && !sh.closing.Load() && cl.startTurn(sh) {
		return
	}
	if cl.pending.CompareAndSwap(true, false) {
		sh.running.Add(-1)
	}
}

// startTurn sends the session's run_turn; true if it went out. A turn
// already pending stays counted once.
func (cl *client) startTurn(sh *shared) bool {
	cl.wmu.Lock()
	defer cl.wmu.Unlock()
	_ = cl.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := cl.c.WriteMessage(websocket.TextMessage, cl.s.runTurn); err != nil {
		if !sh.closing.Load() {
			cl.problem("run_turn: %v", err)
		}
		return false
	}
	if cl.pending.CompareAndSwap(false, true) {
		sh.running.Add(1)
	}
	return true
}

// connect opens one connection and authenticates it with its token; with
// batch it asks for batched frames and requires the gateway to accept.
func connect(ctx context.Context, url, token string, batch bool) (*websocket.Conn, error) {
	d := dialer
	if batch {
		d.Subprotocols = []string{batchProtocol}
	}
	c, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	wire.PatientPongs(c)
	if batch && resp.Header.Get("Sec-WebSocket-Protocol") != batchProtocol {
		_ = c.Close()
		return nil, fmt.Errorf("the gateway did not accept subprotocol %s", batchProtocol)
	}
	welcome, err := await(c, "welcome")
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	var w struct {
		RequiresAuth bool `json:"requiresAuth"`
	}
	_ = json.Unmarshal(welcome, &w)
	if !w.RequiresAuth {
		_ = c.Close()
		return nil, errors.New("the gateway does not require authentication (DEV_MODE=true?): this tool measures token-authenticated connections")
	}
	msg, _ := json.Marshal(map[string]string{"type": "authenticate", "token": token, "requestId": "a"})
	if _, err := request(c, msg, "authenticated"); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

func request(c *websocket.Conn, msg []byte, want string) ([]byte, error) {
	_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
		return nil, err
	}
	return await(c, want)
}

// await reads until a message of type want and returns it; an error frame
// or a sequenced event first is a failure. Only during setup, before the
// connection's reader starts.
func await(c *websocket.Conn, want string) ([]byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return nil, err
		}
		for b := range bytes.SplitSeq(data, []byte{'\n'}) {
			h, err := jsonhead.Scan(b)
			if err != nil {
				return nil, fmt.Errorf("undecodable message %.80q: %w", b, err)
			}
			switch {
			case string(h.Type) == want:
				return b, nil
			case string(h.Type) == "error":
				var e struct{ Code, Message string }
				_ = json.Unmarshal(b, &e)
				return nil, fmt.Errorf("error frame %s: %s (waiting for %s)", e.Code, e.Message, want)
			case h.Seq != 0:
				return nil, fmt.Errorf("sequenced %s (seq %d) before %s", h.Type, h.Seq, want)
			}
		}
	}
}
