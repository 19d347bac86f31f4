package root

// The front doors and their instrumentation: WebSocket, HTTP, metrics, tracing.

import (
	"context"
	"log/slog"
	"net/http"

	"go.uber.org/fx"

	"github.com/diminuendo/diminuendo/adapters/acp"
	httpadapter "github.com/diminuendo/diminuendo/adapters/http"
	"github.com/diminuendo/diminuendo/adapters/telemetry"
	"github.com/diminuendo/diminuendo/adapters/ws"
	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/app/config"
	"github.com/diminuendo/diminuendo/ports"
	"github.com/diminuendo/diminuendo/web"
)

var wsModule = fx.Module("ws",
	fx.Provide(func(lc fx.Lifecycle, cfg config.Config, hub *app.Hub, members *app.Members, files *app.Files, agentTypes *app.AgentTypes, quotas *app.ConnectionQuotas, health *app.Health, v ports.TokenVerifier, lim ports.AuthLimiter, tr *telemetry.Tracing, log *slog.Logger) *ws.Server {
		wc := ws.DefaultConfig()
		wc.DevMode = cfg.DevMode
		wc.AllowedOrigins = cfg.AllowedOrigins
		wc.ServerVersion = Version
		wc.RateLimit, wc.RateWindow = cfg.RateLimitMessages, cfg.RateLimitWindow
		wc.OutboxBytes = cfg.OutboxBytes
		wc.MaxConnections = cfg.MaxConnections
		wc.Heartbeat = cfg.HeartbeatInterval
		wc.AuthTimeout, wc.ExpiryWarning = cfg.AuthTimeout, cfg.AuthExpiryWarning
		s := ws.New(wc, hub, v, lim, log.With("component", "ws")).WithMembers(members).WithFiles(files).WithAgentTypes(agentTypes).WithQuotas(quotas).
			WithTracer(tr.Tracer("github.com/diminuendo/diminuendo/ws"))
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

var acpModule = fx.Module("acp",
	fx.Provide(func(lc fx.Lifecycle, cfg config.Config, hub *app.Hub, agentTypes *app.AgentTypes, quotas *app.ConnectionQuotas, v ports.TokenVerifier, lim ports.AuthLimiter, log *slog.Logger) *acp.Server {
		ac := acp.DefaultConfig()
		ac.DevMode, ac.AllowedOrigins, ac.Version = cfg.DevMode, cfg.AllowedOrigins, Version
		ac.RateLimit, ac.RateWindow = cfg.RateLimitMessages, cfg.RateLimitWindow
		s := acp.New(ac, hub, agentTypes, v, lim, quotas, log.With("component", "acp"))
		lc.Append(fx.StopHook(func(ctx context.Context) {
			dctx, cancel := context.WithTimeout(ctx, cfg.ShutdownDrain)
			defer cancel()
			s.Shutdown(dctx)
		}))
		return s
	}),
)

var telemetryModule = fx.Module("telemetry",
	fx.Provide(fx.Annotate(telemetry.New, fx.ParamTags(``, ``, `group:"health"`))),
	// With METRICS_ADDR, /metrics gets a listener of its own (nil otherwise).
	fx.Provide(func(lc fx.Lifecycle, cfg config.Config, m *telemetry.Metrics, log *slog.Logger) (*telemetry.MetricsServer, error) {
		if cfg.MetricsAddr == "" {
			return nil, nil
		}
		ms, err := telemetry.ServeMetrics(cfg.MetricsAddr, m.Handler(), log)
		if err != nil {
			return nil, err
		}
		log.Info("metrics listening", "url", "http://"+ms.Addr()+"/metrics")
		lc.Append(fx.StopHook(ms.Stop))
		return ms, nil
	}),
	fx.Invoke(func(*telemetry.MetricsServer) {}), // constructors are lazy
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
	fx.Provide(func(lc fx.Lifecycle, cfg config.Config, hub *app.Hub, members *app.Members, files *app.Files, models *app.Models, agentTypes *app.AgentTypes, quotas *app.ConnectionQuotas, health *app.Health, v ports.TokenVerifier, lim ports.AuthLimiter, wss *ws.Server, acps *acp.Server, metrics *telemetry.Metrics, tr *telemetry.Tracing, up Upstreams, log *slog.Logger) (*httpadapter.Server, error) {
		s, err := httpadapter.New(httpadapter.Config{Addr: cfg.Addr(), DevMode: cfg.DevMode, AllowedOrigins: cfg.AllowedOrigins, Version: Version, ReadTimeout: cfg.HTTPReadTimeout},
			hub, health, v, lim, wss.Handle, log.With("component", "http"))
		if err != nil {
			return nil, err
		}
		s.WithSignIn(app.NewSignIn(cfg.Auth0Domain, cfg.Auth0ClientID, cfg.Auth0Audience, cfg.DevMode))
		var metricsRoute http.Handler // on this listener unless METRICS_ADDR gives it its own
		if cfg.MetricsAddr == "" {
			metricsRoute = metrics.Handler()
		}
		s.WithMembers(members).WithSSE(httpadapter.DefaultSSEConfig()).WithFiles(files).WithModels(models).WithAgentTypes(agentTypes).WithQuotas(quotas).
			WithRequestRates(app.NewRequestRates(cfg.RESTRateLimit, cfg.RESTRateWindow)).
			WithMetrics(metricsRoute, metrics.Middleware).WithHandlerWrapper(tr.Handler)
		s.WithWebClient(web.Handler(web.Options{IdentityProvider: cfg.Auth0Domain}))
		s.WithACP(acps.Handle)
		lc.Append(fx.Hook{
			OnStart: func(context.Context) error {
				if err := s.Start(); err != nil {
					return err
				}
				log.Info("diminuendo listening", startLine(cfg, up, s.Addr())...)
				return nil
			},
			OnStop: s.Stop,
		})
		return s, nil
	}),
	fx.Invoke(func(*httpadapter.Server) {}),
)
