package ensemble_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/ensemble"
	"github.com/diminuendo/diminuendo/adapters/probe"
	"github.com/diminuendo/diminuendo/adapters/probe/probetest"
)

func TestPingNeedsNoKey(t *testing.T) {
	e := newEnv(t, func(c *ensemble.Config) { c.APIKey = "ens_wrong" })
	ctx := context.Background()
	require.NoError(t, e.a.Ping(ctx))
	e.sim.SetStatus("degraded")
	assert.ErrorContains(t, e.a.Ping(ctx), "degraded")
	e.sim.SetStatus("unhealthy")
	assert.Error(t, e.a.Ping(ctx))
	assert.Zero(t, e.sim.Requests(), "health is not an API request")
}

func TestProberVerdicts(t *testing.T) {
	e := newEnv(t, func(c *ensemble.Config) {
		c.MaxAttempts, c.BreakerFailures, c.BreakerCooldown = 1, 2, time.Minute
	})
	ctx := context.Background()
	p := ensemble.NewProber(e.a, probe.Config{DownAfter: 2})
	assert.Equal(t, "ensemble", p.Name())
	require.Equal(t, probe.StatusOK, p.Check(ctx).Status)

	e.sim.SetProviderStatus("gemini", "degraded")
	e.sim.SetStatus("degraded")
	for range 3 {
		h := p.Check(ctx)
		assert.Equal(t, probe.StatusDegraded, h.Status, "a degraded Ensemble still serves")
		assert.Equal(t, "ensemble reports degraded: gemini degraded", h.Error)
	}
	e.sim.SetStatus("unhealthy")
	assert.Equal(t, probe.StatusDegraded, p.Check(ctx).Status)
	assert.Equal(t, probe.StatusDown, p.Check(ctx).Status)
	e.sim.SetStatus("healthy")
	assert.Equal(t, probe.StatusOK, p.Check(ctx).Status)

	e.sim.FailNext(2, http.StatusServiceUnavailable)
	for range 2 {
		_ = e.a.Refresh(ctx)
	}
	require.True(t, e.a.BreakerOpen())
	h := p.Check(ctx)
	assert.Equal(t, probe.StatusDegraded, h.Status)
	assert.Contains(t, h.Error, "breaker")
}

func TestARefusingEnsembleTurnsDegradedWithinOneInterval(t *testing.T) {
	e := newEnv(t, nil)
	probetest.RefusalSeenWithinOneInterval(t, func(cfg probe.Config) *probe.Prober { return ensemble.NewProber(e.a, cfg) }, e.sim.RefuseConnections)
}
