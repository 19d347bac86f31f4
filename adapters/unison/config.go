package unison

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
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

const (
	defaultTimeout         = 5 * time.Second
	defaultMaxAttempts     = 3
	defaultRetryBase       = 100 * time.Millisecond
	defaultRetryMax        = 2 * time.Second
	defaultBreakerFailures = 5
	defaultBreakerCooldown = 10 * time.Second
)

func (c Config) withDefaults() (Config, error) {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, errors.New("unison: BaseURL must be an absolute http(s) URL")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return c, errors.New("unison: BaseURL must not carry a query or fragment")
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Timeout <= 0 {
		c.Timeout = defaultTimeout
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = defaultMaxAttempts
	}
	if c.RetryBase <= 0 {
		c.RetryBase = defaultRetryBase
	}
	if c.RetryMax < c.RetryBase {
		c.RetryMax = max(defaultRetryMax, c.RetryBase)
	}
	if c.BreakerFailures == 0 {
		c.BreakerFailures = defaultBreakerFailures
	}
	if c.BreakerCooldown <= 0 {
		c.BreakerCooldown = defaultBreakerCooldown
	}
	return c, nil
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
