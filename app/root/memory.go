package root

import (
	"os"
	"runtime/debug"

	"github.com/diminuendo/diminuendo/app/config"
)

// applyMemoryLimit makes MEMORY_LIMIT the Go runtime's soft memory limit,
// so the collector works harder before the instance reaches its budget. An
// explicit GOMEMLIMIT is the operator's word and is left in force.
func applyMemoryLimit(cfg config.Config) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(int64(cfg.MemoryLimit))
}
