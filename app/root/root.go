// Package root is the composition root: it wires every adapter to its port
// with fx, one module per adapter, and is the only package that knows them all.
package root

import (
	"log/slog"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/diminuendo/diminuendo/app/config"
)

// Version is the server version reported to clients.
var Version = "0.1.0"

// Options builds the whole gateway for cfg. Tests append fx.Decorate or
// fx.Replace options to swap adapters at the root.
func Options(cfg config.Config) fx.Option {
	return fx.Options(
		fx.Supply(cfg),
		opsModule,
		fx.WithLogger(func(l *slog.Logger) fxevent.Logger {
			// The graph's wiring is debug detail; failures still log as errors.
			fl := &fxevent.SlogLogger{Logger: l.With("component", "fx")}
			fl.UseLogLevel(slog.LevelDebug)
			// A failed start is reported once, by Run, in one line.
			fl.UseErrorLevel(slog.LevelDebug)
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
		acpModule,
		telemetryModule,
		httpModule,
		instanceHealthModule(cfg),
		fx.Invoke(warnDevMode),
	)
}

// New returns the gateway application.
func New(cfg config.Config, extra ...fx.Option) *fx.App {
	return fx.New(Options(cfg), fx.Options(extra...))
}
