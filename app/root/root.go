// Package root is the composition root: it wires every adapter to its port
// with fx, one module per adapter, and is the only package that knows them all.
package root

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"diminuendo/adapters/auth"
	"diminuendo/adapters/ensemble"
	"diminuendo/adapters/ensemble/ensemblesim"
	httpadapter "diminuendo/adapters/http"
	"diminuendo/adapters/podium"
	"diminuendo/adapters/podium/podiumsim"
	"diminuendo/adapters/probe"
	"diminuendo/adapters/telemetry"
	"diminuendo/adapters/unison"
	"diminuendo/adapters/unison/unisonsim"
	"diminuendo/adapters/ws"
	"diminuendo/app"
	"diminuendo/app/config"
	"diminuendo/ports"
)

// Version is the server version reported to clients.
var Version = "0.1.0"

// Options builds the whole gateway for cfg. Tests append fx.Decorate or
// fx.Replace options to swap adapters at the root.
func Options(cfg config.Config) fx.Option {
	return fx.Options(
		fx.Supply(cfg),
		fx.Provide(NewLogger),
		fx.WithLogger(func(l *slog.Logger) fxevent.Logger {
			// The graph's wiring is debug detail; failures still log as errors.
			fl := &fxevent.SlogLogger{Logger: l.With("component", "fx")}
			fl.UseLogLevel(slog.LevelDebug)
			return fl
		}),
		// The WebSocket drain must finish inside fx's stop timeout.
		fx.StopTimeout(cfg.ShutdownDrain+10*time.Second),
		tracingModule,
		upstreamsModule,
		podiumModule,
		unisonModule,
		ensembleModule,
		authModule,
		appModule,
		wsModule,
		telemetryModule,
		httpModule,
		fx.Invoke(warnDevMode),
	)
}

// New returns the gateway application.
func New(cfg config.Config, extra ...fx.Option) *fx.App {
	return fx.New(Options(cfg), fx.Options(extra...))
}

// NewLogger logs JSON in production and text in dev mode, at LOG_LEVEL.
func NewLogger(cfg config.Config) *slog.Logger {
	var lvl slog.Level
	switch strings.ToLower(cfg.LogLevel) {
	case "debug":
		lvl = slog.LevelDebug
	case "warn", "warning":
		lvl = slog.LevelWarn
	case "error":
		lvl = slog.LevelError
	default:
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.DevMode {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// Upstreams are the platform service URLs the adapters talk to: the
// configured ones, or the embedded simulators' loopback addresses.
type Upstreams struct {
	PodiumURL   string
	UnisonURL   string
	EnsembleURL string
	Embedded    bool
}

var upstreamsModule = fx.Module("upstreams",
	fx.Provide(newUpstreams),
)

// newUpstreams starts the simulators in-process when no upstream URL is
// configured, so that every dev run exercises the real adapters over the wire.
func newUpstreams(lc fx.Lifecycle, cfg config.Config, log *slog.Logger) (Upstreams, error) {
	up := Upstreams{PodiumURL: cfg.PodiumURL, UnisonURL: cfg.UnisonURL, EnsembleURL: cfg.EnsembleURL, Embedded: cfg.Embedded()}
	var closers []func()
	stop := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	if up.Embedded {
		psim := podiumsim.New(podiumsim.Options{APIKey: cfg.PodiumAPIKey, SecretsKey: cfg.PodiumSecretsKey, StepDelay: cfg.SimStepDelay})
		purl, err := psim.Start("127.0.0.1:0")
		if err != nil {
			return up, err
		}
		closers = append(closers, psim.Close)
		usim := unisonsim.New(unisonsim.Options{APIKey: cfg.UnisonAPIKey})
		uurl, err := usim.Start("127.0.0.1:0")
		if err != nil {
			stop()
			return up, err
		}
		closers = append(closers, usim.Close)
		up.PodiumURL, up.UnisonURL = purl, uurl
	}
	// Config validation requires ENSEMBLE_URL outside dev mode when the
	// other upstreams are real; in dev mode a missing one is simulated.
	if up.EnsembleURL == "" {
		esim := ensemblesim.New(ensemblesim.Options{APIKey: cfg.EnsembleAPIKey})
		eurl, err := esim.Start("127.0.0.1:0")
		if err != nil {
			stop()
			return up, err
		}
		closers = append(closers, esim.Close)
		up.EnsembleURL = eurl
	}
	if len(closers) > 0 {
		log.Info("embedded simulators started", "podium", up.PodiumURL, "unison", up.UnisonURL, "ensemble", up.EnsembleURL)
	}
	lc.Append(fx.StopHook(stop))
	return up, nil
}

// probeConfig is the background health probing of every upstream: one
// probe interval is how long a dependency may be down before /api/health
// turns degraded.
func probeConfig(cfg config.Config, log *slog.Logger) probe.Config {
	return probe.Config{Interval: cfg.ProbeInterval, Logger: log}
}

// probed registers p's lifecycle: a first verdict before traffic, then
// polling in the background.
func probed(lc fx.Lifecycle, p *probe.Prober) ports.HealthChecker {
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			p.Check(ctx)
			p.Start(context.Background())
			return nil
		},
		OnStop: func(context.Context) error { p.Stop(); return nil },
	})
	return p
}

// upstreamClient is the HTTP client of the upstream adapters: pooled
// keep-alive connections, per-request timeouts set by each adapter.
func upstreamClient(tr *telemetry.Tracing) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: tr.Transport(t)}
}

var podiumModule = fx.Module("podium",
	fx.Provide(fx.Annotate(
		func(cfg config.Config, up Upstreams, tr *telemetry.Tracing, log *slog.Logger) (*podium.Adapter, error) {
			return podium.New(podium.Config{BaseURL: up.PodiumURL, APIKey: cfg.PodiumAPIKey, SecretsKey: cfg.PodiumSecretsKey,
				ChronicleURL: cfg.ChronicleURL, BreakerCooldown: cfg.PodiumBreakerCooldown, Logger: log}, upstreamClient(tr))
		},
		fx.As(fx.Self()), fx.As(new(ports.AgentRuntime)), fx.As(new(ports.Workspace)),
	)),
	fx.Provide(fx.Annotate(func(lc fx.Lifecycle, cfg config.Config, a *podium.Adapter, log *slog.Logger) ports.HealthChecker {
		return probed(lc, podium.NewProber(a, probeConfig(cfg, log)))
	}, fx.ResultTags(`group:"health"`))),
)

var ensembleModule = fx.Module("ensemble",
	fx.Provide(fx.Annotate(
		func(lc fx.Lifecycle, cfg config.Config, up Upstreams, tr *telemetry.Tracing, log *slog.Logger) (*ensemble.Adapter, error) {
			a, err := ensemble.New(ensemble.Config{BaseURL: up.EnsembleURL, APIKey: cfg.EnsembleAPIKey, Logger: log}, upstreamClient(tr))
			if err != nil {
				return nil, err
			}
			lc.Append(fx.StartStopHook(func() { a.Start(context.Background()) }, a.Stop))
			return a, nil
		},
		fx.As(fx.Self()), fx.As(new(ports.ModelCatalog)),
	)),
	fx.Provide(fx.Annotate(func(lc fx.Lifecycle, cfg config.Config, a *ensemble.Adapter, log *slog.Logger) ports.HealthChecker {
		return probed(lc, ensemble.NewProber(a, probeConfig(cfg, log)))
	}, fx.ResultTags(`group:"health"`))),
)

var unisonModule = fx.Module("unison",
	fx.Provide(func(cfg config.Config, up Upstreams, tr *telemetry.Tracing) (*unison.Client, error) {
		return unison.New(unison.Config{BaseURL: up.UnisonURL, APIKey: cfg.UnisonAPIKey}, upstreamClient(tr))
	}),
	fx.Provide(fx.Annotate(unison.NewRegistry, fx.As(new(ports.SessionRegistry)))),
	fx.Provide(fx.Annotate(unison.NewMembers, fx.As(new(ports.MemberStore)))),
	fx.Provide(fx.Annotate(func(lc fx.Lifecycle, cfg config.Config, c *unison.Client, log *slog.Logger) ports.HealthChecker {
		return probed(lc, unison.NewProber(c, probeConfig(cfg, log)))
	}, fx.ResultTags(`group:"health"`))),
)

var authModule = fx.Module("auth",
	fx.Provide(func(cfg config.Config) (ports.TokenVerifier, error) {
		if cfg.DevMode {
			return nil, nil // dev mode: the fixed developer identity
		}
		return auth.NewVerifier(auth.Config{Domain: cfg.Auth0Domain, Audience: cfg.Auth0Audience, ClientID: cfg.Auth0ClientID,
			TenantClaim: cfg.Auth0TenantClaim, RoleClaim: cfg.Auth0RoleClaim})
	}),
	fx.Provide(func(cfg config.Config) (ports.AuthLimiter, error) {
		l, err := auth.NewAuthRateLimiter(auth.RateLimitConfig{FailuresPerMinute: cfg.AuthFailuresPerMinute, Burst: cfg.AuthFailureBurst})
		if err != nil {
			return nil, err
		}
		return l, nil
	}),
)

// systemClock is the real time.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

var appModule = fx.Module("app",
	fx.Provide(func() ports.Clock { return systemClock{} }),
	fx.Provide(func(lc fx.Lifecycle, cfg config.Config, reg ports.SessionRegistry, rt ports.AgentRuntime, clock ports.Clock, log *slog.Logger) *app.Hub {
		limits := app.DefaultLimits()
		limits.MaxActiveSessions = cfg.MaxActiveSessions
		limits.IdleTimeout = cfg.IdleTimeout
		limits.WindowEvents = cfg.ReplayWindowEvents
		h := app.NewHub(reg, rt, clock, log, limits)
		if cfg.EnsembleAPIKey != "" {
			// Agents call Ensemble themselves; the key reaches them sealed
			// with PODIUM_SECRETS_KEY (config validation requires it).
			h.SetAgentSecrets(map[string]string{"ensemble_api_key": cfg.EnsembleAPIKey})
		}
		lc.Append(fx.StartStopHook(h.Start, h.Close))
		return h
	}),
	fx.Provide(app.NewMembers, app.NewFiles, app.NewModels),
	fx.Provide(fx.Annotate(func(checkers []ports.HealthChecker, hub *app.Hub) *app.Health {
		return app.NewHealth(checkers, hub, Version)
	}, fx.ParamTags(`group:"health"`))),
)

var wsModule = fx.Module("ws",
	fx.Provide(func(lc fx.Lifecycle, cfg config.Config, hub *app.Hub, members *app.Members, files *app.Files, health *app.Health, v ports.TokenVerifier, lim ports.AuthLimiter, tr *telemetry.Tracing, log *slog.Logger) *ws.Server {
		wc := ws.DefaultConfig()
		wc.DevMode = cfg.DevMode
		wc.AllowedOrigins = cfg.AllowedOrigins
		wc.ServerVersion = Version
		wc.RateLimit, wc.RateWindow = cfg.RateLimitMessages, cfg.RateLimitWindow
		wc.MaxConnections = cfg.MaxConnections
		wc.Heartbeat = cfg.HeartbeatInterval
		wc.AuthTimeout, wc.ExpiryWarning = cfg.AuthTimeout, cfg.AuthExpiryWarning
		s := ws.New(wc, hub, v, lim, log.With("component", "ws")).WithMembers(members).WithFiles(files).
			WithTracer(tr.Tracer("diminuendo/ws"))
		health.CountConnections(s.Connections)
		lc.Append(fx.Hook{
			OnStart: func(context.Context) error { s.Start(); return nil },
			OnStop: func(ctx context.Context) error {
				dctx, cancel := context.WithTimeout(ctx, cfg.ShutdownDrain)
				defer cancel()
				s.Shutdown(dctx)
				return nil
			},
		})
		return s
	}),
)

var telemetryModule = fx.Module("telemetry",
	fx.Provide(fx.Annotate(telemetry.New, fx.ParamTags(``, ``, `group:"health"`))),
)

// tracingModule comes first: the upstream clients and the HTTP server are
// wrapped with its spans when OTEL_EXPORTER_OTLP_ENDPOINT is set.
var tracingModule = fx.Module("tracing",
	fx.Provide(func(lc fx.Lifecycle, cfg config.Config, log *slog.Logger) (*telemetry.Tracing, error) {
		t, err := telemetry.NewTracing(cfg.OTLPEndpoint, cfg.ServiceName, Version)
		if err != nil {
			return nil, err
		}
		if t.Enabled() {
			log.Info("tracing to OTLP endpoint", "endpoint", cfg.OTLPEndpoint)
		}
		lc.Append(fx.StopHook(t.Shutdown))
		return t, nil
	}),
)

var httpModule = fx.Module("http",
	fx.Provide(func(lc fx.Lifecycle, cfg config.Config, hub *app.Hub, members *app.Members, files *app.Files, models *app.Models, health *app.Health, v ports.TokenVerifier, lim ports.AuthLimiter, wss *ws.Server, metrics *telemetry.Metrics, tr *telemetry.Tracing, log *slog.Logger) (*httpadapter.Server, error) {
		s, err := httpadapter.New(httpadapter.Config{Addr: cfg.Addr(), DevMode: cfg.DevMode, AllowedOrigins: cfg.AllowedOrigins, Version: Version},
			hub, health, v, lim, wss.Handle, log.With("component", "http"))
		if err != nil {
			return nil, err
		}
		s.WithMembers(members).WithSSE(httpadapter.DefaultSSEConfig()).WithFiles(files).WithModels(models).
			WithMetrics(metrics.Handler(), metrics.Middleware).WithHandlerWrapper(tr.Handler)
		lc.Append(fx.Hook{
			OnStart: func(context.Context) error {
				if err := s.Start(); err != nil {
					return err
				}
				log.Info("diminuendo listening", "url", "http://"+s.Addr(), "ws", "ws://"+s.Addr()+"/ws", "devMode", cfg.DevMode)
				return nil
			},
			OnStop: s.Stop,
		})
		return s, nil
	}),
	fx.Invoke(func(*httpadapter.Server) {}),
)
