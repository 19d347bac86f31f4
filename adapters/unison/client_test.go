package unison_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/unison"
	"github.com/diminuendo/diminuendo/domain"
)

var ctx = context.Background()

func TestNewRejectsBadBaseURL(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:8005", "ftp://x", "http://", "http://x/?q=1"} {
		_, err := unison.New(unison.Config{BaseURL: u}, nil)
		assert.Error(t, err, u)
	}
	_, err := unison.New(unison.Config{BaseURL: "http://127.0.0.1:8005/"}, nil)
	assert.NoError(t, err)
}

func TestAuthHeaderIsRequiredBySim(t *testing.T) {
	sim, base := startSim(t)
	for _, key := range []string{"", "wrong-key"} {
		c := newClient(t, base, func(c *unison.Config) { c.APIKey = key })
		_, err := c.Get(ctx, "ns", "k")
		requireKind(t, domain.KindUpstreamUnavailable, err, "key %q", key)
		assert.Contains(t, err.Error(), "401")
	}
	assert.EqualValues(t, 2, sim.Requests(), "a 401 is not retried")

	_, err := newClient(t, base).Get(ctx, "ns", "k")
	requireKind(t, domain.KindNotFound, err, "the right key gets through")
}

func TestAPIKeyNeverPrinted(t *testing.T) {
	cfg := unison.Config{BaseURL: "http://127.0.0.1:1", APIKey: apiKey}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%v", &cfg)} {
		assert.NotContains(t, s, apiKey)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "unison", cfg)
	assert.NotContains(t, buf.String(), apiKey)
	assert.Contains(t, buf.String(), "127.0.0.1:1")

	// Nor in the error of a failed call.
	c, err := unison.New(cfg, nil)
	require.NoError(t, err)
	_, err = c.Get(ctx, "ns", "k")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), apiKey)
}

func TestGetIsRetriedThroughAFailureBurst(t *testing.T) {
	sim, base := startSim(t)
	c := newClient(t, base)
	_, err := c.Put(ctx, "ns", "k", "v", unison.Always())
	require.NoError(t, err)

	sim.FailNext(2, http.StatusServiceUnavailable)
	before := sim.Requests()
	e, err := c.Get(ctx, "ns", "k")
	require.NoError(t, err)
	assert.JSONEq(t, `"v"`, string(e.Value))
	assert.EqualValues(t, 3, sim.Requests()-before)

	sim.FailNext(3, http.StatusBadGateway)
	before = sim.Requests()
	_, err = c.Get(ctx, "ns", "k")
	requireKind(t, domain.KindUpstreamUnavailable, err)
	assert.EqualValues(t, 3, sim.Requests()-before, "MaxAttempts bounds the retries")
}

func TestOnlyConditionalWritesAreRetried(t *testing.T) {
	sim, base := startSim(t)
	c := newClient(t, base, func(c *unison.Config) { c.BreakerFailures = 100 })

	sim.FailNext(1, http.StatusServiceUnavailable)
	before := sim.Requests()
	_, err := c.Put(ctx, "ns", "k", 1, unison.Always())
	requireKind(t, domain.KindUpstreamUnavailable, err)
	assert.EqualValues(t, 1, sim.Requests()-before, "an unconditional PUT is sent once")

	sim.FailNext(1, http.StatusServiceUnavailable)
	e, err := c.Put(ctx, "ns", "k", 1, unison.IfAbsent())
	require.NoError(t, err)
	assert.EqualValues(t, 1, e.Version)

	sim.FailNext(1, http.StatusServiceUnavailable)
	before = sim.Requests()
	requireKind(t, domain.KindUpstreamUnavailable, c.Delete(ctx, "ns", "k", unison.Always()))
	assert.EqualValues(t, 1, sim.Requests()-before, "an unconditional DELETE is sent once")

	sim.FailNext(1, http.StatusServiceUnavailable)
	before = sim.Requests()
	_, err = c.Batch(ctx, []unison.Op{{Namespace: "ns", Key: "b", Value: 1, Cond: unison.IfAbsent()}})
	requireKind(t, domain.KindUpstreamUnavailable, err)
	assert.EqualValues(t, 1, sim.Requests()-before, "a batch is sent once")

	sim.FailNext(1, http.StatusServiceUnavailable)
	require.NoError(t, c.Delete(ctx, "ns", "k", unison.IfVersion(1)))
	_, err = c.Get(ctx, "ns", "k")
	requireKind(t, domain.KindNotFound, err)
}

func TestLostRepliesOfConditionalWrites(t *testing.T) {
	sim, base := startSim(t)
	c := newClient(t, base)

	sim.FailNextAfterApply(1, http.StatusServiceUnavailable)
	e, err := c.Put(ctx, "ns", "k", map[string]any{"n": 1}, unison.IfAbsent())
	require.NoError(t, err, "the retry's conflict is recognised as our own write")
	assert.EqualValues(t, 1, e.Version)

	sim.FailNextAfterApply(1, http.StatusServiceUnavailable)
	e, err = c.Put(ctx, "ns", "k", map[string]any{"n": 2}, unison.IfVersion(1))
	require.NoError(t, err)
	assert.EqualValues(t, 2, e.Version)

	_, err = c.Put(ctx, "ns", "k", map[string]any{"n": 2}, unison.IfVersion(1))
	requireKind(t, domain.KindConflict, err, "a conflict on the first attempt is always reported")
	var ce *unison.ConflictError
	require.ErrorAs(t, err, &ce)
	assert.EqualValues(t, 2, ce.CurrentVersion)

	sim.FailNextAfterApply(1, http.StatusServiceUnavailable)
	require.NoError(t, c.Delete(ctx, "ns", "k", unison.IfVersion(2)))
	_, err = c.Get(ctx, "ns", "k")
	requireKind(t, domain.KindNotFound, err)
}

func TestBreakerOpensAfterRepeated503s(t *testing.T) {
	sim, base := startSim(t)
	c := newClient(t, base, func(c *unison.Config) { c.MaxAttempts = 1 })

	for range 10 {
		_, err := c.Get(ctx, "ns", "missing")
		requireKind(t, domain.KindNotFound, err)
	}
	assert.False(t, c.BreakerOpen(), "answers like 404 are not failures")

	sim.FailNext(1000, http.StatusServiceUnavailable)
	for range 3 {
		_, err := c.Get(ctx, "ns", "k")
		requireKind(t, domain.KindUpstreamUnavailable, err)
	}
	require.True(t, c.BreakerOpen())

	before := sim.Requests()
	t0 := time.Now()
	_, err := c.Get(ctx, "ns", "k")
	requireKind(t, domain.KindUpstreamUnavailable, err)
	assert.Contains(t, err.Error(), "circuit breaker open")
	assert.Less(t, time.Since(t0), 50*time.Millisecond)
	assert.Equal(t, before, sim.Requests(), "an open breaker sends nothing")

	sim.FailNext(0, 0)
	require.Eventually(t, func() bool {
		_, err := c.Get(ctx, "ns", "k")
		return domain.KindOf(err) == domain.KindNotFound
	}, 2*time.Second, 20*time.Millisecond, "a trial call after the cooldown closes it")
	assert.False(t, c.BreakerOpen())
}

func TestRetriesStopAtTheOpenBreaker(t *testing.T) {
	sim, base := startSim(t)
	c := newClient(t, base, func(c *unison.Config) { c.MaxAttempts = 10 })
	sim.FailNext(1000, http.StatusServiceUnavailable)
	_, err := c.Get(ctx, "ns", "k")
	requireKind(t, domain.KindUpstreamUnavailable, err)
	assert.EqualValues(t, 3, sim.Requests(), "BreakerFailures, not MaxAttempts, bounded the calls")
}

func TestPerAttemptTimeout(t *testing.T) {
	sim, base := startSim(t)
	c := newClient(t, base, func(c *unison.Config) { c.Timeout = 50 * time.Millisecond; c.MaxAttempts = 2 })
	sim.SetLatency(time.Second)
	t0 := time.Now()
	_, err := c.Get(ctx, "ns", "k")
	requireKind(t, domain.KindUpstreamUnavailable, err)
	assert.Less(t, time.Since(t0), 500*time.Millisecond)
}

func TestRetryAfterBeyondRetryMaxIsNotWaitedFor(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	_, err := c.Get(ctx, "ns", "k")
	requireKind(t, domain.KindUpstreamUnavailable, err)
	assert.Equal(t, 5*time.Second, domain.As(err).RetryAfter)
	assert.Equal(t, 1, calls)
}

func TestOddNamesTravelIntact(t *testing.T) {
	_, base := startSim(t)
	c := newClient(t, base)
	names := []string{"tenant:acme/sessions", "a b/c?d#e%f&g", ":leading", "..", ".", "ü/ß"}
	for _, ns := range names {
		for _, key := range names {
			_, err := c.Put(ctx, ns, key, ns+"|"+key, unison.Always())
			require.NoError(t, err, "%q %q", ns, key)
		}
	}
	for _, ns := range names {
		entries, err := c.List(ctx, ns, "")
		require.NoError(t, err)
		require.Len(t, entries, len(names))
		for _, e := range entries {
			assert.Equal(t, ns, e.Namespace)
			assert.JSONEq(t, fmt.Sprintf("%q", ns+"|"+e.Key), string(e.Value))
		}
	}
}

func TestListFollowsCursorsUpToItsBound(t *testing.T) {
	_, base := startSim(t)
	c := newClient(t, base)
	fill := func(ns string, n int) {
		for start := 0; start < n; start += 100 {
			var ops []unison.Op
			for i := start; i < min(n, start+100); i++ {
				ops = append(ops, unison.Op{Namespace: ns, Key: fmt.Sprintf("k%05d", i), Value: i})
			}
			_, err := c.Batch(ctx, ops)
			require.NoError(t, err)
		}
	}
	fill("big", 1234)
	all, err := c.List(ctx, "big", "")
	require.NoError(t, err)
	require.Len(t, all, 1234)
	assert.Equal(t, "k00000", all[0].Key)
	assert.Equal(t, "k01233", all[1233].Key)
	some, err := c.List(ctx, "big", "k010")
	require.NoError(t, err)
	assert.Len(t, some, 100)

	fill("huge", 10_001)
	_, err = c.List(ctx, "huge", "")
	requireKind(t, domain.KindCapacityExceeded, err)
}

func TestBatchAndVersions(t *testing.T) {
	_, base := startSim(t)
	c := newClient(t, base)
	out, err := c.Batch(ctx, []unison.Op{
		{Namespace: "ns", Key: "a", Value: "a1", Cond: unison.IfAbsent()},
		{Namespace: "ns", Key: "a", Value: "a2", Cond: unison.IfVersion(1)},
		{Namespace: "ns", Key: "b", Value: "b1"},
	})
	require.NoError(t, err)
	require.Len(t, out, 3)
	assert.EqualValues(t, 2, out[1].Version)

	_, err = c.Batch(ctx, []unison.Op{
		{Namespace: "ns", Key: "c", Value: "c1"},
		{Delete: true, Namespace: "ns", Key: "b", Cond: unison.IfVersion(9)},
	})
	requireKind(t, domain.KindConflict, err)
	_, err = c.Get(ctx, "ns", "c")
	requireKind(t, domain.KindNotFound, err, "all or nothing")

	vs, err := c.Versions(ctx, "ns", "a")
	require.NoError(t, err)
	require.Len(t, vs, 2)
	assert.JSONEq(t, `"a2"`, string(vs[0].Value))
}

func TestTooLargeValue(t *testing.T) {
	_, base := startSim(t)
	// A megabyte under the race detector on a busy machine can outlast the
	// suite's one-second attempts; this test is about size, not time.
	c := newClient(t, base, func(c *unison.Config) { c.Timeout = 10 * time.Second })
	_, err := c.Put(ctx, "ns", "k", strings.Repeat("x", 1<<20), unison.Always())
	requireKind(t, domain.KindCapacityExceeded, err)
}

func TestConnectionRefusedIsUpstreamUnavailable(t *testing.T) {
	sim, base := startSim(t)
	c := newClient(t, base)
	sim.RefuseConnections(true)
	_, err := c.Get(ctx, "ns", "k")
	requireKind(t, domain.KindUpstreamUnavailable, err)
	assert.Contains(t, err.Error(), "unison is unavailable")
}
