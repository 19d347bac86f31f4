package root

import (
	"runtime/debug"
	"testing"

	"github.com/diminuendo/diminuendo/app/config"
)

// MEMORY_LIMIT becomes the Go memory limit, unless GOMEMLIMIT is set.
func TestMemoryLimitIsTheGoMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	cfg, err := config.Parse([]string{"DEV_MODE=true", "HOST=127.0.0.1", "MEMORY_LIMIT=1536MiB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOMEMLIMIT", "")
	applyMemoryLimit(cfg)
	if got := debug.SetMemoryLimit(-1); got != 1536<<20 {
		t.Fatalf("Go memory limit %d, want %d", got, 1536<<20)
	}
	t.Setenv("GOMEMLIMIT", "3GiB")
	debug.SetMemoryLimit(1 << 40)
	applyMemoryLimit(cfg)
	if got := debug.SetMemoryLimit(-1); got != 1<<40 {
		t.Fatalf("GOMEMLIMIT set: the limit changed to %d", got)
	}
	if _, err := config.Parse([]string{"DEV_MODE=true", "HOST=127.0.0.1", "MEMORY_LIMIT=lots"}); err == nil {
		t.Fatal("MEMORY_LIMIT=lots was accepted")
	}
}
