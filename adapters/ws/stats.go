package ws

import (
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
)

// Stats are the transport's counters, exported by the telemetry adapter.
type Stats struct {
	Accepted      atomic.Int64 // upgrades completed
	Messages      atomic.Int64 // client messages read
	SlowConsumers atomic.Int64 // connections cut off with 4008
	Errors        map[string]*atomic.Int64
}

func newStats() *Stats {
	s := &Stats{Errors: map[string]*atomic.Int64{}}
	for _, c := range []string{CodeInvalidJSON, CodeInvalidMessage, CodeMessageTooLarge, CodeRateLimited, CodeAuthRequired,
		CodeAuthFailed, CodeAuthRateLimited, CodeTokenExpired, CodeForbidden, CodeSessionNotFound, CodeInvalidState,
		CodeNotFound, CodeUpstreamUnavailable, CodeCapacityExceeded, CodeInternal} {
		s.Errors[c] = new(atomic.Int64)
	}
	return s
}

// Stats exposes the transport's counters.
func (s *Server) Stats() *Stats { return s.stats }

// countError records an error frame of code (the map is fixed at start, so
// reads need no lock).
func (s *Server) countError(code string) {
	if c, ok := s.stats.Errors[code]; ok {
		c.Add(1)
	}
}

// errorFrame encodes an error frame and counts it.
func (s *Server) errorFrame(code, msg, requestID string) []byte {
	s.countError(code)
	return errorBytes(code, msg, requestID)
}

// WithTracer sets the tracer of the per-message spans (a no-op one by
// default). Passed in rather than read from the global provider, so the
// spans follow the provider the composition root configured.
func (s *Server) WithTracer(t trace.Tracer) *Server {
	s.tracer = t
	return s
}
