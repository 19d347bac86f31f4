// Package probetest holds what every upstream's prober must do, for each
// adapter's tests to run against its simulator, as ports/contract does
// for the ports.
package probetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/probe"
)

// RefusalSeenWithinOneInterval starts the prober newProber builds and
// checks the promise of docs/upstreams.md (Health probes): an upstream
// that stops answering (refuse(true)) turns degraded at the next probe, so
// within one Interval (+ Timeout), down after DownAfter probes, and ok
// again once it answers.
func RefusalSeenWithinOneInterval(t *testing.T, newProber func(probe.Config) *probe.Prober, refuse func(bool)) {
	t.Helper()
	const interval = 100 * time.Millisecond
	p := newProber(probe.Config{Interval: interval, Timeout: 100 * time.Millisecond, DownAfter: 3})
	p.Start(context.Background())
	defer p.Stop()
	status := func(want string) func() bool {
		return func() bool { return p.Health().Status == want }
	}
	require.Eventually(t, status(probe.StatusOK), 5*time.Second, time.Millisecond)

	refuse(true)
	refusedAt := time.Now()
	require.Eventually(t, status(probe.StatusDegraded), interval+300*time.Millisecond, time.Millisecond)
	assert.Less(t, time.Since(refusedAt), interval+300*time.Millisecond)
	require.Eventually(t, status(probe.StatusDown), 20*interval, time.Millisecond)

	refuse(false)
	require.Eventually(t, status(probe.StatusOK), 20*interval, time.Millisecond)
}
