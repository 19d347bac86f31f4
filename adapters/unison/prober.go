package unison

import (
	"context"
	"errors"

	"github.com/diminuendo/diminuendo/adapters/probe"
)

// Health statuses (ports.DependencyHealth.Status), as adapters/probe defines them.
const (
	StatusOK       = probe.StatusOK
	StatusDegraded = probe.StatusDegraded
	StatusDown     = probe.StatusDown
)

// ProbeConfig tunes Unison's prober; see probe.Config for the defaults.
type ProbeConfig = probe.Config

// Prober is the background health probe of Unison.
type Prober = probe.Prober

// NewProber returns a stopped Prober for c's Unison. It goes around the
// client's breaker and retries: it must see Unison as it is, not as the
// breaker last saw it. An open breaker still degrades the verdict, since
// calls are being refused meanwhile.
func NewProber(c *Client, cfg ProbeConfig) *Prober {
	return probe.New(service, func(ctx context.Context) error {
		if err := c.Ping(ctx); err != nil {
			return err
		}
		if c.BreakerOpen() {
			return probe.Degraded("circuit breaker open")
		}
		return nil
	}, cfg)
}

// Ping asks Unison's health route once, bounded by ctx and the per-attempt
// Timeout. The route needs no API key, so none is sent.
func (c *Client) Ping(ctx context.Context) error {
	var body struct {
		OK bool `json:"ok"`
	}
	if err := c.up.Health(ctx, &body, "api", "v1", "health"); err != nil {
		return err
	}
	if !body.OK {
		return errors.New(`health answered {"ok":false}`)
	}
	return nil
}
