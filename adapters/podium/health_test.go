package podium_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/podium"
	"github.com/diminuendo/diminuendo/adapters/podium/podiumsim"
	"github.com/diminuendo/diminuendo/adapters/probe"
	"github.com/diminuendo/diminuendo/adapters/probe/probetest"
	"github.com/diminuendo/diminuendo/domain"
)

func TestPingNeedsNoKeyAndSkipsTheBreaker(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, func(c *podium.Config) {
		c.APIKey = "pod_wrong"
		c.MaxAttempts, c.BreakerFailures, c.BreakerCooldown = 1, 2, time.Minute
	})
	ctx := context.Background()
	require.NoError(t, e.a.Ping(ctx), "health is not behind the key")

	for range 2 {
		_, err := e.a.GetInstance(ctx, "inst_x") // 401s open nothing, but 503s do
		require.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))
	}
	e.sim.FailNext(2, http.StatusServiceUnavailable)
	for range 2 {
		_, _ = e.a.GetInstance(ctx, "inst_x")
	}
	require.True(t, e.a.BreakerOpen())
	assert.NoError(t, e.a.Ping(ctx), "an open breaker does not stop the ping")

	e.sim.SetHealthy(false)
	assert.Error(t, e.a.Ping(ctx))
}

func TestProberVerdicts(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, func(c *podium.Config) {
		c.MaxAttempts, c.BreakerFailures, c.BreakerCooldown = 1, 2, time.Minute
	})
	ctx := context.Background()
	p := podium.NewProber(e.a, probe.Config{DownAfter: 2, Timeout: time.Second})
	assert.Equal(t, "podium", p.Name())
	require.Equal(t, probe.StatusOK, p.Check(ctx).Status)

	e.sim.SetHealthy(false)
	assert.Equal(t, probe.StatusDegraded, p.Check(ctx).Status)
	assert.Equal(t, probe.StatusDown, p.Check(ctx).Status)
	e.sim.SetHealthy(true)
	assert.Equal(t, probe.StatusOK, p.Check(ctx).Status)

	e.sim.FailNext(2, http.StatusServiceUnavailable)
	for range 2 {
		_, _ = e.a.GetInstance(ctx, "inst_x")
	}
	h := p.Check(ctx)
	assert.Equal(t, probe.StatusDegraded, h.Status, "Podium answers, but calls are being refused")
	assert.Contains(t, h.Error, "breaker")
	assert.NotContains(t, e.log.String(), apiKey)
}

func TestARefusingPodiumTurnsDegradedWithinOneInterval(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, nil)
	probetest.RefusalSeenWithinOneInterval(t, func(cfg probe.Config) *probe.Prober { return podium.NewProber(e.a, cfg) }, e.sim.RefuseConnections)
}
