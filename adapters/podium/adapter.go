// Package podium is the gateway's adapter to Podium, the agent runtime: it
// implements ports.AgentRuntime over Podium's REST API and its per-instance
// WebSocket stream, and ports.Workspace over Podium's file routes (Chronicle
// behind them), with timeouts, retries of idempotent calls and one circuit
// breaker. The wire it assumes is written down in docs/upstreams.md;
// podiumsim serves the same wire.
package podium

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"

	"diminuendo/ports"
)

var _ ports.AgentRuntime = (*Adapter)(nil)

// Config configures the adapter. Zero values take the defaults below.
type Config struct {
	// BaseURL is Podium's gateway, e.g. "http://127.0.0.1:5082".
	BaseURL string
	// APIKey is sent as a bearer token on every request; it is never logged.
	APIKey string
	// SecretsKey seals the secrets forwarded to instances (AES-256-GCM, key
	// = SHA-256 of this string). Without it, secrets are refused.
	SecretsKey string
	// Timeout bounds one attempt of a request (default 10s).
	Timeout time.Duration
	// ChronicleURL is CHRONICLE_URL, the future direct route to workspace
	// files. It is only recorded: files keep going through Podium, which
	// maps an instance to its workspace (docs/upstreams.md, Chronicle).
	ChronicleURL string

	// Logger receives the adapter's logs (slog.Default() when nil).
	Logger *slog.Logger
	// MaxAttempts bounds the tries of an idempotent request (default 4).
	MaxAttempts int
	// RetryInitial is the first backoff pause, doubled per retry with
	// jitter (default 100ms, at most RetryMax, default 2s).
	RetryInitial time.Duration
	RetryMax     time.Duration
	// BreakerFailures consecutive failed attempts open the breaker
	// (default 5); it stays open BreakerCooldown (default 5s) before one
	// probe may pass.
	BreakerFailures uint32
	BreakerCooldown time.Duration
}

// Adapter talks to one Podium.
type Adapter struct {
	cfg     Config
	base    *url.URL
	client  *http.Client
	log     *slog.Logger
	breaker *gobreaker.CircuitBreaker[any]
}

// New returns an adapter for cfg. client carries the transport (nil: a
// client of its own); the per-attempt Timeout is applied through contexts,
// so the client needs no Timeout of its own.
func New(cfg Config, client *http.Client) (*Adapter, error) {
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, errors.New("podium: BaseURL must be an absolute http(s) URL")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 4
	}
	if cfg.RetryInitial <= 0 {
		cfg.RetryInitial = 100 * time.Millisecond
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 2 * time.Second
	}
	if cfg.BreakerFailures == 0 {
		cfg.BreakerFailures = 5
	}
	if cfg.BreakerCooldown <= 0 {
		cfg.BreakerCooldown = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if client == nil {
		client = &http.Client{}
	}
	a := &Adapter{cfg: cfg, base: base, client: client, log: cfg.Logger.With("upstream", "podium")}
	a.breaker = newBreaker(cfg, a.log)
	if cfg.ChronicleURL != "" {
		a.log.Info("CHRONICLE_URL is set; workspace files still go through Podium", "chronicle_url", cfg.ChronicleURL)
	}
	return a, nil
}

// endpoint joins path segments below the base URL (which may carry a
// prefix of its own). Segments are escaped, so an instance id can never
// reach another route.
func (a *Adapter) endpoint(q url.Values, segments ...string) string {
	u := *a.base
	esc := make([]string, len(segments))
	for i, s := range segments {
		esc[i] = url.PathEscape(s)
	}
	u.Path = a.base.Path + "/" + strings.Join(segments, "/")
	u.RawPath = a.base.EscapedPath() + "/" + strings.Join(esc, "/")
	u.RawQuery = q.Encode()
	return u.String()
}
