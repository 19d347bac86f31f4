package ports

import (
	"context"
	"time"

	"github.com/diminuendo/diminuendo/domain"
)

// TokenVerifier turns a bearer token into an identity and its expiry.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (domain.Identity, time.Time, error)
}

// Clock is the time source of the app, swapped in tests.
type Clock interface {
	Now() time.Time
}

// HealthChecker is a dependency whose health /api/health reports.
type HealthChecker interface {
	Name() string
	// Health returns the last known state without blocking on the network.
	Health() DependencyHealth
}

// DependencyHealth is one dependency's last known state.
type DependencyHealth struct {
	Status    string    `json:"status"` // "ok", "degraded", "down"
	CheckedAt time.Time `json:"checkedAt"`
	Error     string    `json:"error,omitempty"`
	LatencyMs float64   `json:"latencyMs"`
}

// AuthLimiter limits failed authentications per client address, so a flood
// of bad tokens from one address cannot starve the others.
type AuthLimiter interface {
	// Allow reports whether ip may try now, or how long it must wait.
	Allow(ip string) (bool, time.Duration)
	// Fail counts a failed attempt by ip.
	Fail(ip string)
}
