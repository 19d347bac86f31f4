package ws

import (
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// FrameDump records frames for debugging (DEBUG_DUMP=ws); it redacts
// secrets itself. dir is "in" (from the client) or "out".
type FrameDump interface {
	Frame(dir, subject string, frame []byte)
}

// WithFrameDump dumps every frame read and written.
func (s *Server) WithFrameDump(d FrameDump) *Server {
	s.dump = d
	return s
}

// connLog is what the connection's closing log line reports.
type connLog struct {
	opened              time.Time
	framesIn, framesOut atomic.Int64
	code                atomic.Int32 // the close code, once known
	byClient            atomic.Bool  // the client sent the close
}

// noteIn counts (and dumps) a frame read from the client.
func (c *conn) noteIn(raw []byte) {
	c.framesIn.Add(1)
	if c.srv.dump != nil {
		c.srv.dump.Frame("in", c.id, raw)
	}
}

// noteOut counts (and dumps) a message written to the client.
func (c *conn) noteOut(b []byte) {
	c.framesOut.Add(1)
	if c.srv.dump != nil {
		c.srv.dump.Frame("out", c.id, b)
	}
}

// noteClose keeps the first close code the connection met.
func (c *conn) noteClose(code int) { c.code.CompareAndSwap(0, int32(code)) }

// logClosed writes the connection's one line at close: how long, how it
// ended, how much it carried, and whose it was. Never its token.
func (s *Server) logClosed(c *conn) {
	code := int(c.code.Load())
	switch {
	case code == 0 && s.draining.Load():
		code = CloseServiceRestart
	case code == 0:
		code = websocket.CloseAbnormalClosure // dropped without a close frame
	}
	by := "server"
	if c.byClient.Load() || code == websocket.CloseAbnormalClosure {
		by = "client"
	}
	args := []any{"client", c.id, "ip", c.ip, "durationMs", time.Since(c.opened).Milliseconds(), "closeCode", code, "closedBy", by,
		"messagesIn", c.framesIn.Load(), "messagesOut", c.framesOut.Load()}
	if id, ok := c.identity(); ok {
		args = append(args, "user", id.UserID, "tenant", id.TenantID)
	} else {
		args = append(args, "authenticated", false)
	}
	s.log.Info("websocket closed", args...)
}

// ConnectionsByState counts open connections: authenticating (no identity
// yet) and authenticated.
func (s *Server) ConnectionsByState() map[string]int {
	out := map[string]int{"authenticating": 0, "authenticated": 0}
	for _, c := range s.snapshot() {
		if _, ok := c.identity(); ok {
			out["authenticated"]++
		} else {
			out["authenticating"]++
		}
	}
	return out
}
