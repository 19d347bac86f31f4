package auth

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/domain"
)

func newLimiter(t *testing.T, cfg RateLimitConfig) (*AuthRateLimiter, *testClock) {
	t.Helper()
	clock := newTestClock()
	cfg.Clock = clock
	l, err := NewAuthRateLimiter(cfg)
	require.NoError(t, err)
	return l, clock
}

func TestRateLimiterIsolatesAddresses(t *testing.T) {
	l, clock := newLimiter(t, RateLimitConfig{})
	const flood, bystander = "203.0.113.7", "198.51.100.9"

	for range DefaultFailureBurst {
		ok, _ := l.Allow(flood)
		require.True(t, ok)
		l.Fail(flood)
	}
	ok, wait := l.Allow(flood)
	require.False(t, ok, "the burst of failures is used up")
	require.Greater(t, wait, time.Duration(0))
	require.LessOrEqual(t, wait, time.Minute/DefaultFailuresPerMinute, "one failure refills every 6 s")

	err := l.Check(flood)
	require.Equal(t, domain.KindAuthRateLimited, domain.KindOf(err))
	require.Equal(t, wait, domain.As(err).RetryAfter)

	ok, _ = l.Allow(bystander)
	require.True(t, ok, "another address is unaffected")
	require.NoError(t, l.Check(bystander))

	clock.Advance(wait)
	ok, _ = l.Allow(flood)
	require.True(t, ok, "allowed again once retryAfter has passed")
	l.Fail(flood)
	ok, _ = l.Allow(flood)
	require.False(t, ok, "but only for one more failure")
}

func TestRateLimiterCountsOnlyFailures(t *testing.T) {
	l, _ := newLimiter(t, RateLimitConfig{Burst: 2})
	for range 100 {
		ok, _ := l.Allow("192.0.2.1")
		require.True(t, ok, "asking is free; only Fail spends")
	}
	l.Fail("192.0.2.1")
	ok, _ := l.Allow("192.0.2.1")
	require.True(t, ok)
	l.Fail("192.0.2.1")
	ok, _ = l.Allow("192.0.2.1")
	require.False(t, ok)
}

func TestRateLimiterGroupsAddresses(t *testing.T) {
	l, _ := newLimiter(t, RateLimitConfig{Burst: 1})
	l.Fail("2001:db8:1:2::1")
	ok, _ := l.Allow("2001:db8:1:2:ffff::9")
	require.False(t, ok, "one IPv6 /64 is one client")
	ok, _ = l.Allow("2001:db8:1:3::1")
	require.True(t, ok, "the next /64 is another")

	l.Fail("192.0.2.1:51234")
	ok, _ = l.Allow("192.0.2.1")
	require.False(t, ok, "the port does not make a new client")
	ok, _ = l.Allow("::ffff:192.0.2.1")
	require.False(t, ok, "nor does the IPv4-mapped form")
}

func TestRateLimiterIsBounded(t *testing.T) {
	l, _ := newLimiter(t, RateLimitConfig{Burst: 1, Size: 2})
	l.Fail("192.0.2.1")
	l.Fail("192.0.2.2")
	l.Fail("192.0.2.3")
	require.Equal(t, 2, l.addrs.Len())
	ok, _ := l.Allow("192.0.2.1")
	require.True(t, ok, "the least recent address was forgotten")
}
