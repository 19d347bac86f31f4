package acp

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

// requestTimeout bounds the upstream work one request may cause.
const requestTimeout = 30 * time.Second

// conn is one ACP connection. The read loop handles messages one at a
// time and in order; a pump goroutine translates session events and writes
// them, and it alone answers session/prompt and session/load, so an answer
// always follows every update it covers.
type conn struct {
	srv     *Server
	ws      *websocket.Conn
	id      domain.Identity
	release func()
	expiry  *time.Timer
	rate    *domain.SlidingWindow
	ctx     context.Context
	cancel  context.CancelFunc

	wmu sync.Mutex // one writer at a time

	mu       sync.Mutex
	closed   bool
	inited   bool
	caps     clientCaps
	sessions map[string]*attachment
	nextOut  int64
	waiting  map[int64]func(result json.RawMessage, err *rpcError)
	queue    []item
	wake     chan struct{}
	pumpDone chan struct{}
}

// clientCaps is what the client advertised at initialize that changes
// what the gateway sends.
type clientCaps struct {
	terminalMeta bool
	elicitation  bool
}

// item is one unit of the pump's work: a session frame, or a step that
// must come after the frames queued before it.
type item struct {
	att   *attachment
	frame app.Frame
	fn    func()
}

func newConn(s *Server, ws *websocket.Conn, id domain.Identity, release func()) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &conn{srv: s, ws: ws, id: id, release: release, ctx: ctx, cancel: cancel,
		rate:     domain.NewSlidingWindow(s.cfg.RateLimit, s.cfg.RateWindow),
		sessions: map[string]*attachment{}, waiting: map[int64]func(json.RawMessage, *rpcError){},
		wake: make(chan struct{}, 1), pumpDone: make(chan struct{})}
}

func (c *conn) run() {
	go c.pump()
	defer c.teardown()
	c.ws.SetReadLimit(c.srv.cfg.MaxMessageBytes)
	for {
		mt, raw, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if mt != websocket.TextMessage {
			c.fail(nil, &rpcError{Code: codeInvalidRequest, Message: "ACP messages are JSON text frames"})
			continue
		}
		c.safeDispatch(raw)
	}
}

func (c *conn) safeDispatch(raw []byte) {
	defer func() {
		if p := recover(); p != nil {
			// A bug in one handler must not take the gateway down.
			c.srv.log.Error("acp handler panicked", "panic", p, "stack", string(debug.Stack()))
			c.fail(nil, &rpcError{Code: codeInternal, Message: "internal error"})
		}
	}()
	c.dispatch(raw)
}

// teardown detaches the connection from its sessions. Their turns go on:
// a client that comes back loads the session and misses nothing.
func (c *conn) teardown() {
	c.mu.Lock()
	c.closed = true
	atts := make([]*attachment, 0, len(c.sessions))
	for _, a := range c.sessions {
		atts = append(atts, a)
	}
	c.mu.Unlock()
	c.cancel()
	if c.expiry != nil {
		c.expiry.Stop()
	}
	for _, a := range atts {
		_ = c.srv.hub.Leave(c.id, a.sid, a)
	}
	c.signal()
	<-c.pumpDone
	_ = c.ws.Close()
	c.release()
	c.srv.forget(c)
}

func (c *conn) closeWith(code int, reason string) {
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	c.wmu.Unlock()
	_ = c.ws.Close()
}

// message is any JSON-RPC 2.0 message.
type message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

func (c *conn) write(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.srv.log.Error("acp message does not encode", "err", err)
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		_ = c.ws.Close()
	}
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

var nullID = json.RawMessage("null")

func (c *conn) reply(id json.RawMessage, result any) {
	if result == nil {
		result = struct{}{}
	}
	c.write(response{JSONRPC: "2.0", ID: id, Result: result})
}

func (c *conn) fail(id json.RawMessage, err error) {
	if len(id) == 0 {
		id = nullID
	}
	c.write(response{JSONRPC: "2.0", ID: id, Error: errorOf(err)})
}

func (c *conn) notify(method string, params any) {
	c.write(struct {
		JSONRPC string `json:"jsonrpc"`
		Method  string `json:"method"`
		Params  any    `json:"params"`
	}{"2.0", method, params})
}

// request sends a request to the client; done runs on the read loop with
// its answer. A connection that closes first never calls done.
func (c *conn) request(method string, params any, done func(json.RawMessage, *rpcError)) {
	c.mu.Lock()
	c.nextOut++
	n := c.nextOut
	c.waiting[n] = done
	c.mu.Unlock()
	c.write(struct {
		JSONRPC string `json:"jsonrpc"`
		ID      int64  `json:"id"`
		Method  string `json:"method"`
		Params  any    `json:"params"`
	}{"2.0", n, method, params})
}

// validID: a JSON-RPC id is a string, a number or null.
func validID(id json.RawMessage) bool {
	if len(id) == 0 {
		return true
	}
	switch id[0] {
	case '"', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return true
	}
	return false
}

func (c *conn) dispatch(raw []byte) {
	raw = bytes.TrimSpace(raw)
	if !json.Valid(raw) {
		c.fail(nil, &rpcError{Code: codeParseError, Message: "the message is not valid JSON"})
		return
	}
	if len(raw) > 0 && raw[0] == '[' {
		c.fail(nil, &rpcError{Code: codeInvalidRequest, Message: "batches are not part of ACP; send one message per frame"})
		return
	}
	var m message
	if raw[0] != '{' || json.Unmarshal(raw, &m) != nil || !validID(m.ID) {
		c.fail(nil, &rpcError{Code: codeInvalidRequest, Message: "a message is a JSON-RPC 2.0 object"})
		return
	}
	if m.JSONRPC != "2.0" {
		c.fail(m.ID, &rpcError{Code: codeInvalidRequest, Message: `jsonrpc must be "2.0"`})
		return
	}
	if m.Method == "" {
		if len(m.ID) > 0 && (m.Result != nil || m.Error != nil) {
			c.answered(m.ID, m.Result, m.Error)
			return
		}
		c.fail(m.ID, &rpcError{Code: codeInvalidRequest, Message: "a request needs a method"})
		return
	}
	if ok, retry := c.rate.Allow(time.Now()); !ok {
		if len(m.ID) > 0 {
			c.fail(m.ID, &domain.Error{Kind: domain.KindRateLimited, Message: "too many messages; slow down", RetryAfter: retry})
		}
		return
	}
	if len(m.ID) == 0 {
		if h, ok := notifications[m.Method]; ok {
			h(c, m.Params)
		}
		return // unknown notifications are ignored, as JSON-RPC asks
	}
	h, ok := methods[m.Method]
	if !ok {
		c.fail(m.ID, &rpcError{Code: codeMethodNotFound, Message: "method not found: " + m.Method})
		return
	}
	if m.Method != "initialize" && !c.initialized() {
		c.fail(m.ID, &rpcError{Code: codeInvalidRequest, Message: "call initialize first"})
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, requestTimeout)
	defer cancel()
	h(c, ctx, m.ID, m.Params)
}

// answered routes the client's answer to one of the gateway's requests.
func (c *conn) answered(id json.RawMessage, result json.RawMessage, rerr *rpcError) {
	var n int64
	if json.Unmarshal(id, &n) != nil {
		return
	}
	c.mu.Lock()
	done := c.waiting[n]
	delete(c.waiting, n)
	c.mu.Unlock()
	if done != nil {
		done(result, rerr)
	}
}

// decodeParams reads params into v; a mismatch is Invalid params.
func decodeParams(params json.RawMessage, v any) error {
	if len(params) == 0 || string(params) == "null" {
		return invalidParams("params are required")
	}
	if err := json.Unmarshal(params, v); err != nil {
		return invalidParams("params have the wrong shape: " + err.Error())
	}
	return nil
}

func (c *conn) initialized() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inited
}

// enqueue hands a frame of att's session to the pump. It refuses (and the
// hub then detaches att) once the connection is closed or too far behind;
// a connection that fell behind is closed, and its client reloads.
func (c *conn) enqueue(it item) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	if len(c.queue) >= c.srv.cfg.QueueFrames && it.fn == nil {
		c.closed = true
		c.mu.Unlock()
		c.srv.log.Info("acp client too slow; closing")
		go c.closeWith(4008, "slow consumer")
		return false
	}
	c.queue = append(c.queue, it)
	c.mu.Unlock()
	c.signal()
	return true
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// after runs fn on the pump once every frame queued so far is written.
func (c *conn) after(fn func()) {
	c.mu.Lock()
	closed := c.closed
	if !closed {
		c.queue = append(c.queue, item{fn: fn})
	}
	c.mu.Unlock()
	c.signal()
}

func (c *conn) pump() {
	defer close(c.pumpDone)
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			closed := c.closed
			c.mu.Unlock()
			if closed {
				return
			}
			<-c.wake
			continue
		}
		it := c.queue[0]
		c.queue[0] = item{}
		c.queue = c.queue[1:]
		closed := c.closed
		c.mu.Unlock()
		if closed {
			continue // drain without writing
		}
		if it.fn != nil {
			it.fn()
			continue
		}
		c.deliver(it.att, it.frame)
	}
}
