package ws

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"

	"github.com/olahol/melody"

	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

// conn is one client connection: its identity, its outbound queue and the
// sessions it joined. It is the app.Subscriber of those sessions.
type conn struct {
	connLog
	srv      *Server
	ms       *melody.Session
	id       string
	ip       string
	out      *app.Outbox
	rate     *domain.SlidingWindow // touched only by the read goroutine
	cut      *atomic.Int64         // the frame guard's stand-ins not yet claimed (nil: no guard)
	authTime *time.Timer

	mu       sync.Mutex
	ident    *domain.Identity
	expires  time.Time
	expTimer *time.Timer
	warnTime *time.Timer
	joined   map[string]struct{}
	closed   bool
	quota    func() // gives back the connection's place in its quotas
}

var _ app.Subscriber = (*conn)(nil)

// Send queues a frame; false once the connection is closed or cut off.
func (c *conn) Send(f app.Frame) bool { return c.out.Push(f.Data) }

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

// closeWith sends a close frame with code and reason through melody's writer,
// behind any frames already handed to it.
func (c *conn) closeWith(code int, reason string) {
	c.noteClose(code)
	_ = c.ms.CloseWithMsg(melody.FormatCloseMessage(code, reason))
}

// release stops the connection's timers and detaches it from its sessions.
func (c *conn) release() {
	c.mu.Lock()
	c.closed = true
	for _, t := range []*time.Timer{c.authTime, c.expTimer, c.warnTime} {
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
