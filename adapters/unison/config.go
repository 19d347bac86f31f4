package unison

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/diminuendo/diminuendo/adapters/upstream"
)

// Config locates Unison. Only BaseURL is required; zero tuning fields take
// the defaults below, which the public docs leave to us.
type Config struct {
	BaseURL string
	APIKey  string
	// Timeout bounds each attempt, not the whole retried call.
	Timeout time.Duration

	// MaxAttempts is the number of tries of a retryable call.
	MaxAttempts int
	// RetryBase and RetryMax shape the jittered exponential backoff.
	RetryBase time.Duration
	RetryMax  time.Duration
	// BreakerFailures consecutive failures open the breaker for BreakerCooldown.
	BreakerFailures uint32
	BreakerCooldown time.Duration
}

// defaults are the figures the public docs leave to us (docs/upstreams.md).
var defaults = upstream.Config{
	Timeout: 5 * time.Second, MaxAttempts: 3, RetryInitial: 100 * time.Millisecond, RetryMax: 2 * time.Second,
	BreakerFailures: 5, BreakerCooldown: 10 * time.Second,
	// A full page of maximal values.
	MaxResponse: 128 << 20,
}

// String keeps the API key out of anything that prints a Config.
func (c Config) String() string {
	key := ""
	if c.APIKey != "" {
		key = "[redacted]"
	}
	return fmt.Sprintf("unison.Config{BaseURL:%q APIKey:%s Timeout:%s}", c.BaseURL, key, c.Timeout)
}

// LogValue keeps the API key out of structured logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("baseURL", c.BaseURL),
		slog.Bool("apiKeySet", c.APIKey != ""),
		slog.Duration("timeout", c.Timeout),
	)
}

// GoString covers %#v, which would otherwise print every field.
func (c Config) GoString() string { return c.String() }
