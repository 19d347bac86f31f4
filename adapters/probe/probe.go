// Package probe polls one upstream's health in the background, so that
// /api/health reports each dependency's last known state without waiting on
// the network. Each upstream adapter supplies the check; the verdict rules
// (ok, degraded, down) are the same for all of them.
package probe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/diminuendo/diminuendo/ports"
)

// Health statuses (ports.DependencyHealth.Status).
const (
	StatusOK       = "ok"
	StatusDegraded = "degraded"
	StatusDown     = "down"
)

// Config tunes a Prober; zero fields take the defaults.
type Config struct {
	// Interval between probes (default 10s).
	Interval time.Duration
	// Timeout of one probe (default 2s).
	Timeout time.Duration
	// SlowAfter marks a successful but slower probe degraded (default 1s).
	SlowAfter time.Duration
	// DownAfter consecutive failed probes report down; fewer, degraded (default 3).
	DownAfter int
	// Logger receives a line whenever the status changes (slog.Default() when nil).
	Logger *slog.Logger
}

// Defaults of Config.
const (
	DefaultInterval  = 10 * time.Second
	DefaultTimeout   = 2 * time.Second
	DefaultSlowAfter = time.Second
	DefaultDownAfter = 3
)

// Degraded is what a check returns when the upstream answered but is not
// fully well (its own report says so, or our breaker towards it is open).
// It makes the verdict degraded without counting as a failure: the upstream
// is reachable, so it is not on its way down.
func Degraded(reason string) error { return &degraded{reason} }

type degraded struct{ reason string }

func (d *degraded) Error() string { return d.reason }

// Prober probes one dependency now and then, and keeps the last verdict.
type Prober struct {
	name  string
	check func(context.Context) error
	cfg   Config
	log   *slog.Logger

	mu     sync.Mutex
	health ports.DependencyHealth
	fails  int
	cancel context.CancelFunc
	done   chan struct{}
}

var _ ports.HealthChecker = (*Prober)(nil)

// New returns a stopped Prober reporting as name. check is called with a
// context bounded by Timeout and returns nil when the dependency is well.
func New(name string, check func(context.Context) error, cfg Config) *Prober {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.SlowAfter <= 0 {
		cfg.SlowAfter = DefaultSlowAfter
	}
	if cfg.DownAfter <= 0 {
		cfg.DownAfter = DefaultDownAfter
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Prober{
		name: name, check: check, cfg: cfg, log: log.With("dependency", name),
		health: ports.DependencyHealth{Status: StatusDegraded, Error: "not checked yet"},
	}
}

func (p *Prober) Name() string { return p.name }

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
	cctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	err := p.check(cctx)
	cancel()
	latency := time.Since(start)
	if ctx.Err() != nil {
		// Shutting down: a cancelled probe says nothing about the dependency.
		return p.Health()
	}

	h := ports.DependencyHealth{Status: StatusOK, CheckedAt: start, LatencyMs: float64(latency.Microseconds()) / 1000}
	var d *degraded
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case errors.As(err, &d):
		p.fails = 0
		h.Status, h.Error = StatusDegraded, d.reason
	case err != nil:
		p.fails++
		h.Status, h.Error = StatusDegraded, err.Error()
		if p.fails >= p.cfg.DownAfter {
			h.Status = StatusDown
		}
	case latency > p.cfg.SlowAfter:
		p.fails = 0
		h.Status, h.Error = StatusDegraded, fmt.Sprintf("slow: %s", latency.Round(time.Millisecond))
	default:
		p.fails = 0
	}
	if h.Status != p.health.Status {
		lvl := slog.LevelWarn
		if h.Status == StatusOK {
			lvl = slog.LevelInfo
		}
		p.log.Log(ctx, lvl, "dependency health changed", "from", p.health.Status, "to", h.Status, "reason", h.Error)
	}
	p.health = h
	return h
}
