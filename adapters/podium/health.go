package podium

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/sony/gobreaker/v2"

	"diminuendo/adapters/probe"
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
func (a *Adapter) BreakerOpen() bool { return a.breaker.State() == gobreaker.StateOpen }

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
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.endpoint(nil, "api", "v1", "health"), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("podium health answered %d", resp.StatusCode)
	}
	return body.Status, nil
}
