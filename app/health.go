package app

import (
	"sync"
	"time"

	"github.com/diminuendo/diminuendo/ports"
)

// HealthReport is the body of /api/health.
type HealthReport struct {
	Status         string
	Version        string
	Uptime         time.Duration
	Connections    int
	ActiveSessions int
	Dependencies   map[string]ports.DependencyHealth
	// Breakers is each upstream's circuit breaker state, by dependency.
	Breakers map[string]string
	Instance InstanceReport
	// Reasons says why the status is not ok.
	Reasons []string
}

// Health reports the instance's dependencies and load. It reads the last
// probe results and never blocks on the network.
type Health struct {
	checkers    []ports.HealthChecker
	hub         *Hub
	started     time.Time
	version     string
	connections func() int
	rates       rate

	mu   sync.Mutex
	inst Instrumentation
}

// NewHealth builds the health use case. connections reports open client
// connections (set by the composition root once the transport exists).
func NewHealth(checkers []ports.HealthChecker, hub *Hub, version string) *Health {
	return &Health{checkers: checkers, hub: hub, started: time.Now(), version: version, connections: func() int { return 0 }}
}

// CountConnections sets the connection counter.
func (h *Health) CountConnections(f func() int) { h.connections = f }

// Report is ok when every dependency is and no budget is near its limit,
// degraded otherwise.
func (h *Health) Report() HealthReport {
	r := HealthReport{Status: "ok", Version: h.version, Uptime: time.Since(h.started),
		Connections: h.connections(), ActiveSessions: h.hub.ActiveSessions(), Dependencies: map[string]ports.DependencyHealth{}}
	for _, c := range h.checkers {
		d := c.Health()
		r.Dependencies[c.Name()] = d
		if d.Status != "ok" {
			r.Status = "degraded"
			r.Reasons = append(r.Reasons, c.Name()+" is "+d.Status)
		}
	}
	r.Breakers = h.breakers()
	var near []string
	r.Instance, near = h.instance()
	if len(near) > 0 {
		r.Status = "degraded"
		r.Reasons = append(r.Reasons, near...)
	}
	return r
}
