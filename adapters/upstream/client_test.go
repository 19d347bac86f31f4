package upstream_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/upstream"
	"github.com/diminuendo/diminuendo/domain"
)

var fast = upstream.Config{
	Timeout: time.Second, MaxAttempts: 3, RetryInitial: time.Millisecond, RetryMax: 5 * time.Millisecond,
	BreakerFailures: 100, BreakerCooldown: time.Minute, MaxResponse: 1 << 20,
}

func newClient(t *testing.T, base string, tweak func(*upstream.Config)) *upstream.Client {
	t.Helper()
	cfg := upstream.Config{Service: "svc", BaseURL: base, APIKey: "k"}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := upstream.New(cfg, fast, nil)
	require.NoError(t, err)
	return c
}

func TestNewRejectsABadBaseURL(t *testing.T) {
	for _, u := range []string{"", "localhost:80", "ftp://h", "http://", "http://h/?q=1", "http://h/#f"} {
		_, err := upstream.New(upstream.Config{Service: "svc", BaseURL: u}, fast, nil)
		assert.ErrorContains(t, err, "svc: BaseURL", u)
	}
	_, err := upstream.New(upstream.Config{Service: "svc", BaseURL: "http://h"}, upstream.Config{Timeout: time.Second}, nil)
	assert.ErrorContains(t, err, "unset", "defaults must leave no figure at zero")
}

func TestURLKeepsThePrefixAndEscapesEachSegment(t *testing.T) {
	c := newClient(t, "http://h/pre/", nil)
	assert.Equal(t, "http://h/pre/api/kv/tenant%3Aa%2Fs/%2E%2E?after=1", c.URL(url.Values{"after": {"1"}}, "api", "kv", "tenant:a/s", ".."))
	assert.Equal(t, "http://h/pre/api/v1/health", c.URL(nil, "api", "v1", "health"))
}

// serve answers each request with the next of statuses (the last repeats).
func serve(t *testing.T, header http.Header, statuses ...int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := min(int(n.Add(1))-1, len(statuses)-1)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(statuses[i])
		_, _ = w.Write([]byte(`{"error":{"code":"c","message":"m"},"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func get(ctx context.Context, c *upstream.Client, retry bool) error {
	_, err := upstream.CallJSON[map[string]any](ctx, c, retry, upstream.Request{Method: http.MethodGet, Path: []string{"x"}})
	return err
}

func TestOnlyTransientFailuresAreRetriedAndOnlyWhenAllowed(t *testing.T) {
	srv, n := serve(t, nil, 503, 503, 200)
	c := newClient(t, srv.URL, nil)
	require.NoError(t, get(context.Background(), c, true))
	assert.EqualValues(t, 3, n.Load())

	srv, n = serve(t, nil, 503, 200)
	c = newClient(t, srv.URL, nil)
	assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(c.ToDomain(get(context.Background(), c, false), nil)))
	assert.EqualValues(t, 1, n.Load(), "a call that may not repeat is sent once")

	srv, n = serve(t, nil, 409, 200)
	c = newClient(t, srv.URL, nil)
	err := get(context.Background(), c, true)
	assert.True(t, upstream.IsStatus(err, 409))
	assert.EqualValues(t, 1, n.Load(), "a refusal would not change")
}

func TestRetryAfterIsHonouredOnlyWhenConfigured(t *testing.T) {
	srv, n := serve(t, http.Header{"Retry-After": {"5"}}, 429)
	c := newClient(t, srv.URL, nil)
	err := c.ToDomain(get(context.Background(), c, true), nil)
	assert.EqualValues(t, 3, n.Load(), "ignored: the backoff applies")
	assert.Zero(t, domain.As(err).RetryAfter)

	srv, n = serve(t, http.Header{"Retry-After": {"5"}}, 429)
	c = newClient(t, srv.URL, func(c *upstream.Config) { c.HonourRetryAfter = true })
	err = c.ToDomain(get(context.Background(), c, true), nil)
	assert.EqualValues(t, 1, n.Load(), "longer than RetryMax: not waited for")
	assert.Equal(t, 5*time.Second, domain.As(err).RetryAfter)
}

func TestToDomain(t *testing.T) {
	c := newClient(t, "http://h", nil)
	status := func(s int) error { return &upstream.StatusError{Service: "svc", Status: s} }
	refusal := func(se *upstream.StatusError) error {
		if se.Status == 404 {
			return domain.E(domain.KindNotFound, "thing not found")
		}
		return nil
	}
	for _, tc := range []struct {
		err  error
		kind domain.Kind
		msg  string
	}{
		{status(404), domain.KindNotFound, "thing not found"},
		{status(400), domain.KindInternal, "svc rejected the request"},
		{status(401), domain.KindUpstreamUnavailable, "svc is unavailable"},
		{status(403), domain.KindUpstreamUnavailable, "svc is unavailable"},
		{status(429), domain.KindUpstreamUnavailable, "svc is unavailable"},
		{status(502), domain.KindUpstreamUnavailable, "svc is unavailable"},
		{errors.New("connection reset"), domain.KindUpstreamUnavailable, "svc is unavailable"},
		{upstream.ErrBreakerOpen, domain.KindUpstreamUnavailable, "svc is unavailable"},
		{domain.E(domain.KindConflict, "mine"), domain.KindConflict, "mine"},
	} {
		de := domain.As(c.ToDomain(tc.err, refusal))
		assert.Equal(t, tc.kind, de.Kind, tc.err.Error())
		assert.Equal(t, tc.msg, de.Message, tc.err.Error())
	}
	assert.NoError(t, c.ToDomain(nil, refusal))
}

func TestTheBreakerCountsOutagesOnly(t *testing.T) {
	srv, n := serve(t, nil, 404)
	c := newClient(t, srv.URL, func(c *upstream.Config) { c.BreakerFailures, c.MaxAttempts = 2, 1 })
	for range 3 {
		_ = get(context.Background(), c, true)
	}
	assert.False(t, c.BreakerOpen(), "answers are not failures")

	srv, n = serve(t, nil, 500)
	c = newClient(t, srv.URL, func(c *upstream.Config) { c.BreakerFailures, c.MaxAttempts = 2, 1 })
	for range 2 {
		_ = get(context.Background(), c, true)
	}
	require.True(t, c.BreakerOpen())
	assert.ErrorIs(t, get(context.Background(), c, true), upstream.ErrBreakerOpen)
	assert.EqualValues(t, 2, n.Load(), "an open breaker sends nothing")

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	srv, _ = serve(t, nil, 200)
	c = newClient(t, srv.URL, func(c *upstream.Config) { c.BreakerFailures = 1 })
	_ = get(cancelled, c, true)
	assert.False(t, c.BreakerOpen(), "a caller that gave up says nothing about the service")
}

func TestHealthSendsNoKey(t *testing.T) {
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		_, _ = w.Write([]byte(`{"status":"healthy"}`))
	}))
	defer srv.Close()
	var body struct{ Status string }
	require.NoError(t, newClient(t, srv.URL, nil).Health(context.Background(), &body, "api", "v1", "health"))
	assert.Equal(t, "healthy", body.Status)
	assert.Equal(t, "", auth.Load())
}
