package ws

import (
	"bytes"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

// conn is one client connection: its identity, its outbound queue and the
// sessions it joined. It is the app.Subscriber of those sessions.
//
// A connection has one reader goroutine for its whole life (readLoop) and a
// writer goroutine only while it has something to send (drain, started by
// its outbox). The WebSocket library reads; the writer frames and writes
// itself, so that everything queued goes out in one write.
type conn struct {
	connLog
	srv        *Server
	ws         *websocket.Conn // reading only
	raw        net.Conn        // the hijacked socket the writer writes to
	batch      bool            // the client asked for batched frames
	id         string
	slot       int // which tick of the periodic work serves it
	ip         string
	tenantHint string
	out        *app.Outbox
	rate       *domain.SlidingWindow // touched only by the read goroutine
	cut        *atomic.Int64         // the frame guard's stand-ins not yet claimed (nil: no guard)

	// wmu is held for every write to the socket (the writer's frames, the
	// library's own control frames, the answer to a client's close), so
	// frames never interleave; closeSent, under wmu, ends all writing.
	wmu           sync.Mutex
	closeSent     bool
	writeDeadline time.Time // the socket's, under wmu
	pingDue       atomic.Bool
	pong          atomic.Pointer[[]byte] // a ping's payload to answer
	closeMsg      atomic.Pointer[[]byte] // the close frame's payload, once decided

	mu       sync.Mutex
	ident    *domain.Identity
	expires  time.Time
	authTime *time.Timer
	expTimer *time.Timer // auth_expiring, then the close at exp
	joined   map[string]struct{}
	closed   bool
	quota    func() // gives back the connection's place in its quotas
}

var _ app.Subscriber = (*conn)(nil)

// Send queues a frame; false once the connection is closed or cut off.
func (c *conn) Send(f app.Frame) bool {
	if f.CatchUp {
		return c.out.PushCatchUp(f.Data)
	}
	return c.out.Push(f.Data)
}

func (c *conn) push(b []byte) { c.out.Push(b) }

func (c *conn) identity() (domain.Identity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ident == nil {
		return domain.Identity{}, false
	}
	return *c.ident, true
}

func (c *conn) joinedIDs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.joined))
	for id := range c.joined {
		ids = append(ids, id)
	}
	return ids
}

// oversized reports whether raw is the frame guard's stand-in for a message
// over the limit: it ends with tooLarge and the guard has put a stand-in in
// the stream that no message has claimed yet. A client that sends those
// bytes itself has a small message, served as any other.
func (c *conn) oversized(raw []byte) bool {
	if c.cut == nil || !bytes.HasSuffix(raw, tooLarge) {
		return false
	}
	for {
		n := c.cut.Load()
		if n <= 0 {
			return false
		}
		if c.cut.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// closeWith ends the connection with code and reason: the close frame goes
// behind every frame already queued, and nothing is queued after it. The
// first close decided wins.
func (c *conn) closeWith(code int, reason string) {
	c.noteClose(code)
	msg := websocket.FormatCloseMessage(code, reason)
	c.closeMsg.CompareAndSwap(nil, &msg)
	c.out.Seal()
}

// readLoop reads the client's messages until the connection ends, then
// releases it. It runs on a goroutine of its own, started after the upgrade
// handler returned, so the HTTP server's goroutine, its buffers and the
// upgrade request are not kept for the connection's life.
func (c *conn) readLoop() {
	defer c.finish()
	s := c.srv
	for {
		typ, raw, err := c.ws.ReadMessage()
		if err != nil {
			s.readFailed(c, err)
			return
		}
		switch typ {
		case websocket.TextMessage:
			s.onMessage(c, raw)
		case websocket.BinaryMessage:
			s.onBinary(c, raw)
		}
	}
}

// finish detaches the connection from everything and ends its socket.
// Only the reader calls it, once.
func (c *conn) finish() {
	s := c.srv
	s.unregister(c)
	s.count.Add(-1)
	c.release()
	s.logClosed(c)
	c.linger()
}

// linger ends the socket without a reset. Closing a TCP socket that holds
// unread input (a pong, the client's close answer) sends RST, and a client
// receiving it may lose what it had not yet read, the close frame included.
// So the write side is shut first (what was written still arrives, then
// FIN) and input is read and dropped until the client closes too, for at
// most lingerWait.
func (c *conn) linger() {
	if tc, ok := c.raw.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
		_ = tc.SetReadDeadline(time.Now().Add(lingerWait))
		_, _ = io.CopyN(io.Discard, tc, lingerBytes)
	}
	_ = c.raw.Close()
}

// release stops the connection's timers and detaches it from its sessions.
func (c *conn) release() {
	c.mu.Lock()
	c.closed = true
	for _, t := range []*time.Timer{c.authTime, c.expTimer} {
		if t != nil {
			t.Stop()
		}
	}
	ident, quota := c.ident, c.quota
	c.mu.Unlock()
	if quota != nil {
		quota()
	}
	c.out.Close()
	if ident != nil {
		c.srv.hub.Detach(*ident, c.joinedIDs(), c)
	}
}

// onPing answers a client's ping through the writer, as RFC 6455 asks,
// without writing from the reader.
func (c *conn) onPing(data string) error {
	b := []byte(data)
	c.pong.Store(&b)
	c.out.Kick()
	return nil
}

// onPong keeps the connection alive: the read deadline moves on.
func (c *conn) onPong(string) error {
	return c.raw.SetReadDeadline(time.Now().Add(pongWait))
}

// onClose answers the client's close frame at once with its code (the
// frames still queued are dropped: the client has stopped reading) and
// remembers the code for the closing log line.
func (c *conn) onClose(code int, _ string) error {
	c.byClient.Store(c.code.Load() == 0 && !c.srv.draining.Load())
	c.noteClose(code)
	msg := []byte{}
	if code != websocket.CloseNoStatusReceived {
		msg = websocket.FormatCloseMessage(code, "")
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.closeSent {
		c.closeSent = true
		c.writeDeadline = time.Now().Add(time.Second)
		_ = c.raw.SetWriteDeadline(c.writeDeadline)
		_, _ = c.raw.Write(appendFrame(nil, websocket.CloseMessage, msg))
	}
	return nil
}
