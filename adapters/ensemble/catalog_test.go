package ensemble_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/ensemble"
	"github.com/diminuendo/diminuendo/adapters/ensemble/ensemblesim"
	"github.com/diminuendo/diminuendo/domain"
)

func TestModelsAnswerFromTheCache(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	first, err := e.a.Models(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), e.sim.Requests())

	e.sim.RefuseConnections(true)
	for range 5 {
		again, err := e.a.Models(ctx)
		require.NoError(t, err)
		assert.Equal(t, first, again)
	}
	assert.Equal(t, int64(1), e.sim.Requests(), "a warm cache sends nothing")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = e.a.Models(cancelled)
	assert.NoError(t, err, "a warm cache needs no time at all")
}

func TestAColdCacheIsFilledOnceForConcurrentCallers(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.SetLatency(50 * time.Millisecond) // keep the first fetch in flight while the others arrive
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := e.a.Models(context.Background())
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, int64(1), e.sim.Requests())
}

func TestAColdCacheAndADownEnsembleFail(t *testing.T) {
	e := newEnv(t, func(c *ensemble.Config) { c.MaxAttempts = 2 })
	e.sim.RefuseConnections(true)
	_, err := e.a.Models(context.Background())
	assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))
	assert.Equal(t, "ensemble is unavailable", domain.As(err).Message)

	e.sim.RefuseConnections(false)
	ms, err := e.a.Models(context.Background())
	require.NoError(t, err, "the next call tries again")
	assert.NotEmpty(t, ms)
}

func TestFetchesRetryThroughA503Burst(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.FailNext(2, http.StatusServiceUnavailable)
	_, err := e.a.Models(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(3), e.sim.Requests())
	assert.Contains(t, e.log.String(), "retrying ensemble request")
}

func TestOther4xxAreNotRetried(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.FailNext(5, http.StatusBadRequest)
	_, err := e.a.Models(context.Background())
	assert.Equal(t, domain.KindInternal, domain.KindOf(err))
	assert.Equal(t, int64(1), e.sim.Requests())
}

func TestTheBreakerOpensAndAnswersAtOnce(t *testing.T) {
	e := newEnv(t, func(c *ensemble.Config) {
		c.MaxAttempts, c.BreakerFailures, c.BreakerCooldown = 1, 3, time.Minute
	})
	ctx := context.Background()
	e.sim.FailNext(1000, http.StatusBadGateway)
	for range 3 {
		_, err := e.a.Models(ctx)
		require.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))
	}
	require.True(t, e.a.BreakerOpen())
	seen := e.sim.Requests()
	e.sim.SetLatency(time.Second)
	start := time.Now()
	_, err := e.a.Models(ctx)
	assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))
	assert.Less(t, time.Since(start), 200*time.Millisecond)
	assert.Equal(t, seen, e.sim.Requests(), "an open breaker lets nothing through")
	assert.Contains(t, e.log.String(), "ensemble circuit breaker changed state")
}

func TestTheBackgroundRefreshPicksUpChanges(t *testing.T) {
	e := newEnv(t, func(c *ensemble.Config) { c.RefreshInterval = 10 * time.Millisecond })
	e.a.Start(context.Background())
	e.a.Start(context.Background()) // a second Start is a no-op
	ctx := context.Background()
	require.Eventually(t, func() bool { return e.sim.Requests() >= 1 }, 5*time.Second, time.Millisecond)
	_, err := e.a.Models(ctx)
	require.NoError(t, err)

	e.sim.SetModels([]ensemblesim.Model{{ID: "fresh", Provider: "mock", ContextWindow: 8}})
	require.Eventually(t, func() bool {
		ms, err := e.a.Models(ctx)
		return err == nil && len(ms) == 1 && ms[0].ID == "fresh"
	}, 5*time.Second, time.Millisecond)

	e.a.Stop()
	e.a.Stop()
	seen := e.sim.Requests()
	_, err = e.a.Models(ctx)
	require.NoError(t, err)
	assert.Equal(t, seen, e.sim.Requests(), "Stop ended the refreshing; the cache stays")
}

func TestAFailedRefreshKeepsTheLastGoodCatalog(t *testing.T) {
	e := newEnv(t, func(c *ensemble.Config) {
		c.RefreshInterval = 10 * time.Millisecond
		c.MaxAttempts = 1
		c.BreakerFailures = 1000 // keep every refresh going to the wire
	})
	ctx := context.Background()
	good, err := e.a.Models(ctx)
	require.NoError(t, err)

	e.sim.FailNext(1000, http.StatusServiceUnavailable)
	seen := e.sim.Requests()
	e.a.Start(ctx)
	require.Eventually(t, func() bool { return e.sim.Requests() >= seen+3 }, 5*time.Second, time.Millisecond, "refreshes keep failing")
	ms, err := e.a.Models(ctx)
	require.NoError(t, err)
	assert.Equal(t, good, ms)
	assert.Contains(t, e.log.String(), "serving the last good catalog")

	err = e.a.Refresh(ctx)
	assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err), "Refresh reports the failure")
	ms, err = e.a.Models(ctx)
	require.NoError(t, err)
	assert.Equal(t, good, ms)

	e.sim.FailNext(0, 0)
	e.sim.SetModels([]ensemblesim.Model{{ID: "after", Provider: "mock", ContextWindow: 8}})
	require.Eventually(t, func() bool {
		ms, err := e.a.Models(ctx)
		return err == nil && len(ms) == 1 && ms[0].ID == "after"
	}, 5*time.Second, time.Millisecond, "a later refresh recovers")
}

func TestStopCutsARefreshInFlight(t *testing.T) {
	e := newEnv(t, func(c *ensemble.Config) { c.Timeout = time.Minute })
	e.sim.SetLatency(time.Minute)
	e.a.Start(context.Background())
	require.Eventually(t, func() bool { return e.sim.Requests() >= 1 }, 5*time.Second, time.Millisecond)
	start := time.Now()
	e.a.Stop()
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.False(t, e.a.BreakerOpen(), "our own cancellation is not Ensemble's failure")
}
