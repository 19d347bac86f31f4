package podiumsim

import (
	"net/http"
	"time"

	"github.com/diminuendo/diminuendo/adapters/simkit"
)

// healthPath is Podium's liveness route. Podium's docs list a health route
// family without paths; this one mirrors Ensemble's documented route.
const healthPath = "/api/v1/health"

// Version is what the simulator reports as its version.
const Version = "podiumsim"

type healthBody struct {
	Status  string `json:"status"`
	Version string `json:"version"`
	Uptime  string `json:"uptime"`
}

// health answers without an API key, as a load balancer's probe would ask.
// Latency and refused connections apply to it; injected failures do not, so
// a background probe cannot consume a burst meant for a test.
func (s *Sim) health(w http.ResponseWriter) {
	b := healthBody{Status: "healthy", Version: Version, Uptime: time.Since(s.started).Round(time.Second).String()}
	status := http.StatusOK
	if s.unhealthy.Load() {
		b.Status, status = "unhealthy", http.StatusServiceUnavailable
	}
	simkit.WriteJSON(w, status, b)
}

// SetHealthy makes the health route answer 503 {"status":"unhealthy"} when
// false; the other routes keep working.
func (s *Sim) SetHealthy(ok bool) { s.unhealthy.Store(!ok) }
