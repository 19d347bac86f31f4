// Package podium is the gateway's adapter to Podium, the agent runtime: it
// implements ports.AgentRuntime over Podium's REST API and its per-instance
// WebSocket stream, and ports.Workspace over Podium's file routes (Chronicle
// behind them), with timeouts, retries of idempotent calls and one circuit
// breaker. The wire it assumes is written down in docs/upstreams.md;
// podiumsim serves the same wire.
package podium

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/diminuendo/diminuendo/adapters/upstream"
	"github.com/diminuendo/diminuendo/ports"
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
	// Dump, when set, records every stream frame (DEBUG_DUMP=podium).
	Dump FrameDump
	// Cache, when set, keeps the last agent-type listing across restarts.
	Cache Cache
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
	// AgentTypesTTL is how long a listing of deployments is served before
	// Podium is asked again (default 30s): deployments change on a release,
	// not per request.
	AgentTypesTTL time.Duration
}

// defaults are Podium's figures (docs/upstreams.md, Resilience).
var defaults = upstream.Config{
	Timeout: 10 * time.Second, MaxAttempts: 4, RetryInitial: 100 * time.Millisecond, RetryMax: 2 * time.Second,
	BreakerFailures: 5, BreakerCooldown: 5 * time.Second,
	// A full page of 1000 events, each possibly a large text delta, with
	// room to spare.
	MaxResponse: 64 << 20,
}

// Adapter talks to one Podium.
type Adapter struct {
	cfg   Config
	up    *upstream.Client
	log   *slog.Logger
	types agentTypeCache
}

// New returns an adapter for cfg. client carries the transport (nil: a
// client of its own); the per-attempt Timeout is applied through contexts,
// so the client needs no Timeout of its own.
func New(cfg Config, client *http.Client) (*Adapter, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("upstream", "podium")
	up, err := upstream.New(upstream.Config{
		Service: "podium", BaseURL: cfg.BaseURL, APIKey: cfg.APIKey, Timeout: cfg.Timeout, Logger: log,
		MaxAttempts: cfg.MaxAttempts, RetryInitial: cfg.RetryInitial, RetryMax: cfg.RetryMax,
		BreakerFailures: cfg.BreakerFailures, BreakerCooldown: cfg.BreakerCooldown,
	}, defaults, client)
	if err != nil {
		return nil, err
	}
	if cfg.AgentTypesTTL <= 0 {
		cfg.AgentTypesTTL = 30 * time.Second
	}
	if cfg.ChronicleURL != "" {
		log.Info("CHRONICLE_URL is set; workspace files still go through Podium", "chronicle_url", cfg.ChronicleURL)
	}
	return &Adapter{cfg: cfg, up: up, log: log}, nil
}

// get reads one of Podium's routes. Reads are always safe to retry.
func get[T any](ctx context.Context, a *Adapter, q url.Values, path ...string) (T, error) {
	return upstream.CallJSON[T](ctx, a.up, true, upstream.Request{Method: http.MethodGet, Path: path, Query: q})
}

// instancePath is the route of an instance, or of rest below it.
func instancePath(instanceID string, rest ...string) []string {
	return append([]string{"api", "v1", "instances", instanceID}, rest...)
}
