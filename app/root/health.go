package root

// The instance half of /api/health: process memory, connections by state,
// the budgets, each upstream's breaker, and Chronicle when configured.

import (
	"log/slog"

	"go.uber.org/fx"

	"github.com/diminuendo/diminuendo/adapters/ensemble"
	"github.com/diminuendo/diminuendo/adapters/podium"
	"github.com/diminuendo/diminuendo/adapters/probe"
	"github.com/diminuendo/diminuendo/adapters/telemetry"
	"github.com/diminuendo/diminuendo/adapters/unison"
	"github.com/diminuendo/diminuendo/adapters/ws"
	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/app/config"
	"github.com/diminuendo/diminuendo/ports"
)

func instanceHealthModule(cfg config.Config) fx.Option {
	return fx.Options(instanceMetrics, chronicleProbe(cfg))
}

var instanceMetrics = fx.Options(
	fx.Invoke(func(cfg config.Config, h *app.Health, wss *ws.Server, p *podium.Adapter, e *ensemble.Adapter, u *unison.Client) {
		h.Instrument(app.Instrumentation{
			Memory: func() app.MemoryStats {
				g, heap, rss := telemetry.ProcessMemory()
				return app.MemoryStats{Goroutines: g, HeapBytes: heap, RSSBytes: rss}
			},
			ConnectionsByState: wss.ConnectionsByState,
			Breakers:           map[string]func() string{"podium": p.BreakerState, "ensemble": e.BreakerState, "unison": u.BreakerState},
			MaxConnections:     cfg.MaxConnections,
			MaxSessions:        cfg.MaxActiveSessions,
			MemoryLimit:        int64(cfg.MemoryLimit),
		})
	}),
)

// chronicleProbe: Chronicle is reached through Podium; when CHRONICLE_URL
// is set, health reports whether it can be reached at all.
func chronicleProbe(cfg config.Config) fx.Option {
	if cfg.ChronicleURL == "" {
		return fx.Options()
	}
	return fx.Provide(fx.Annotate(func(lc fx.Lifecycle, cfg config.Config, log *slog.Logger) (ports.HealthChecker, error) {
		p, err := probe.Dial("chronicle", cfg.ChronicleURL, probeConfig(cfg, log))
		if err != nil {
			return nil, err
		}
		return probed(lc, p), nil
	}, fx.ResultTags(`group:"health"`)))
}
