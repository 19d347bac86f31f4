package root

// The upstream modules: the embedded simulators when no URL is set, one
// adapter module per platform service, their health probes.

import (
	"context"
	"log/slog"
	"net/http"

	"go.uber.org/fx"

	"github.com/diminuendo/diminuendo/adapters/datadir"
	"github.com/diminuendo/diminuendo/adapters/ensemble"
	"github.com/diminuendo/diminuendo/adapters/ensemble/ensemblesim"
	"github.com/diminuendo/diminuendo/adapters/podium"
	"github.com/diminuendo/diminuendo/adapters/podium/podiumsim"
	"github.com/diminuendo/diminuendo/adapters/probe"
	"github.com/diminuendo/diminuendo/adapters/telemetry"
	"github.com/diminuendo/diminuendo/adapters/unison"
	"github.com/diminuendo/diminuendo/adapters/unison/unisonsim"
	"github.com/diminuendo/diminuendo/app/config"
	"github.com/diminuendo/diminuendo/ports"
)

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
// keep-alive connections, per-request timeouts set by each adapter. With
// maxConns > 0, requests beyond that many in flight wait for a pooled
// connection rather than open one each.
func upstreamClient(tr *telemetry.Tracing, maxConns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.MaxConnsPerHost = maxConns
	return &http.Client{Transport: tr.Transport(t)}
}

// unisonConns caps the connections to Unison, whose calls are short
// request/response exchanges. Uncapped, a burst of thousands of lookups (every
// client of a restarted gateway rejoining at once) opened a socket each,
// overflowed the listen backlog, and the connect timeouts tripped the circuit
// breaker. Podium has no cap: each live session holds one of its
// connections for an event stream.
const unisonConns = 64

var podiumModule = fx.Module("podium",
	fx.Provide(fx.Annotate(
		func(cfg config.Config, up Upstreams, tr *telemetry.Tracing, log *slog.Logger, dumps *datadir.Dumps, cache *datadir.Cache) (*podium.Adapter, error) {
			pc := podium.Config{BaseURL: up.PodiumURL, APIKey: cfg.PodiumAPIKey, SecretsKey: cfg.PodiumSecretsKey,
				ChronicleURL: cfg.ChronicleURL, BreakerCooldown: cfg.PodiumBreakerCooldown, Logger: log, Cache: cache}
			if dumps.On("podium") {
				pc.Dump = dumps.Channel("podium")
			}
			return podium.New(pc, upstreamClient(tr, 0))
		},
		fx.As(fx.Self()), fx.As(new(ports.AgentRuntime)), fx.As(new(ports.Workspace)),
	)),
	fx.Provide(fx.Annotate(func(lc fx.Lifecycle, cfg config.Config, a *podium.Adapter, log *slog.Logger) ports.HealthChecker {
		return probed(lc, podium.NewProber(a, probeConfig(cfg, log)))
	}, fx.ResultTags(`group:"health"`))),
)

var ensembleModule = fx.Module("ensemble",
	fx.Provide(fx.Annotate(
		func(lc fx.Lifecycle, cfg config.Config, up Upstreams, tr *telemetry.Tracing, log *slog.Logger, cache *datadir.Cache) (*ensemble.Adapter, error) {
			a, err := ensemble.New(ensemble.Config{BaseURL: up.EnsembleURL, APIKey: cfg.EnsembleAPIKey, Logger: log, Cache: cache}, upstreamClient(tr, 0))
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
		return unison.New(unison.Config{BaseURL: up.UnisonURL, APIKey: cfg.UnisonAPIKey}, upstreamClient(tr, unisonConns))
	}),
	fx.Provide(fx.Annotate(unison.NewRegistry, fx.As(new(ports.SessionRegistry)))),
	fx.Provide(fx.Annotate(unison.NewMembers, fx.As(new(ports.MemberStore)))),
	fx.Provide(fx.Annotate(func(lc fx.Lifecycle, cfg config.Config, c *unison.Client, log *slog.Logger) ports.HealthChecker {
		return probed(lc, unison.NewProber(c, probeConfig(cfg, log)))
	}, fx.ResultTags(`group:"health"`))),
)
