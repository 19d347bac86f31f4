package root

import (
	"log/slog"

	"github.com/diminuendo/diminuendo/app/config"
)

// warnDevMode says, at startup, what dev mode gives away. Bound beyond
// loopback (only possible with DEV_MODE_ALLOW_REMOTE=true) it is the loudest
// line the gateway logs: anyone who reaches the port is the developer
// identity, an owner.
func warnDevMode(cfg config.Config, log *slog.Logger) {
	if !cfg.DevMode {
		return
	}
	if config.IsLoopback(cfg.Host) {
		log.Info("DEV_MODE is on: authentication is bypassed; every client is the developer identity", "host", cfg.Host)
		return
	}
	log.Warn("!!! DEV_MODE_ALLOW_REMOTE=true: DEV MODE ON A NON-LOOPBACK ADDRESS; authentication is bypassed for anyone who can reach this port; never run this in production !!!",
		"host", cfg.Host, "port", cfg.Port)
}
