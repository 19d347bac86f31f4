package probe_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/diminuendo/diminuendo/adapters/probe"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// dep is a dependency whose next answer a test sets.
type dep struct {
	mu    sync.Mutex
	err   error
	delay time.Duration
	calls atomic.Int64
}

func (d *dep) set(err error, delay time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.err, d.delay = err, delay
}

func (d *dep) check(ctx context.Context) error {
	d.calls.Add(1)
	d.mu.Lock()
	err, delay := d.err, d.delay
	d.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

var quiet = slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))

func TestVerdicts(t *testing.T) {
	d := &dep{}
	p := probe.New("thing", d.check, probe.Config{DownAfter: 2, SlowAfter: 20 * time.Millisecond, Logger: quiet})
	ctx := context.Background()
	assert.Equal(t, "thing", p.Name())
	assert.Equal(t, probe.StatusDegraded, p.Health().Status, "unknown until the first probe")
	assert.Equal(t, "not checked yet", p.Health().Error)

	h := p.Check(ctx)
	assert.Equal(t, probe.StatusOK, h.Status)
	assert.Empty(t, h.Error)
	assert.False(t, h.CheckedAt.IsZero())

	d.set(errors.New("connection refused"), 0)
	h = p.Check(ctx)
	assert.Equal(t, probe.StatusDegraded, h.Status, "a first failure degrades")
	assert.Equal(t, "connection refused", h.Error)
	assert.Equal(t, probe.StatusDown, p.Check(ctx).Status, "DownAfter failures in a row")
	assert.Equal(t, probe.StatusDown, p.Health().Status)

	d.set(nil, 0)
	assert.Equal(t, probe.StatusOK, p.Check(ctx).Status, "one success recovers")

	d.set(nil, 40*time.Millisecond)
	h = p.Check(ctx)
	assert.Equal(t, probe.StatusDegraded, h.Status)
	assert.Contains(t, h.Error, "slow")
	assert.GreaterOrEqual(t, h.LatencyMs, 40.0)

	d.set(probe.Degraded("breaker open"), 0)
	for range 3 {
		h = p.Check(ctx)
		assert.Equal(t, probe.StatusDegraded, h.Status, "a degraded answer never turns into down")
		assert.Equal(t, "breaker open", h.Error)
	}
	d.set(errors.New("x"), 0)
	assert.Equal(t, probe.StatusDegraded, p.Check(ctx).Status, "a degraded answer resets the failure count")
}

func TestAHangingCheckFailsAtTheTimeout(t *testing.T) {
	d := &dep{}
	d.set(nil, time.Hour)
	p := probe.New("slowpoke", d.check, probe.Config{Timeout: 30 * time.Millisecond, Logger: quiet})
	start := time.Now()
	h := p.Check(context.Background())
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, probe.StatusDegraded, h.Status)
	assert.Contains(t, h.Error, "deadline")
}

func TestACancelledCheckChangesNothing(t *testing.T) {
	d := &dep{}
	p := probe.New("x", d.check, probe.Config{Logger: quiet})
	require.Equal(t, probe.StatusOK, p.Check(context.Background()).Status)
	d.set(nil, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.Equal(t, probe.StatusOK, p.Check(ctx).Status)
	assert.Equal(t, probe.StatusOK, p.Health().Status)
}

func TestStatusChangesAreLogged(t *testing.T) {
	var buf bytes.Buffer
	d := &dep{}
	p := probe.New("thing", d.check, probe.Config{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	p.Check(context.Background())
	p.Check(context.Background())
	assert.Equal(t, 1, bytes.Count(buf.Bytes(), []byte("dependency health changed")), buf.String())
	assert.Contains(t, buf.String(), "dependency=thing")
}

func TestAFailureShowsWithinOneInterval(t *testing.T) {
	d := &dep{}
	const interval = 100 * time.Millisecond
	p := probe.New("x", d.check, probe.Config{Interval: interval, Timeout: 50 * time.Millisecond, DownAfter: 3, Logger: quiet})
	p.Start(context.Background())
	p.Start(context.Background()) // a second Start is a no-op
	defer p.Stop()
	require.Eventually(t, func() bool { return p.Health().Status == probe.StatusOK }, 5*time.Second, time.Millisecond)

	d.set(errors.New("gone"), 0)
	failedAt := time.Now()
	require.Eventually(t, func() bool { return p.Health().Status == probe.StatusDegraded }, interval+50*time.Millisecond+200*time.Millisecond, time.Millisecond)
	assert.Less(t, time.Since(failedAt), interval+250*time.Millisecond)
	require.Eventually(t, func() bool { return p.Health().Status == probe.StatusDown }, 10*interval, time.Millisecond)

	d.set(nil, 0)
	require.Eventually(t, func() bool { return p.Health().Status == probe.StatusOK }, 5*interval, time.Millisecond)
}

func TestStopWaitsForAnInFlightProbeAndEndsThePolling(t *testing.T) {
	d := &dep{}
	d.set(nil, time.Hour) // every probe hangs until cancelled
	p := probe.New("x", d.check, probe.Config{Interval: time.Millisecond, Timeout: time.Hour, Logger: quiet})
	p.Start(context.Background())
	require.Eventually(t, func() bool { return d.calls.Load() > 0 }, 5*time.Second, time.Millisecond)
	p.Stop()
	p.Stop()
	goleak.VerifyNone(t) // the polling goroutine is gone, cancelled mid-probe

	d.set(nil, 0)
	p.Start(context.Background()) // a stopped prober can start again
	require.Eventually(t, func() bool { return p.Health().Status == probe.StatusOK }, 5*time.Second, time.Millisecond)
	p.Stop()
}

func TestTheParentContextEndsThePolling(t *testing.T) {
	d := &dep{}
	p := probe.New("x", d.check, probe.Config{Interval: time.Millisecond, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	p.Start(ctx)
	require.Eventually(t, func() bool { return d.calls.Load() > 2 }, 5*time.Second, time.Millisecond)
	cancel()
	p.Stop() // returns: the goroutine ended with ctx
}
