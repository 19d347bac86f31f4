package unisonsim

import "time"

// SetLatency delays every response, health included, by d.
func (s *Sim) SetLatency(d time.Duration) { s.faults.SetLatency(d) }

// FailNext answers the next n API requests with status and an error body,
// without touching the store; n <= 0 cancels what is left. Health and ready
// are exempt so a background probe cannot eat the burst meant for a test.
func (s *Sim) FailNext(n, status int) { s.faults.FailNext(n, status) }

// FailNextAfterApply makes the next n successful writes (PUT, DELETE,
// batch) answer status although they were applied: the response a client
// sees when Unison commits and the reply is lost on the way back.
func (s *Sim) FailNextAfterApply(n, status int) { s.afterApply.Set(n, status) }

// RefuseConnections makes the listener reset every new connection and the
// handler drop every request, until called with false.
func (s *Sim) RefuseConnections(on bool) { s.faults.RefuseConnections(on) }

// SetHealthy makes health and ready answer 503 {"ok":false} when false.
func (s *Sim) SetHealthy(ok bool) { s.unhealthy.Store(!ok) }
