package podium

import (
	"context"
	"fmt"

	"github.com/diminuendo/diminuendo/adapters/probe"
)

// Podium's health answers (docs/upstreams.md: the route and body are ours,
// shaped like Ensemble's documented one).
const (
	healthHealthy  = "healthy"
	healthDegraded = "degraded"
)

// Ping asks Podium's health route once. It sends no key and goes around the
// breaker and the retries, so that it sees Podium as it is now.
func (a *Adapter) Ping(ctx context.Context) error {
	st, err := a.health(ctx)
	if err == nil && st != healthHealthy {
		err = fmt.Errorf("podium reports %q", st)
	}
	return err
}

// BreakerOpen reports whether calls to Podium are refused without trying.
func (a *Adapter) BreakerOpen() bool { return a.up.BreakerOpen() }

// NewProber returns a stopped prober of a's Podium for /api/health.
func NewProber(a *Adapter, cfg probe.Config) *probe.Prober {
	if cfg.Logger == nil {
		cfg.Logger = a.cfg.Logger
	}
	return probe.New("podium", func(ctx context.Context) error {
		st, err := a.health(ctx)
		switch {
		case err != nil:
			return err
		case st == healthDegraded:
			return probe.Degraded("podium reports degraded")
		case st != healthHealthy:
			return fmt.Errorf("podium reports %q", st)
		case a.BreakerOpen():
			return probe.Degraded("circuit breaker open")
		}
		return nil
	}, cfg)
}

func (a *Adapter) health(ctx context.Context) (string, error) {
	var body struct {
		Status string `json:"status"`
	}
	err := a.up.Health(ctx, &body, "api", "v1", "health")
	return body.Status, err
}
