package unisonsim

import (
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

type faults struct {
	latency    time.Duration
	fail       burst
	afterApply burst
	unhealthy  bool
}

// burst is n more answers of status.
type burst struct{ n, status int }

func (b *burst) take() int {
	if b.n == 0 {
		return 0
	}
	b.n--
	return b.status
}

// SetLatency delays every response, health included, by d.
func (s *Sim) SetLatency(d time.Duration) {
	s.faultMu.Lock()
	s.faults.latency = d
	s.faultMu.Unlock()
}

// FailNext answers the next n API requests with status and an error body,
// without touching the store; n <= 0 cancels what is left. Health and ready
// are exempt so a background probe cannot eat the burst meant for a test.
func (s *Sim) FailNext(n, status int) {
	s.faultMu.Lock()
	s.faults.fail = burst{max(n, 0), status}
	s.faultMu.Unlock()
}

// FailNextAfterApply makes the next n successful writes (PUT, DELETE,
// batch) answer status although they were applied: the response a client
// sees when Unison commits and the reply is lost on the way back.
func (s *Sim) FailNextAfterApply(n, status int) {
	s.faultMu.Lock()
	s.faults.afterApply = burst{max(n, 0), status}
	s.faultMu.Unlock()
}

// RefuseConnections makes the listener reset every new connection and the
// handler drop every request, until called with false.
func (s *Sim) RefuseConnections(on bool) { s.refusing.Store(on) }

// SetHealthy makes health and ready answer 503 {"ok":false} when false.
func (s *Sim) SetHealthy(ok bool) {
	s.faultMu.Lock()
	s.faults.unhealthy = !ok
	s.faultMu.Unlock()
}

func (s *Sim) latency() time.Duration {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.faults.latency
}

func (s *Sim) healthy() bool {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return !s.faults.unhealthy
}

// takeFailure consumes one injected failure and returns its status, or 0.
func (s *Sim) takeFailure() int {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.faults.fail.take()
}

func (s *Sim) takeFailureAfterApply() int {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.faults.afterApply.take()
}

// drop ends a request with no response at all, as a dead peer would.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		writeError(w, http.StatusServiceUnavailable, CodeInjected, "connection refused")
		return
	}
	c, _, err := hj.Hijack()
	if err == nil {
		reset(c)
	}
}

// reset closes c with a TCP RST, so the client sees a failed connection
// rather than a clean end of stream.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

type refusingListener struct {
	net.Listener
	refusing *atomic.Bool
}

func (l *refusingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || !l.refusing.Load() {
			return c, err
		}
		reset(c)
	}
}
