package root

// Operational artifacts under DATA_DIR: the logger and its rotated files,
// the warm-start caches and the debug dumps.

import (
	"io"
	"log/slog"
	"os"
	"runtime"

	"go.uber.org/fx"

	"github.com/diminuendo/diminuendo/adapters/datadir"
	"github.com/diminuendo/diminuendo/adapters/ws"
	"github.com/diminuendo/diminuendo/app/config"
)

var opsModule = fx.Options(
	fx.Provide(func(cfg config.Config) (datadir.Dir, error) { return datadir.Open(cfg.DataDir) }),
	fx.Provide(NewLogger),
	fx.Provide(func(d datadir.Dir) *datadir.Cache { return d.Cache() }),
	fx.Provide(func(lc fx.Lifecycle, cfg config.Config, d datadir.Dir) (*datadir.Dumps, error) {
		dumps, err := d.Dumps(datadir.DumpConfig{Channels: cfg.DebugDump, MaxSizeMB: cfg.DebugDumpMaxMB, MaxBackups: 3, MaxAgeDays: 1})
		if err != nil {
			return nil, err
		}
		lc.Append(fx.StopHook(dumps.Close))
		return dumps, nil
	}),
	fx.Invoke(func(s *ws.Server, d *datadir.Dumps) {
		if d.On("ws") {
			s.WithFrameDump(d.Channel("ws"))
		}
	}),
)

// logOutput is where the process logs besides DATA_DIR/logs; tests of the
// composition root point it elsewhere.
var logOutput io.Writer = os.Stdout

// NewLogger logs at LOG_LEVEL to stdout in LOG_FORMAT (text in dev mode,
// JSON otherwise) and, always as JSON for log shippers, to the rotated
// files under DATA_DIR/logs.
func NewLogger(cfg config.Config, d datadir.Dir) *slog.Logger {
	lc := datadir.LogConfig{Format: cfg.LogFormatOrDefault(), Level: cfg.LogLevel,
		MaxSizeMB: cfg.LogFileMaxMB, MaxBackups: cfg.LogFileBackups, MaxAgeDays: cfg.LogFileMaxAgeDays}
	file := lc
	file.Format = "json"
	return slog.New(slog.NewMultiHandler(datadir.NewLogger(logOutput, lc).Handler(), datadir.NewLogger(d.LogFile(lc), file).Handler()))
}

// startLine is what an operator reads first: which build, where, in which
// mode, against which upstreams (URLs only; keys are never logged).
func startLine(cfg config.Config, up Upstreams, addr string) []any {
	mode := "production"
	if cfg.DevMode {
		mode = "dev"
	}
	// url first: scripts find the address with msg="diminuendo listening" url=…
	return []any{"url", "http://" + addr, "ws", "ws://" + addr + "/ws", "version", Version, "mode", mode, "devMode", cfg.DevMode,
		"embeddedUpstreams", up.Embedded, "podium", up.PodiumURL, "unison", up.UnisonURL, "ensemble", up.EnsembleURL,
		"chronicle", cfg.ChronicleURL, "dataDir", cfg.DataDir, "pid", os.Getpid(), "goVersion", runtime.Version(),
		"maxConnections", cfg.MaxConnections, "maxActiveSessions", cfg.MaxActiveSessions, "memoryLimit", cfg.MemoryLimit.String()}
}
