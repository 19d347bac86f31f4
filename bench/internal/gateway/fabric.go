package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Fabric is a running cmd/fabric-sim: the simulated upstreams in a process
// of their own, so that they outlive a gateway restart.
type Fabric struct {
	// Env points a gateway at the simulators (PODIUM_URL, UNISON_URL,
	// ENSEMBLE_URL).
	Env []string

	cmd  *exec.Cmd
	done chan struct{}
}

// StartFabric runs bin on free loopback ports with the simulated agents
// pausing step between events, and waits until it prints its URLs. args
// are further flags for it (e.g. -pprof). The child is killed if this
// process dies.
func StartFabric(ctx context.Context, bin string, step time.Duration, args ...string) (*Fabric, error) {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("fabric-sim binary: %w (build it with make build)", err)
	}
	cmd := exec.Command(bin, append([]string{"-podium", "127.0.0.1:0", "-unison", "127.0.0.1:0", "-ensemble", "127.0.0.1:0",
		"-step-delay", step.String()}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f := &Fabric{cmd: cmd, done: make(chan struct{})}
	urls := make(chan map[string]string, 1)
	go func() {
		got := map[string]string{}
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if fs := strings.Fields(sc.Text()); len(fs) >= 2 {
				got[fs[0]] = fs[1]
			}
			if got["podium"] != "" && got["unison"] != "" && got["ensemble"] != "" {
				urls <- got
				break
			}
		}
		for sc.Scan() { // keep the pipe flowing
		}
		_ = cmd.Wait()
		close(f.done)
	}()
	select {
	case u := <-urls:
		f.Env = []string{"PODIUM_URL=" + u["podium"], "UNISON_URL=" + u["unison"], "ENSEMBLE_URL=" + u["ensemble"]}
		return f, nil
	case <-f.done:
		return nil, errors.New("fabric-sim exited before printing its URLs")
	case <-time.After(20 * time.Second):
		f.Stop()
		return nil, errors.New("fabric-sim did not print its URLs within 20 s")
	case <-ctx.Done():
		f.Stop()
		return nil, ctx.Err()
	}
}

// Pid is the simulators' process id.
func (f *Fabric) Pid() int { return f.cmd.Process.Pid }

// CPU is the simulators' user+system CPU time so far.
func (f *Fabric) CPU() (time.Duration, error) { return CPUOf(f.Pid()) }

// Stop ends the simulators with SIGTERM, then SIGKILL after 5 s.
func (f *Fabric) Stop() {
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.done:
	case <-time.After(5 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.done
	}
}

// Ports are the TCP ports the simulators listen on.
func (f *Fabric) Ports() map[int]bool {
	ports := map[int]bool{}
	for _, kv := range f.Env {
		_, u, _ := strings.Cut(kv, "=")
		if i := strings.LastIndexByte(u, ':'); i >= 0 {
			if v, err := strconv.Atoi(strings.TrimRight(u[i+1:], "/")); err == nil {
				ports[v] = true
			}
		}
	}
	return ports
}
