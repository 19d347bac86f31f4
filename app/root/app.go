package root

// The core modules: authentication and the app use cases.

import (
	"log/slog"
	"time"

	"go.uber.org/fx"

	"github.com/diminuendo/diminuendo/adapters/auth"
	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/app/config"
	"github.com/diminuendo/diminuendo/ports"
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
		limits.MaxActiveSessions, limits.MaxActiveSessionsPerTenant = cfg.MaxActiveSessions, cfg.MaxActiveSessionsPerTenant
		limits.IdleTimeout = cfg.IdleTimeout
		limits.MaxSubscribers, limits.MaxSubscribersPerUser = cfg.SessionMaxSubscribers, cfg.SessionMaxSubscribersPerUser
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
	fx.Provide(app.NewMembers, app.NewFiles, app.NewModels, app.NewAgentTypes),
	fx.Provide(func(cfg config.Config) *app.ConnectionQuotas {
		return app.NewConnectionQuotas(cfg.MaxConnectionsPerTenant, cfg.MaxConnectionsPerUser)
	}),
	fx.Provide(fx.Annotate(func(checkers []ports.HealthChecker, hub *app.Hub) *app.Health {
		return app.NewHealth(checkers, hub, Version)
	}, fx.ParamTags(`group:"health"`))),
)
