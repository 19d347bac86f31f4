// Package ensemble is the gateway's adapter to Ensemble, the inference
// gateway. The gateway runs no model itself; it needs Ensemble only for the
// model catalog (ports.ModelCatalog), which this adapter caches and
// refreshes in the background, and for health. Calls carry timeouts,
// retries with backoff and one circuit breaker. The wire it assumes is in
// docs/upstreams.md; ensemblesim serves the same wire.
package ensemble

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/diminuendo/diminuendo/adapters/upstream"
	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
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
	// Cache, when set, keeps the last good catalog across restarts, so a
	// restart while Ensemble is down still lists the models.
	Cache Cache

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

// defaults hands the Default* figures above to the shared caller.
var defaults = upstream.Config{
	Timeout: DefaultTimeout, MaxAttempts: DefaultMaxAttempts, RetryInitial: DefaultRetryInitial, RetryMax: DefaultRetryMax,
	BreakerFailures: DefaultBreakerFailures, BreakerCooldown: DefaultBreakerCooldown,
	// A catalog of thousands of models fits many times over.
	MaxResponse: 8 << 20,
}

// Adapter talks to one Ensemble and keeps its catalog.
type Adapter struct {
	cfg Config
	up  *upstream.Client
	log *slog.Logger

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
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = DefaultRefreshInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("upstream", "ensemble")
	up, err := upstream.New(upstream.Config{
		Service: "ensemble", BaseURL: cfg.BaseURL, APIKey: cfg.APIKey, Timeout: cfg.Timeout, Logger: log,
		MaxAttempts: cfg.MaxAttempts, RetryInitial: cfg.RetryInitial, RetryMax: cfg.RetryMax,
		BreakerFailures: cfg.BreakerFailures, BreakerCooldown: cfg.BreakerCooldown,
	}, defaults, client)
	if err != nil {
		return nil, err
	}
	return &Adapter{cfg: cfg, up: up, log: log, fetching: make(chan struct{}, 1)}, nil
}

// toDomain maps a failure to the domain error the app understands. Ensemble
// gives no refusal a meaning of its own: every 4xx but 401, 403 and 429 is
// "ensemble rejected the request" (upstream.Client.ToDomain).
func (a *Adapter) toDomain(err error) error { return a.up.ToDomain(err, nil) }
