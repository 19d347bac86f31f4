package ensemble

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/diminuendo/diminuendo/adapters/probe"
)

type healthBody struct {
	Status    string            `json:"status"`
	Version   string            `json:"version"`
	Providers map[string]string `json:"providers"`
}

// Ping asks Ensemble's health route once and fails unless it reports
// "healthy". It sends no key and goes around the breaker and the retries,
// so that it sees Ensemble as it is now.
func (a *Adapter) Ping(ctx context.Context) error {
	h, err := a.health(ctx)
	if err == nil && h.Status != "healthy" {
		err = fmt.Errorf("ensemble reports %q", h.Status)
	}
	return err
}

// BreakerOpen reports whether calls to Ensemble are refused without trying.
func (a *Adapter) BreakerOpen() bool { return a.up.BreakerOpen() }

// NewProber returns a stopped prober of a's Ensemble for /api/health. An
// Ensemble reporting "degraded" (some provider unwell) is degraded to us:
// it still serves, and the gateway itself runs no inference.
func NewProber(a *Adapter, cfg probe.Config) *probe.Prober {
	if cfg.Logger == nil {
		cfg.Logger = a.cfg.Logger
	}
	return probe.New("ensemble", func(ctx context.Context) error {
		h, err := a.health(ctx)
		switch {
		case err != nil:
			return err
		case h.Status == "degraded":
			return probe.Degraded("ensemble reports degraded" + unwell(h.Providers))
		case h.Status != "healthy":
			return fmt.Errorf("ensemble reports %q", h.Status)
		case a.BreakerOpen():
			return probe.Degraded("circuit breaker open")
		}
		return nil
	}, cfg)
}

// health reads Ensemble's documented health route: no auth, {status,
// version, uptime, providers}.
func (a *Adapter) health(ctx context.Context) (healthBody, error) {
	var h healthBody
	err := a.up.Health(ctx, &h, "api", "v1", "health")
	return h, err
}

// unwell lists the providers not reported healthy, e.g. ": gemini degraded".
func unwell(providers map[string]string) string {
	var out []string
	for _, p := range slices.Sorted(maps.Keys(providers)) {
		if st := providers[p]; st != "healthy" {
			out = append(out, p+" "+st)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return ": " + strings.Join(out, ", ")
}
