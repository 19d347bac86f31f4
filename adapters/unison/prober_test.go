package unison_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/probe/probetest"
	"github.com/diminuendo/diminuendo/adapters/unison"
	"github.com/diminuendo/diminuendo/ports"
)

func TestProbeDegradesThenGoesDownWhenRefusedAndRecovers(t *testing.T) {
	sim, base := startSim(t)
	p := unison.NewProber(newClient(t, base), unison.ProbeConfig{Timeout: 500 * time.Millisecond, DownAfter: 2})
	assert.Equal(t, "unison", p.Name())
	assert.Equal(t, unison.StatusDegraded, p.Health().Status, "unknown until the first probe")

	h := p.Check(ctx)
	require.Equal(t, unison.StatusOK, h.Status, h.Error)
	assert.False(t, h.CheckedAt.IsZero())
	assert.Positive(t, h.LatencyMs)

	sim.RefuseConnections(true)
	h = p.Check(ctx)
	assert.Equal(t, unison.StatusDegraded, h.Status)
	assert.NotEmpty(t, h.Error)
	assert.NotContains(t, h.Error, apiKey)
	assert.Equal(t, unison.StatusDown, p.Check(ctx).Status)
	assert.Equal(t, unison.StatusDown, p.Health().Status)

	sim.RefuseConnections(false)
	assert.Equal(t, unison.StatusOK, p.Check(ctx).Status)
}

func TestProbeDegradedWhenSlowUnhealthyOrBreakerOpen(t *testing.T) {
	sim, base := startSim(t)
	c := newClient(t, base, func(c *unison.Config) { c.MaxAttempts = 1; c.BreakerCooldown = time.Minute })
	p := unison.NewProber(c, unison.ProbeConfig{SlowAfter: 30 * time.Millisecond})

	sim.SetLatency(60 * time.Millisecond)
	h := p.Check(ctx)
	assert.Equal(t, unison.StatusDegraded, h.Status)
	assert.Contains(t, h.Error, "slow")
	sim.SetLatency(0)

	sim.SetHealthy(false)
	assert.Equal(t, unison.StatusDegraded, p.Check(ctx).Status)
	sim.SetHealthy(true)
	assert.Equal(t, unison.StatusOK, p.Check(ctx).Status)

	sim.FailNext(3, http.StatusInternalServerError)
	for range 3 {
		_, _ = c.Get(ctx, "ns", "k")
	}
	require.True(t, c.BreakerOpen())
	h = p.Check(ctx)
	assert.Equal(t, unison.StatusDegraded, h.Status, "health answers, but calls are being refused")
	assert.Contains(t, h.Error, "breaker")
}

func TestProberRunsInTheBackground(t *testing.T) {
	sim, base := startSim(t)
	p := unison.NewProber(newClient(t, base), unison.ProbeConfig{Interval: 10 * time.Millisecond, Timeout: 200 * time.Millisecond, DownAfter: 3})
	p.Start(ctx)
	p.Start(ctx) // a second Start is a no-op
	defer p.Stop()

	status := func(want string) func() bool {
		return func() bool { return p.Health().Status == want }
	}
	require.Eventually(t, status(unison.StatusOK), 2*time.Second, 5*time.Millisecond)
	sim.RefuseConnections(true)
	require.Eventually(t, status(unison.StatusDown), 2*time.Second, 5*time.Millisecond)
	sim.RefuseConnections(false)
	require.Eventually(t, status(unison.StatusOK), 2*time.Second, 5*time.Millisecond)

	p.Stop()
	p.Stop()
	last := p.Health().CheckedAt
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, last, p.Health().CheckedAt, "no probe after Stop")
}

var _ ports.HealthChecker = (*unison.Prober)(nil)

func TestARefusingUnisonTurnsDegradedWithinOneInterval(t *testing.T) {
	sim, base := startSim(t)
	c := newClient(t, base)
	probetest.RefusalSeenWithinOneInterval(t, func(cfg unison.ProbeConfig) *unison.Prober { return unison.NewProber(c, cfg) }, sim.RefuseConnections)
}
