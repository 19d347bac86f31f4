// Package config reads the gateway's configuration from the environment (and
// a .env file when present). A bad value stops startup with one line naming
// the variable and what is wrong with it.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/joho/godotenv"
)

// Config is every setting of the gateway. Secrets are never printed: see Redacted.
type Config struct {
	Port     int    `env:"PORT" envDefault:"8080"`
	Host     string `env:"HOST" envDefault:"0.0.0.0"`
	DevMode  bool   `env:"DEV_MODE" envDefault:"false"`
	LogLevel string `env:"LOG_LEVEL" envDefault:"info"`
	DataDir  string `env:"DATA_DIR" envDefault:"./data"`
	// LogFormat is json or text; empty means text in dev mode, json otherwise.
	LogFormat string `env:"LOG_FORMAT"`
	// Log files under DATA_DIR/logs rotate at LOG_FILE_MAX_MB, keeping
	// LOG_FILE_BACKUPS compressed files for at most LOG_FILE_MAX_AGE_DAYS.
	LogFileMaxMB      int `env:"LOG_FILE_MAX_MB" envDefault:"100"`
	LogFileBackups    int `env:"LOG_FILE_BACKUPS" envDefault:"5"`
	LogFileMaxAgeDays int `env:"LOG_FILE_MAX_AGE_DAYS" envDefault:"7"`
	// DebugDump names the frame channels dumped under DATA_DIR/debug
	// (podium, ws), each bounded by DEBUG_DUMP_MAX_MB and kept a day.
	DebugDump      []string `env:"DEBUG_DUMP" envSeparator:","`
	DebugDumpMaxMB int      `env:"DEBUG_DUMP_MAX_MB" envDefault:"50"`
	// DevModeAllowRemote lets dev mode bind a non-loopback address.
	DevModeAllowRemote bool     `env:"DEV_MODE_ALLOW_REMOTE" envDefault:"false"`
	AllowedOrigins     []string `env:"ALLOWED_ORIGINS" envSeparator:","`

	Auth0Domain   string `env:"AUTH0_DOMAIN"`
	Auth0ClientID string `env:"AUTH0_CLIENT_ID"`
	Auth0Audience string `env:"AUTH0_AUDIENCE"`
	// Auth0TenantClaim names a namespaced claim holding the tenant, read
	// besides Auth0 Organizations' org_id; Auth0RoleClaim the role's.
	Auth0TenantClaim string `env:"AUTH0_TENANT_CLAIM"`
	Auth0RoleClaim   string `env:"AUTH0_ROLE_CLAIM" envDefault:"https://diminuendo.dev/role"`
	// AuthTimeout is how long a WebSocket client has to authenticate
	// before it is closed with 4001.
	AuthTimeout time.Duration `env:"AUTH_TIMEOUT" envDefault:"10s"`
	// AuthExpiryWarning is how long before a token's exp a live socket
	// gets auth_expiring.
	AuthExpiryWarning time.Duration `env:"AUTH_EXPIRY_WARNING" envDefault:"60s"`
	// Failed authentications allowed per client address (see docs/auth.md).
	AuthFailuresPerMinute int `env:"AUTH_FAILURES_PER_MINUTE" envDefault:"10"`
	AuthFailureBurst      int `env:"AUTH_FAILURE_BURST" envDefault:"5"`

	PodiumURL        string `env:"PODIUM_URL"`
	PodiumAPIKey     string `env:"PODIUM_API_KEY"`
	PodiumSecretsKey string `env:"PODIUM_SECRETS_KEY"`
	EnsembleURL      string `env:"ENSEMBLE_URL"`
	EnsembleAPIKey   string `env:"ENSEMBLE_API_KEY"`
	UnisonURL        string `env:"UNISON_URL"`
	UnisonAPIKey     string `env:"UNISON_API_KEY"`
	ChronicleURL     string `env:"CHRONICLE_URL"`

	// PodiumBreakerCooldown is how long Podium's circuit breaker stays open
	// before one probe may pass; it is also how long the gateway refuses
	// turns after Podium comes back from an outage.
	PodiumBreakerCooldown time.Duration `env:"PODIUM_BREAKER_COOLDOWN" envDefault:"5s"`

	OTLPEndpoint string `env:"OTEL_EXPORTER_OTLP_ENDPOINT"`
	// MetricsAddr serves /metrics on its own listener (e.g. 127.0.0.1:9090)
	// instead of the client-facing port.
	MetricsAddr string `env:"METRICS_ADDR"`
	ServiceName string `env:"OTEL_SERVICE_NAME" envDefault:"diminuendo-gateway"`

	// Budgets (DESIGN.md): going over one is a clear refusal.
	MaxConnections    int `env:"MAX_CONNECTIONS" envDefault:"10000"`
	MaxActiveSessions int `env:"MAX_ACTIVE_SESSIONS" envDefault:"5000"`
	// MemoryLimit is the instance's memory budget, applied as the Go
	// runtime's soft limit unless GOMEMLIMIT is set.
	MemoryLimit ByteSize `env:"MEMORY_LIMIT" envDefault:"2GiB"`
	// Per-tenant and per-user shares of the instance's budgets, so one
	// tenant cannot take them all (0: no cap). A single-tenant deployment
	// sets the tenant caps to the instance's.
	MaxActiveSessionsPerTenant int `env:"MAX_ACTIVE_SESSIONS_PER_TENANT" envDefault:"1250"`
	MaxConnectionsPerTenant    int `env:"MAX_CONNECTIONS_PER_TENANT" envDefault:"2500"`
	MaxConnectionsPerUser      int `env:"MAX_CONNECTIONS_PER_USER" envDefault:"100"`
	// SessionMaxSubscribers caps the connections (WebSocket joins and event
	// streams) attached to one session; SessionMaxSubscribersPerUser caps
	// one user's among them, so no one can fill a session.
	SessionMaxSubscribers        int           `env:"SESSION_MAX_SUBSCRIBERS" envDefault:"256"`
	SessionMaxSubscribersPerUser int           `env:"SESSION_MAX_SUBSCRIBERS_PER_USER" envDefault:"16"`
	IdleTimeout                  time.Duration `env:"SESSION_IDLE_TIMEOUT" envDefault:"30m"`
	RateLimitMessages            int           `env:"WS_RATE_LIMIT" envDefault:"60"`
	RateLimitWindow              time.Duration `env:"WS_RATE_WINDOW" envDefault:"10s"`
	// OutboxBytes bounds what may wait to be written to one connection;
	// a client that lets more pile up is cut off with 4008 and resumes.
	OutboxBytes int `env:"WS_OUTBOX_BYTES" envDefault:"1048576"`
	// RESTRateLimit requests per RESTRateWindow per identity: by default
	// the WebSocket's rate, so the REST twins of the messages are no way
	// around it.
	RESTRateLimit  int           `env:"REST_RATE_LIMIT" envDefault:"60"`
	RESTRateWindow time.Duration `env:"REST_RATE_WINDOW" envDefault:"10s"`
	ShutdownDrain  time.Duration `env:"SHUTDOWN_DRAIN" envDefault:"10s"`
	// HTTPReadTimeout bounds reading one request, headers and body: a client
	// trickling a body cannot hold a connection longer. Event streams and
	// WebSockets lift it once the request is read.
	HTTPReadTimeout time.Duration `env:"HTTP_READ_TIMEOUT" envDefault:"30s"`
	// ReplayWindowEvents bounds each live session's replay window; an older
	// cursor is served from Podium's history instead.
	ReplayWindowEvents int `env:"REPLAY_WINDOW_EVENTS" envDefault:"1000"`
	// ProbeInterval is how often each upstream's health is probed: a
	// dependency that goes down shows in /api/health within one interval.
	ProbeInterval time.Duration `env:"PROBE_INTERVAL" envDefault:"5s"`
	// HeartbeatInterval paces the heartbeat event on every connection.
	HeartbeatInterval time.Duration `env:"WS_HEARTBEAT_INTERVAL" envDefault:"30s"`
	// SimStepDelay paces the embedded simulators' scripted agents.
	SimStepDelay time.Duration `env:"SIM_STEP_DELAY" envDefault:"20ms"`
}

// Load reads .env (if present, without overriding the real environment) and
// then the environment.
func Load() (Config, error) {
	if err := godotenv.Load(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Config{}, fmt.Errorf(".env: %v", err)
	}
	return Parse(os.Environ())
}

// Parse reads the configuration from environ ("K=V" pairs) and validates it.
func Parse(environ []string) (Config, error) {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	cfg, err := env.ParseAsWithOptions[Config](env.Options{Environment: m})
	if err != nil {
		return Config{}, oneLine(err)
	}
	return cfg, cfg.Validate()
}

// oneLine reduces env's aggregate error to its first failure, named by the
// variable rather than the Go field.
func oneLine(err error) error {
	var agg env.AggregateError
	if errors.As(err, &agg) && len(agg.Errors) > 0 {
		err = agg.Errors[0]
	}
	var pe env.ParseError
	if errors.As(err, &pe) {
		if f, ok := reflect.TypeOf(Config{}).FieldByName(pe.Name); ok {
			msg := pe.Err.Error()
			if i := strings.LastIndex(msg, ": "); i >= 0 {
				msg = msg[i+2:]
			}
			return fmt.Errorf("%s: not a valid %s (%s)", f.Tag.Get("env"), pe.Type, msg)
		}
	}
	return err
}

// Validate checks the values env parsing cannot.
func (c Config) Validate() error {
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("PORT: %d is not a TCP port (0-65535)", c.Port)
	}
	if net.ParseIP(c.Host) == nil && c.Host != "localhost" {
		return fmt.Errorf("HOST: %q is not an IP address or localhost", c.Host)
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "warning", "error":
	default:
		return fmt.Errorf("LOG_LEVEL: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	for name, v := range map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": c.OTLPEndpoint, "PODIUM_URL": c.PodiumURL, "ENSEMBLE_URL": c.EnsembleURL, "UNISON_URL": c.UnisonURL, "CHRONICLE_URL": c.ChronicleURL} {
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s: %q is not an http(s) URL", name, v)
		}
	}
	for _, o := range c.AllowedOrigins {
		u, err := url.Parse(strings.TrimSpace(o))
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("ALLOWED_ORIGINS: %q is not an origin like https://app.example.com", o)
		}
	}
	if (c.PodiumURL == "") != (c.UnisonURL == "") {
		return errors.New("PODIUM_URL and UNISON_URL: set both for real upstreams, or neither for the embedded simulators")
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("METRICS_ADDR: %q is not host:port", c.MetricsAddr)
		}
	}
	if c.ProbeInterval <= 0 || c.HeartbeatInterval <= 0 {
		return errors.New("PROBE_INTERVAL and WS_HEARTBEAT_INTERVAL: must be positive")
	}
	if c.EnsembleAPIKey != "" && c.PodiumSecretsKey == "" {
		return errors.New("PODIUM_SECRETS_KEY: required to forward ENSEMBLE_API_KEY to agents; secrets are never sent in clear")
	}
	if !c.DevMode && c.PodiumURL != "" && c.EnsembleURL == "" {
		return errors.New("ENSEMBLE_URL: required with real upstreams outside dev mode (dev mode simulates a missing one)")
	}
	if c.DevMode && !c.DevModeAllowRemote && !IsLoopback(c.Host) {
		return fmt.Errorf("DEV_MODE: refusing to bind %s with authentication bypassed; bind 127.0.0.1 or set DEV_MODE_ALLOW_REMOTE=true", c.Host)
	}
	if !c.DevMode && c.Auth0Domain == "" {
		return errors.New("AUTH0_DOMAIN: required unless DEV_MODE=true")
	}
	if !c.DevMode && c.Auth0Audience == "" {
		return errors.New("AUTH0_AUDIENCE: required unless DEV_MODE=true")
	}
	if c.AuthTimeout <= 0 {
		return fmt.Errorf("AUTH_TIMEOUT: %s must be positive", c.AuthTimeout)
	}
	if c.AuthExpiryWarning < 0 {
		return fmt.Errorf("AUTH_EXPIRY_WARNING: %s must not be negative", c.AuthExpiryWarning)
	}
	if c.AuthFailuresPerMinute < 1 || c.AuthFailureBurst < 1 {
		return errors.New("AUTH_FAILURES_PER_MINUTE and AUTH_FAILURE_BURST: must be at least 1")
	}
	if c.MaxConnections < 1 || c.MaxActiveSessions < 1 {
		return errors.New("MAX_CONNECTIONS and MAX_ACTIVE_SESSIONS: must be at least 1")
	}
	if c.PodiumBreakerCooldown <= 0 {
		return errors.New("PODIUM_BREAKER_COOLDOWN: must be positive")
	}
	if c.ReplayWindowEvents < 1 {
		return errors.New("REPLAY_WINDOW_EVENTS: must be at least 1")
	}
	if c.RateLimitMessages < 1 || c.RateLimitWindow <= 0 {
		return errors.New("WS_RATE_LIMIT and WS_RATE_WINDOW: must be positive")
	}
	if c.OutboxBytes < 4096 {
		return errors.New("WS_OUTBOX_BYTES: must be at least 4096")
	}
	return c.validateOps()
}

// Embedded reports whether the gateway runs its own simulated upstreams.
func (c Config) Embedded() bool { return c.PodiumURL == "" }

// Addr is the listen address.
func (c Config) Addr() string { return net.JoinHostPort(c.Host, fmt.Sprint(c.Port)) }

// IsLoopback reports whether host names only this machine.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
