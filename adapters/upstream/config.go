package upstream

import (
	"log/slog"
	"time"
)

// Config describes one upstream service and the resilience policy for it.
type Config struct {
	// Service names the upstream in errors ("podium is unavailable"),
	// logs and the breaker.
	Service string
	// BaseURL is the service's root. It may carry a path prefix, which is
	// kept, but no query or fragment.
	BaseURL string
	// APIKey is sent as a bearer token on every call but health; it is
	// never logged.
	APIKey string
	// Timeout bounds one attempt; the caller's context bounds the call.
	Timeout time.Duration
	// MaxAttempts bounds the tries of a call that may be repeated.
	MaxAttempts int
	// RetryInitial is the first pause between attempts, doubled per retry
	// with ±50 % jitter, up to RetryMax.
	RetryInitial time.Duration
	RetryMax     time.Duration
	// BreakerFailures consecutive failed attempts open the breaker; it
	// stays open BreakerCooldown, then lets one trial call through.
	BreakerFailures uint32
	BreakerCooldown time.Duration
	// MaxResponse bounds an answer's body; a longer one is a failed attempt.
	MaxResponse int64
	// HonourRetryAfter makes the Retry-After (in seconds) of a 5xx or 429
	// the next pause when it is at most RetryMax; a longer one ends the
	// call at once, and its domain error carries it.
	HonourRetryAfter bool
	// Logger receives breaker changes and retries; nil logs nothing.
	Logger *slog.Logger
}

// withDefaults fills the tuning fields c leaves unset (zero, or a negative
// duration) from d. A RetryMax below RetryInitial is unset too.
func (c Config) withDefaults(d Config) Config {
	if c.Timeout <= 0 {
		c.Timeout = d.Timeout
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = d.MaxAttempts
	}
	if c.RetryInitial <= 0 {
		c.RetryInitial = d.RetryInitial
	}
	if c.RetryMax < c.RetryInitial {
		c.RetryMax = max(d.RetryMax, c.RetryInitial)
	}
	if c.BreakerFailures == 0 {
		c.BreakerFailures = d.BreakerFailures
	}
	if c.BreakerCooldown <= 0 {
		c.BreakerCooldown = d.BreakerCooldown
	}
	if c.MaxResponse <= 0 {
		c.MaxResponse = d.MaxResponse
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// complete reports whether every figure the client works with is set: a
// zero timeout or body bound would fail every call.
func (c Config) complete() bool {
	return c.Timeout > 0 && c.MaxAttempts > 0 && c.RetryInitial > 0 && c.RetryMax > 0 &&
		c.BreakerFailures > 0 && c.BreakerCooldown > 0 && c.MaxResponse > 0
}
