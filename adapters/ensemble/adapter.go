// Package ensemble is the gateway's adapter to Ensemble, the inference
// gateway. The gateway runs no model itself; it needs Ensemble only for the
// model catalog (ports.ModelCatalog), which this adapter caches and
// refreshes in the background, and for health. Calls carry timeouts,
// retries with backoff and one circuit breaker. The wire it assumes is in
// docs/upstreams.md; ensemblesim serves the same wire.
package ensemble

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"diminuendo/domain"
	"diminuendo/ports"
)

var _ ports.ModelCatalog = (*Adapter)(nil)

// Config configures the adapter. Zero values take the defaults below.
type Config struct {
	// BaseURL is Ensemble's REST root, e.g. "http://127.0.0.1:5180".
	BaseURL string
	// APIKey is sent as a bearer token on every call but health; never logged.
	APIKey string
	// Timeout bounds one attempt of a request (default 5s).
	Timeout time.Duration
	// RefreshInterval is the pause between background refreshes of the
	// catalog (default 5m).
	RefreshInterval time.Duration
	// Logger receives the adapter's logs (slog.Default() when nil).
	Logger *slog.Logger

	// MaxAttempts bounds the tries of one fetch (default 3).
	MaxAttempts int
	// RetryInitial is the first backoff pause, doubled per retry with
	// jitter up to RetryMax (defaults 100ms and 2s).
	RetryInitial time.Duration
	RetryMax     time.Duration
	// BreakerFailures consecutive failed attempts open the breaker
	// (default 5); it stays open BreakerCooldown (default 30s).
	BreakerFailures uint32
	BreakerCooldown time.Duration
}

// Defaults of Config.
const (
	DefaultTimeout         = 5 * time.Second
	DefaultRefreshInterval = 5 * time.Minute
	DefaultMaxAttempts     = 3
	DefaultRetryInitial    = 100 * time.Millisecond
	DefaultRetryMax        = 2 * time.Second
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = 30 * time.Second
)

// Adapter talks to one Ensemble and keeps its catalog.
type Adapter struct {
	cfg     Config
	base    *url.URL
	client  *http.Client
	log     *slog.Logger
	breaker *gobreaker.CircuitBreaker[any]

	// fetching admits one catalog fetch at a time, so a cold cache met by
	// many callers costs Ensemble one request, not one per caller.
	fetching chan struct{}

	mu        sync.RWMutex
	models    []domain.Model
	loaded    bool
	fetchedAt time.Time

	runMu  sync.Mutex
	cancel func()
	done   chan struct{}
}

// New returns a stopped adapter for cfg. client carries the transport (nil:
// a client of its own); per-attempt timeouts are applied through contexts.
func New(cfg Config, client *http.Client) (*Adapter, error) {
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, errors.New("ensemble: BaseURL must be an absolute http(s) URL")
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, errors.New("ensemble: BaseURL must not carry a query or fragment")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = DefaultRefreshInterval
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.RetryInitial <= 0 {
		cfg.RetryInitial = DefaultRetryInitial
	}
	if cfg.RetryMax < cfg.RetryInitial {
		cfg.RetryMax = max(DefaultRetryMax, cfg.RetryInitial)
	}
	if cfg.BreakerFailures == 0 {
		cfg.BreakerFailures = DefaultBreakerFailures
	}
	if cfg.BreakerCooldown <= 0 {
		cfg.BreakerCooldown = DefaultBreakerCooldown
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if client == nil {
		client = &http.Client{}
	}
	a := &Adapter{cfg: cfg, base: base, client: client, log: cfg.Logger.With("upstream", "ensemble"), fetching: make(chan struct{}, 1)}
	a.breaker = newBreaker(cfg, a.log)
	return a, nil
}

// endpoint is a fixed route below the base URL, which may carry a prefix.
func (a *Adapter) endpoint(route string) string {
	u := *a.base
	u.Path = a.base.Path + route
	u.RawPath = ""
	return u.String()
}
