package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/api"
)

// Client is a connection to the gateway that survives drops. Its methods
// are safe for concurrent use.
type Client struct {
	opts Options

	ctx    context.Context // ends with Close or when the client gives up
	cancel context.CancelFunc
	ids    atomic.Uint64

	mu       sync.Mutex
	state    State
	cur      *conn         // the open connection; nil while (re)connecting
	ready    chan struct{} // closed while cur is open
	pending  map[string]chan Event
	sessions map[string]*cursor
	identity api.Identity
	err      error

	stateMu sync.Mutex // serialises OnState calls

	out       *queue
	events    chan Event
	closing   chan struct{} // Close was called
	closeOnce sync.Once
	stopped   chan struct{} // the connection loop ended; see err
	stopOnce  sync.Once
}

// conn is one WebSocket connection of the client.
type conn struct {
	ws        *websocket.Conn
	wmu       sync.Mutex
	lost      chan struct{} // closed when its reader ends
	heartbeat time.Duration
	batch     bool     // the gateway accepted BatchProtocol: a frame holds lines
	rest      [][]byte // messages of the handshake's last frame not yet handled
}

// BatchProtocol is the subprotocol the client asks for: the gateway may then
// put several messages into one frame, joined by '\n'.
const BatchProtocol = "diminuendo.v1.batch"

// messages splits a frame into its messages.
func (w *conn) messages(b []byte) [][]byte {
	if !w.batch {
		return [][]byte{b}
	}
	return bytes.Split(b, []byte{'\n'})
}

func (w *conn) write(b []byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	_ = w.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return w.ws.WriteMessage(websocket.TextMessage, b)
}

// Dial connects and authenticates. It returns once the gateway has
// authenticated the connection, or the first attempt's error: a refusal
// (*Error with the gateway's code), a network error, or ctx's. From then on
// the client reconnects by itself until Close.
func Dial(ctx context.Context, opts Options) (*Client, error) {
	if opts.URL == "" {
		return nil, errors.New("client: Options.URL is required")
	}
	opts.withDefaults()
	c := &Client{
		opts:     opts,
		ready:    make(chan struct{}),
		pending:  map[string]chan Event{},
		sessions: map[string]*cursor{},
		out:      newQueue(),
		events:   make(chan Event),
		closing:  make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.setState(Connecting, nil)
	w, err := c.connect(ctx)
	if err != nil {
		c.cancel()
		c.setState(Closed, err)
		return nil, err
	}
	go c.dispatch()
	go c.run(w)
	return c, nil
}

// Events delivers, in order, every frame the gateway sends except
// heartbeats and pongs: connection frames, replies (also returned by the
// call that asked), session frames and sequenced events, each sequenced
// event once. It is closed when the client stops. Read it continuously
// (events wait in memory meanwhile), or set Options.OnEvent instead.
func (c *Client) Events() <-chan Event { return c.events }

// Identity is who the gateway authenticated the connection as.
func (c *Client) Identity() api.Identity {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.identity
}

// State is the connection's current state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Done is closed when the client has stopped; Err then says why.
func (c *Client) Done() <-chan struct{} { return c.stopped }

// Err is why the client stopped: ErrClosed after Close, a *CloseError when
// the gateway refused it for good, or the last error after too many failed
// reconnection attempts. It is nil while the client runs.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the connection and stops reconnecting. Events not yet
// received are dropped.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		close(c.closing)
		c.cancel()
	})
	<-c.stopped
	return nil
}

func (c *Client) setState(s State, err error) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	c.mu.Lock()
	changed := c.state != s
	c.state = s
	c.mu.Unlock()
	if changed && c.opts.OnState != nil {
		c.opts.OnState(s, err)
	}
}

func (c *Client) trace(sent bool, b []byte) {
	if c.opts.Trace != nil {
		c.opts.Trace(sent, b)
	}
}

// connect dials, presenting a token from the token source, and reads the
// handshake up to authenticated.
func (c *Client) connect(ctx context.Context) (*conn, error) {
	h := http.Header{}
	hasToken := false
	if c.opts.TokenSource != nil {
		tok, err := c.opts.TokenSource(ctx)
		if err != nil {
			return nil, fmt.Errorf("client: token source: %w", err)
		}
		if tok != "" {
			h.Set("Authorization", "Bearer "+tok)
			hasToken = true
		}
	}
	d := *c.opts.Dialer
	d.Subprotocols = append(slices.Clone(d.Subprotocols), BatchProtocol)
	ws, resp, err := d.DialContext(ctx, c.opts.URL, h)
	if err != nil {
		if resp != nil {
			return nil, refusal(resp, err)
		}
		return nil, err
	}
	ws.SetReadLimit(16 << 20)
	w := &conn{ws: ws, lost: make(chan struct{}), heartbeat: 30 * time.Second, batch: ws.Subprotocol() == BatchProtocol}
	deadline := time.Now().Add(15 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	stop := context.AfterFunc(ctx, func() { _ = ws.SetReadDeadline(time.Now()) })
	defer stop()
	for {
		_ = ws.SetReadDeadline(deadline)
		_, frame, err := ws.ReadMessage()
		if err != nil {
			_ = ws.Close()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("client: during the handshake: %w", err)
		}
		w.rest = w.messages(frame)
		for len(w.rest) > 0 {
			b := w.rest[0]
			w.rest = w.rest[1:]
			c.trace(false, b)
			ev, err := parseEvent(b)
			if err != nil {
				continue
			}
			c.out.push(ev)
			switch ev.Type {
			case TypeWelcome:
				var wm api.Welcome
				_ = ev.Decode(&wm)
				if wm.RequiresAuth && !hasToken {
					_ = ws.Close()
					return nil, &Error{Code: "AUTH_REQUIRED", Message: "the gateway requires a token and Options.TokenSource gave none"}
				}
			case TypeConnected:
				var cm api.Connected
				if ev.Decode(&cm) == nil && cm.HeartbeatIntervalMs > 0 {
					w.heartbeat = time.Duration(cm.HeartbeatIntervalMs) * time.Millisecond
				}
			case TypeAuthenticated:
				var am api.Authenticated
				if err := ev.Decode(&am); err != nil {
					_ = ws.Close()
					return nil, err
				}
				c.mu.Lock()
				c.identity = am.Identity
				c.mu.Unlock()
				return w, nil
			case TypeError:
				_ = ws.Close()
				return nil, errorOf(ev)
			}
		}
	}
}

// refusal turns a refused upgrade into an *Error with the REST error body's
// code.
func refusal(resp *http.Response, err error) error {
	defer resp.Body.Close()
	var body api.ErrorBody
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &body) != nil || body.Error.Code == "" {
		return fmt.Errorf("client: upgrade refused with HTTP %d: %w", resp.StatusCode, err)
	}
	e := &Error{Code: string(body.Error.Code), Message: body.Error.Message}
	if body.Error.RetryAfterMs != nil {
		e.RetryAfter = time.Duration(*body.Error.RetryAfterMs) * time.Millisecond
	} else if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// permanent tells refusals that no retry can fix.
func permanent(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		switch e.Code {
		case "FORBIDDEN", "INVALID_MESSAGE":
			return true
		}
	}
	return false
}

// run serves connection w, then reconnects after each drop until the client
// is closed or gives up.
func (c *Client) run(w *conn) {
	for {
		reason := c.serve(w)
		c.dropped(w)
		if c.ctx.Err() != nil {
			c.stop(ErrClosed)
			return
		}
		c.opts.Logger.Info("connection lost; reconnecting", "err", reason)
		c.setState(Reconnecting, reason)
		var floor time.Duration
		var ce *websocket.CloseError
		if errors.As(reason, &ce) {
			switch ce.Code {
			case websocket.ClosePolicyViolation: // 1008: the gateway does not want this client back
				c.stop(&CloseError{Code: ce.Code, Reason: ce.Text})
				return
			case websocket.CloseTryAgainLater: // 1013: the instance is full
				floor = time.Second
			}
			// 1012 and 1001 (restart, going away): the first retry comes
			// after MinBackoff, jittered, and goes to another instance.
			// 4001 (authentication timeout or expiry): connect asks the
			// token source for a fresh token anyway.
		}
		next, err := c.reconnect(floor)
		if err != nil {
			c.stop(err)
			return
		}
		w = next
	}
}

// reconnect makes connection attempts with backoff until one succeeds, the
// client is closed, or MaxAttempts fail in a row.
func (c *Client) reconnect(floor time.Duration) (*conn, error) {
	for attempt := 0; ; attempt++ {
		t := time.NewTimer(c.opts.backoff(attempt, floor))
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return nil, ErrClosed
		}
		w, err := c.connect(c.ctx)
		if err == nil {
			return w, nil
		}
		if c.ctx.Err() != nil {
			return nil, ErrClosed
		}
		if permanent(err) {
			return nil, err
		}
		c.opts.Logger.Info("reconnection attempt failed", "attempt", attempt+1, "err", err)
		if c.opts.MaxAttempts > 0 && attempt+1 >= c.opts.MaxAttempts {
			return nil, fmt.Errorf("client: gave up after %d reconnection attempts: %w", attempt+1, err)
		}
		floor = 0
		var e *Error
		if errors.As(err, &e) && e.RetryAfter > 0 {
			floor = e.RetryAfter
		}
	}
}

// serve reads w until it fails, after re-joining the sessions and opening
// the client for requests; it returns why the connection ended.
func (c *Client) serve(w *conn) error {
	errc := make(chan error, 1)
	// Close (or giving up) ends the connection with a normal closure.
	defer context.AfterFunc(c.ctx, func() {
		w.wmu.Lock()
		_ = w.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		w.wmu.Unlock()
		_ = w.ws.Close()
	})()
	go func() {
		err := c.read(w)
		_ = w.ws.Close()
		close(w.lost)
		errc <- err
	}()
	// Re-joins go out before any request waiting for the connection, so a
	// turn run right after a reconnect is seen by the re-joined session.
	c.rejoin(w)
	c.mu.Lock()
	c.cur = w
	close(c.ready)
	c.mu.Unlock()
	c.setState(Open, nil)
	return <-errc
}

// dropped closes the client to requests until the next connection and
// fails those waiting on w.
func (c *Client) dropped(w *conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == w {
		c.cur = nil
		c.ready = make(chan struct{})
	}
}

func (c *Client) stop(err error) {
	c.stopOnce.Do(func() {
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
		c.cancel()
		c.setState(Closed, err)
		close(c.stopped)
	})
}

// read reads frames until the connection fails. Liveness: the gateway sends
// a heartbeat every heartbeatIntervalMs, so silence for 5 s longer than
// that means the connection is dead.
func (c *Client) read(w *conn) error {
	rest := w.rest
	w.rest = nil
	for _, b := range rest {
		c.trace(false, b)
		if ev, err := parseEvent(b); err == nil {
			c.handle(w, ev)
		}
	}
	for {
		_ = w.ws.SetReadDeadline(time.Now().Add(w.heartbeat + 5*time.Second))
		_, frame, err := w.ws.ReadMessage()
		if err != nil {
			return err
		}
		for _, b := range w.messages(frame) {
			c.trace(false, b)
			ev, err := parseEvent(b)
			if err != nil {
				c.opts.Logger.Warn("ignoring a frame", "err", err)
				continue
			}
			c.handle(w, ev)
		}
	}
}

// handle routes one frame: resume bookkeeping, duplicate drop, reply
// correlation, delivery.
func (c *Client) handle(w *conn, ev Event) {
	switch ev.Type {
	case TypeHeartbeat:
		return
	case TypeAuthExpiring:
		go c.refresh(w)
	case TypeStateSnapshot:
		c.snapshot(ev)
	case TypeSessionDeleted, TypeSessionLeft:
		c.forget(ev.SessionID)
	}
	if ev.Seq > 0 && ev.SessionID != "" && !c.accept(w, ev) {
		return
	}
	if ev.RequestID != "" {
		c.mu.Lock()
		ch, ok := c.pending[ev.RequestID]
		delete(c.pending, ev.RequestID)
		c.mu.Unlock()
		if ok {
			ch <- ev
		}
	}
	if ev.Type == TypePong {
		return
	}
	c.out.push(ev)
}

// refresh answers auth_expiring: a fresh token from the token source, sent
// with authenticate on the same connection. If it fails, the gateway
// closes the connection at exp (4001) and the client reconnects with
// whatever the token source gives then.
func (c *Client) refresh(w *conn) {
	if c.opts.TokenSource == nil {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	tok, err := c.opts.TokenSource(ctx)
	if err != nil {
		c.opts.Logger.Warn("token refresh: the token source failed", "err", err)
		return
	}
	rid := c.newID()
	msg := api.AuthenticateMessage{Type: "authenticate", Token: tok, RequestId: &rid}
	if _, err := c.roundTripOn(ctx, w, rid, msg); err != nil {
		c.opts.Logger.Warn("token refresh refused", "err", err)
	}
}
