package ensemblesim

import (
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

type faults struct {
	latency         time.Duration
	failN, failCode int
}

// SetLatency delays every response, health included, by d.
func (s *Sim) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.latency = d
}

// FailNext answers the next n API requests (health aside) with status and
// an error body; n <= 0 cancels what is left.
func (s *Sim) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.failN, s.faults.failCode = max(n, 0), status
}

// RefuseConnections makes the listener reset every new connection and the
// handler drop every request, until called with false.
func (s *Sim) RefuseConnections(on bool) { s.refusing.Store(on) }

// SetStatus sets the health route's overall status: "healthy" and
// "degraded" answer 200, anything else 503.
func (s *Sim) SetStatus(status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

// SetProviderStatus sets one provider's entry in the health answer.
func (s *Sim) SetProviderStatus(provider, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.providers[provider] = status
}

func (s *Sim) latency() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.latency
}

// takeFailure consumes one injected failure and returns its status, or 0.
func (s *Sim) takeFailure() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.failN == 0 {
		return 0
	}
	s.faults.failN--
	return s.faults.failCode
}

// drop ends a request with no response at all, as a dead peer would.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "connection refused")
		return
	}
	if c, _, err := hj.Hijack(); err == nil {
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
