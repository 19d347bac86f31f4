package unison

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"diminuendo/adapters/probe"
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

// Ping asks Unison's health route once, bounded by ctx only. The route
// needs no API key, so none is sent.
func (c *Client) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.BaseURL+"/api/v1/health", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		OK bool `json:"ok"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health answered %d", resp.StatusCode)
	}
	if !body.OK {
		return errors.New(`health answered {"ok":false}`)
	}
	return nil
}
