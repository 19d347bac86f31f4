package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fabric is cmd/fabric-sim running as its own process: all simulated
// upstreams, as a separate service the gateway talks to.
type fabric struct {
	podiumURL, unisonURL, ensembleURL string
}

func (f *fabric) env() []string {
	return []string{"PODIUM_URL=" + f.podiumURL, "UNISON_URL=" + f.unisonURL, "ENSEMBLE_URL=" + f.ensembleURL}
}

var (
	fabricOnce sync.Once
	fabricPath string
	fabricErr  error
)

// fabricBinary builds cmd/fabric-sim once per test binary.
func fabricBinary(t *testing.T) string {
	t.Helper()
	gatewayBinary(t) // makes binDir
	fabricOnce.Do(func() {
		fabricPath = filepath.Join(binDir, "fabric-sim")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", fabricPath, "github.com/diminuendo/diminuendo/cmd/fabric-sim").CombinedOutput(); err != nil {
			fabricErr = fmt.Errorf("go build fabric-sim: %v\n%s", err, out)
		}
	})
	if fabricErr != nil {
		t.Fatal(fabricErr)
	}
	return fabricPath
}

// startFabricSim runs fabric-sim on free loopback ports and reads the URLs
// it prints.
func startFabricSim(t *testing.T, step time.Duration) *fabric {
	t.Helper()
	cmd := exec.Command(fabricBinary(t), "-podium", "127.0.0.1:0", "-unison", "127.0.0.1:0", "-ensemble", "127.0.0.1:0",
		"-step-delay", step.String())
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	f := &fabric{}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(20 * time.Second)
	for f.podiumURL == "" || f.unisonURL == "" || f.ensembleURL == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("fabric-sim exited before printing its URLs")
			}
			fields := strings.Fields(l)
			if len(fields) < 2 {
				continue
			}
			switch fields[0] {
			case "podium":
				f.podiumURL = fields[1]
			case "unison":
				f.unisonURL = fields[1]
			case "ensemble":
				f.ensembleURL = fields[1]
			}
		case <-deadline:
			t.Fatal("fabric-sim did not print its URLs within 20s")
		}
	}
	go func() {
		for range lines { // keep the pipe drained
		}
	}()
	return f
}
