package ensemblesim

import "time"

// SetLatency delays every response, health included, by d.
func (s *Sim) SetLatency(d time.Duration) { s.faults.SetLatency(d) }

// FailNext answers the next n API requests (health aside) with status and
// an error body; n <= 0 cancels what is left.
func (s *Sim) FailNext(n, status int) { s.faults.FailNext(n, status) }

// RefuseConnections makes the listener reset every new connection and the
// handler drop every request, until called with false.
func (s *Sim) RefuseConnections(on bool) { s.faults.RefuseConnections(on) }

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
