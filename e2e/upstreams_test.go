package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/adapters/podium/podiumsim"
	"github.com/diminuendo/diminuendo/adapters/unison/unisonsim"
	"github.com/diminuendo/diminuendo/app/config"
)

// upstreams are a simulated Podium and Unison served from the test process
// on loopback. They stand in for the separate fabric-sim process, so several
// gateways (in-process or separate processes) can share them, and a test can
// take Podium away and bring a fresh one back on the same address.
type upstreams struct {
	t    *testing.T
	step time.Duration

	mu        sync.Mutex
	podium    *podiumsim.Sim
	podiumURL string
	unison    *unisonsim.Sim
	unisonURL string
}

// startUpstreams serves both simulators; step paces the scripted agents.
func startUpstreams(t *testing.T, step time.Duration) *upstreams {
	t.Helper()
	u := &upstreams{t: t, step: step}
	u.podium = podiumsim.New(podiumsim.Options{StepDelay: step})
	purl, err := u.podium.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.podiumURL = purl
	u.unison = unisonsim.New(unisonsim.Options{})
	uurl, err := u.unison.Start("127.0.0.1:0")
	if err != nil {
		u.podium.Close()
		t.Fatal(err)
	}
	u.unisonURL = uurl
	// Registered before any gateway, so it runs after every gateway stopped.
	t.Cleanup(func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		u.podium.Close()
		u.unison.Close()
	})
	return u
}

// configure points a gateway configuration at these simulators.
func (u *upstreams) configure(cfg *config.Config) {
	cfg.PodiumURL, cfg.UnisonURL = u.podiumURL, u.unisonURL
}

// env is the process environment naming these simulators.
func (u *upstreams) env() []string {
	return []string{"PODIUM_URL=" + u.podiumURL, "UNISON_URL=" + u.unisonURL}
}

// killPodium takes Podium away: its listener closes and every stream is cut.
// Its instances and their histories are gone with it.
func (u *upstreams) killPodium() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.podium.Close()
}

// restartPodium serves a fresh, empty Podium on the address of the old one.
func (u *upstreams) restartPodium() {
	u.t.Helper()
	addr := u.podiumURL[len("http://"):]
	deadline := time.Now().Add(5 * time.Second)
	for {
		sim := podiumsim.New(podiumsim.Options{StepDelay: u.step})
		_, err := sim.Start(addr)
		if err == nil {
			u.mu.Lock()
			u.podium = sim
			u.mu.Unlock()
			return
		}
		sim.Close()
		if time.Now().After(deadline) {
			u.t.Fatalf("restarting podium on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startGatewayOn boots an in-process gateway that uses u as its upstreams.
func startGatewayOn(t *testing.T, u *upstreams, mutate func(*config.Config)) *gateway {
	t.Helper()
	return startGateway(t, func(cfg *config.Config) {
		u.configure(cfg)
		cfg.RateLimitMessages = 1000
		if mutate != nil {
			mutate(cfg)
		}
	})
}

// The gateway binary, built once per test binary into binDir.
var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	summary, failed := frameSummary()
	fmt.Println(summary)
	if failed && code == 0 {
		code = 1
	}
	os.Exit(code)
}

// gatewayBinary builds cmd/diminuendo. Under -race it is built with -race
// too, which reuses the packages already compiled for this test binary.
func gatewayBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "diminuendo-e2e-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "diminuendo")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "github.com/diminuendo/diminuendo/cmd/diminuendo")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// process is a gateway running as a separate process.
type process struct {
	*gateway
	cmd  *exec.Cmd
	logs *lockedBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit, once done
}

var listeningRE = regexp.MustCompile(`msg="diminuendo listening" url=http://(\S+)`)

// startProcess runs the gateway binary in dev mode on a free loopback port,
// pointed at u, and waits until it listens.
// upstreamEnv is what a gateway process needs to find its upstreams: the
// in-test simulators or a fabric-sim process.
type upstreamEnv interface{ env() []string }

func startProcess(t *testing.T, u upstreamEnv, env ...string) *process {
	t.Helper()
	bin := gatewayBinary(t)
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir() // no stray .env, and DATA_DIR stays inside the test
	cmd.Env = append(append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"DEV_MODE=true", "HOST=127.0.0.1", "PORT=0", "LOG_LEVEL=info",
		"SIM_STEP_DELAY=1ms", "WS_RATE_LIMIT=1000", "SHUTDOWN_DRAIN=3s",
	}, u.env()...), env...)
	logs := &lockedBuffer{}
	pr, pw := io.Pipe()
	// Logs go to stdout, startup failures to stderr: both are read.
	out := io.MultiWriter(logs, pw)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, logs: logs, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = pw.Close()
		close(p.done)
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr) // keep the pipe flowing
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("gateway process log:\n%s", logs.String())
		}
	})
	select {
	case a := <-addr:
		p.gateway = &gateway{t: t, addr: a}
		return p
	case <-p.done:
		t.Fatalf("gateway exited before listening: %v\n%s", p.err, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("gateway did not listen within 20s\n%s", logs.String())
	}
	return nil
}

// kill ends the process with SIGKILL: no drain, no goodbye.
func (p *process) kill() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Fatal("killed gateway did not exit")
	}
}

// terminateCode sends SIGTERM and returns the exit code once the process
// has exited (-1 when it could not be read). The caller bounds the wait; it
// needs no *testing.T, so it may run on another goroutine.
func (p *process) terminateCode() int {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &ee):
		return ee.ExitCode()
	default:
		return -1
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// held is the sequenced events one client holds, in order. add refuses a
// gap or a duplicate the moment it arrives.
type held struct {
	evs []map[string]any
}

func (h *held) last() uint64 {
	if len(h.evs) == 0 {
		return 0
	}
	return seqOf(h.evs[len(h.evs)-1])
}

// add keeps f if it is sequenced, reporting whether it was.
func (h *held) add(t *testing.T, f map[string]any) bool {
	t.Helper()
	if _, ok := f["seq"]; !ok {
		return false
	}
	if got, want := seqOf(f), h.last()+1; got != want {
		t.Fatalf("received seq %d (%s) while holding up to %d: a gap or a duplicate", got, f["type"], want-1)
	}
	h.evs = append(h.evs, f)
	return true
}

// readTo reads c until h holds seq target, within d.
func (c *client) readTo(h *held, target uint64, d time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for h.last() < target {
		left := time.Until(deadline)
		if left <= 0 {
			c.t.Fatalf("holding seq %d, still waiting for %d after %v", h.last(), target, d)
		}
		m, err := c.read(left)
		if err != nil {
			c.t.Fatalf("holding seq %d, waiting for %d: %v", h.last(), target, err)
		}
		if m["type"] == "error" {
			c.t.Fatalf("error while waiting for seq %d: %v", target, m)
		}
		h.add(c.t, m)
	}
}

// readUntilType reads c into h until a sequenced event of type typ, within d.
func (c *client) readUntilType(h *held, typ string, d time.Duration) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			c.t.Fatalf("no %s within %v (holding seq %d)", typ, d, h.last())
		}
		m, err := c.read(left)
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", typ, err)
		}
		if m["type"] == "error" {
			c.t.Fatalf("error while waiting for %s: %v", typ, m)
		}
		if h.add(c.t, m) && m["type"] == typ {
			return m
		}
	}
}

// closeCode reads c until the server closes it, returning the close code.
func (c *client) closeCode(d time.Duration) int {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		_, err := c.read(time.Until(deadline))
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		c.t.Fatalf("connection ended without a close frame: %v", err)
	}
	c.t.Fatalf("connection still open after %v", d)
	return 0
}

// requireSameEvents checks got equals want, field for field.
func requireSameEvents(t *testing.T, want, got []map[string]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("holding %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(want[i], got[i]) {
			a, _ := json.Marshal(want[i])
			b, _ := json.Marshal(got[i])
			t.Fatalf("event %d differs:\nwant %s\ngot  %s", i, a, b)
		}
	}
}

// getEvents pages through get_events from seq 0 on c, which must not be
// joined to a session with a turn running.
func (c *client) getEvents(sessionID string) (string, []map[string]any) {
	c.t.Helper()
	var out []map[string]any
	epoch := ""
	after := uint64(0)
	for page := 0; page < 100; page++ {
		c.send(map[string]any{"type": "get_events", "sessionId": sessionID, "afterSeq": after, "limit": 1000, "requestId": "ev"})
		m := c.expect("events")
		epoch, _ = m["epoch"].(string)
		for _, e := range m["events"].([]any) {
			out = append(out, e.(map[string]any))
		}
		if len(out) > 0 {
			after = seqOf(out[len(out)-1])
		}
		if m["hasMore"] != true {
			return epoch, out
		}
	}
	c.t.Fatal("get_events kept saying hasMore")
	return "", nil
}
