// Package root is the composition root: it wires every adapter to its port
// with fx, one module per adapter, and is the only package that knows them all.
package root

import (
	"log/slog"
	"os"
	"strings"
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
		acpModule,
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
