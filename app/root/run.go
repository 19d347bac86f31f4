package root

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/fx"

	"github.com/diminuendo/diminuendo/adapters/datadir"
	"github.com/diminuendo/diminuendo/adapters/ws"
	"github.com/diminuendo/diminuendo/app/config"
)

// Run is the process: it starts the gateway, serves until SIGINT or
// SIGTERM, drains, stops and returns the exit code. A startup failure an
// operator can fix (an unwritable DATA_DIR, a port in use) is one line on
// stderr and exit code 2.
func Run(cfg config.Config, stderr io.Writer) int {
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(stderr, "diminuendo: "+format+"\n", args...)
		return code
	}
	if _, err := datadir.Open(cfg.DataDir); err != nil {
		return fail(2, "%v", err)
	}
	applyMemoryLimit(cfg)
	var log *slog.Logger
	var wss *ws.Server
	app := fx.New(Options(cfg), fx.Populate(&log, &wss))
	if err := app.Err(); err != nil {
		return fail(2, "startup: %s", firstLine(err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), app.StartTimeout())
	err := app.Start(ctx)
	cancel()
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fail(2, "PORT: %s is already in use; stop what listens there or choose another HOST/PORT", cfg.Addr())
		}
		if errors.Is(err, syscall.EACCES) {
			return fail(2, "PORT: not allowed to listen on %s", cfg.Addr())
		}
		return fail(1, "startup: %s", firstLine(err))
	}
	started := time.Now()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	sig := <-sigs
	log.Info("draining", "signal", sig.String(), "connections", wss.Connections(), "drain", cfg.ShutdownDrain.String())

	ctx, cancel = context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancel()
	if err := app.Stop(ctx); err != nil {
		log.Error("diminuendo exited", "code", 1, "uptime", time.Since(started).Round(time.Second).String(), "err", err.Error())
		return 1
	}
	log.Info("diminuendo exited", "code", 0, "uptime", time.Since(started).Round(time.Second).String())
	return 0
}

// firstLine keeps fx's error to the line that names the cause.
func firstLine(err error) string {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i > 0 {
		msg = msg[:i]
	}
	return msg
}
