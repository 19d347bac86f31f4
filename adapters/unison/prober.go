package unison

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"diminuendo/ports"
)

// Health statuses (ports.DependencyHealth.Status).
const (
	StatusOK       = "ok"
	StatusDegraded = "degraded"
	StatusDown     = "down"
)

// ProbeConfig tunes a Prober; zero fields take the defaults.
type ProbeConfig struct {
	// Interval between probes (default 10s).
	Interval time.Duration
	// Timeout of one probe (default 2s).
	Timeout time.Duration
	// SlowAfter marks a successful but slower probe degraded (default 1s).
	SlowAfter time.Duration
	// DownAfter consecutive failed probes report down; fewer, degraded (default 3).
	DownAfter int
}

// Prober polls Unison's health route in the background so that health
// reports never wait on the network. It goes around the client's breaker
// and retries: it must see Unison as it is, not as the breaker last saw it.
type Prober struct {
	c   *Client
	cfg ProbeConfig

	mu     sync.Mutex
	health ports.DependencyHealth
	fails  int
	cancel context.CancelFunc
	done   chan struct{}
}

var _ ports.HealthChecker = (*Prober)(nil)

// NewProber returns a stopped Prober for c's Unison.
func NewProber(c *Client, cfg ProbeConfig) *Prober {
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.SlowAfter <= 0 {
		cfg.SlowAfter = time.Second
	}
	if cfg.DownAfter <= 0 {
		cfg.DownAfter = 3
	}
	return &Prober{c: c, cfg: cfg, health: ports.DependencyHealth{Status: StatusDegraded, Error: "not checked yet"}}
}

func (p *Prober) Name() string { return service }

// Health returns the last probe's verdict.
func (p *Prober) Health() ports.DependencyHealth {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.health
}

// Start probes now and then every Interval until Stop or ctx ends. Calling
// it while running does nothing.
func (p *Prober) Start(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancel != nil {
		return
	}
	ctx, p.cancel = context.WithCancel(ctx)
	p.done = make(chan struct{})
	go p.run(ctx, p.done)
}

// Stop ends the polling and waits for an in-flight probe to finish.
func (p *Prober) Stop() {
	p.mu.Lock()
	cancel, done := p.cancel, p.done
	p.cancel, p.done = nil, nil
	p.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (p *Prober) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		p.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check probes once, records the verdict and returns it.
func (p *Prober) Check(ctx context.Context) ports.DependencyHealth {
	start := time.Now()
	err := p.probe(ctx)
	latency := time.Since(start)
	if ctx.Err() != nil {
		// Shutting down: a cancelled probe says nothing about Unison.
		return p.Health()
	}

	h := ports.DependencyHealth{Status: StatusOK, CheckedAt: start, LatencyMs: float64(latency.Microseconds()) / 1000}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err != nil:
		p.fails++
		h.Status, h.Error = StatusDegraded, err.Error()
		if p.fails >= p.cfg.DownAfter {
			h.Status = StatusDown
		}
	case latency > p.cfg.SlowAfter:
		p.fails = 0
		h.Status, h.Error = StatusDegraded, fmt.Sprintf("slow: %s", latency.Round(time.Millisecond))
	case p.c.BreakerOpen():
		p.fails = 0
		h.Status, h.Error = StatusDegraded, "circuit breaker open"
	default:
		p.fails = 0
	}
	p.health = h
	return h
}

// probe asks the health route, which needs no API key, so none is sent.
func (p *Prober) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.c.cfg.BaseURL+"/api/v1/health", nil)
	if err != nil {
		return err
	}
	resp, err := p.c.http.Do(req)
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
