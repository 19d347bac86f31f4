// Package gateway runs a built cmd/diminuendo binary as a child process for
// the load tools under bench/: on a free loopback port, in its own scratch
// directory (so no stray .env is read), with a clean environment. It reads
// the child's resident memory and CPU time from /proc and, at the end of a
// run, its goroutine count from the Go runtime's SIGQUIT dump, so that the
// product needs no debug endpoint for the benchmarks.
package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proc is a running gateway.
type Proc struct {
	// URL is the gateway's base URL (http://127.0.0.1:port), WS its /ws.
	URL, WS string

	cmd     *exec.Cmd
	dir     string
	errPath string
	errFile *os.File
	done    chan struct{}
	waitErr error
}

var listening = regexp.MustCompile(`(?:diminuendo|floor) listening.*?(http://127\.0\.0\.1:\d+)`)

// Start runs bin with env (K=V pairs added to a minimal environment: PATH,
// HOME, HOST=127.0.0.1, PORT=0, LOG_LEVEL=info, DATA_DIR in the scratch
// directory, GOTRACEBACK=all) and waits until it listens and /api/health
// answers. The child is killed if this process dies.
func Start(ctx context.Context, bin string, env ...string) (*Proc, error) {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("gateway binary: %w (build it with make build)", err)
	}
	dir, err := os.MkdirTemp("", "dim-bench-")
	if err != nil {
		return nil, err
	}
	p := &Proc{dir: dir, errPath: dir + "/stderr.log", done: make(chan struct{})}
	p.errFile, err = os.Create(p.errPath)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	base := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"HOST=127.0.0.1", "PORT=0", "LOG_LEVEL=info", "DATA_DIR=" + dir + "/data",
		"GOTRACEBACK=all", "SHUTDOWN_DRAIN=2s",
	}
	p.cmd = exec.Command(bin)
	p.cmd.Dir = dir
	p.cmd.Env = append(base, env...)
	p.cmd.Stdout = p.errFile
	p.cmd.Stderr = p.errFile
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		p.cleanup()
		return nil, err
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	if err := p.waitListening(ctx); err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}

func (p *Proc) waitListening(ctx context.Context) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("gateway exited during startup (%v): %s", p.waitErr, p.tail(2000))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		b, _ := os.ReadFile(p.errPath)
		if m := listening.FindSubmatch(b); m != nil {
			p.URL = string(m[1])
			p.WS = "ws" + strings.TrimPrefix(p.URL, "http") + "/ws"
			break
		}
	}
	if p.URL == "" {
		return fmt.Errorf("gateway did not report its address within 15 s: %s", p.tail(2000))
	}
	for time.Now().Before(deadline) {
		if h, err := p.Health(ctx); err == nil && h.Status == "ok" {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("gateway /api/health did not turn ok within 15 s")
}

// Health is the part of /api/health the tools read.
type Health struct {
	Status         string `json:"status"`
	Connections    int    `json:"connections"`
	ActiveSessions int    `json:"activeSessions"`
}

// Health fetches /api/health.
func (p *Proc) Health(ctx context.Context) (Health, error) {
	var h Health
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/api/health", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return h, err
	}
	return h, nil
}

// Pid is the child's process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Mem is the child's memory as /proc/<pid>/status reports it.
type Mem struct {
	RSSKiB  int64 // VmRSS
	HWMKiB  int64 // VmHWM, the peak RSS
	Threads int64 // OS threads
}

// Mem reads /proc/<pid>/status.
func (p *Proc) Mem() (Mem, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return Mem{}, err
	}
	defer f.Close()
	var m Mem
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		switch k {
		case "VmRSS":
			m.RSSKiB = n
		case "VmHWM":
			m.HWMKiB = n
		case "Threads":
			m.Threads = n
		}
	}
	if m.RSSKiB == 0 {
		return m, errors.New("no VmRSS in /proc status")
	}
	return m, sc.Err()
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times; it is 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// CPU is the child's user+system CPU time so far, from /proc/<pid>/stat.
func (p *Proc) CPU() (time.Duration, error) { return CPUOf(p.Pid()) }

// CPUOf is a process's user+system CPU time so far, from /proc/<pid>/stat.
func CPUOf(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is parenthesised and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed /proc stat times")
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

var goroutineHeader = regexp.MustCompile(`(?m)^goroutine [1-9][0-9]* `)

// QuitAndCountGoroutines ends the child with SIGQUIT, on which the Go
// runtime prints every goroutine's stack (GOTRACEBACK=all) and exits, and
// counts the goroutines in that dump. The child is gone afterwards.
func (p *Proc) QuitAndCountGoroutines() (int, error) {
	if err := p.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		return 0, err
	}
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.Kill()
		return 0, errors.New("gateway did not exit on SIGQUIT within 20 s")
	}
	b, err := os.ReadFile(p.errPath)
	p.cleanup()
	if err != nil {
		return 0, err
	}
	i := strings.Index(string(b), "SIGQUIT")
	if i < 0 {
		return 0, errors.New("no SIGQUIT dump in the gateway's output")
	}
	return len(goroutineHeader.FindAllIndex(b[i:], -1)), nil
}

// Stop ends the child with SIGTERM (graceful drain), then SIGKILL after 10 s.
func (p *Proc) Stop() {
	select {
	case <-p.done:
		p.cleanup()
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.cleanup()
}

// Kill ends the child at once.
func (p *Proc) Kill() {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.cleanup()
}

// Exited reports whether the child has ended (it should not during a run).
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Tail is the end of the child's output, for error reports.
func (p *Proc) Tail() string { return p.tail(4000) }

// LogCount counts the lines of the child's output that contain s.
func (p *Proc) LogCount(s string) int {
	b, _ := os.ReadFile(p.errPath)
	return strings.Count(string(b), s)
}

func (p *Proc) tail(n int) string {
	b, _ := os.ReadFile(p.errPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

func (p *Proc) cleanup() {
	if p.errFile != nil {
		_ = p.errFile.Close()
		p.errFile = nil
	}
	if os.Getenv("DIM_BENCH_KEEP") == "" {
		_ = os.RemoveAll(p.dir)
	}
}

// EnvFlag collects repeated -env K=V flags for the child's environment.
type EnvFlag []string

func (e *EnvFlag) String() string { return strings.Join(*e, " ") }

// Set adds one K=V pair.
func (e *EnvFlag) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("%q is not K=V", v)
	}
	*e = append(*e, v)
	return nil
}

// Diag is the last memory line printed by bench/gwdiag, if the child is that
// diagnostic build: Go heap and stack bytes in use right after a forced GC.
type Diag struct {
	HeapInuse, StackInuse, Sys, Goroutines int64
}

var diagLine = regexp.MustCompile(`(?m)^DIAG heapInuse=(\d+) stackInuse=(\d+) sys=(\d+) goroutines=(\d+)$`)

// LastDiag returns the child's latest DIAG line; false for the product binary.
func (p *Proc) LastDiag() (Diag, bool) {
	b, _ := os.ReadFile(p.errPath)
	all := diagLine.FindAllSubmatch(b, -1)
	if len(all) == 0 {
		return Diag{}, false
	}
	m := all[len(all)-1]
	n := func(i int) int64 { v, _ := strconv.ParseInt(string(m[i]), 10, 64); return v }
	return Diag{HeapInuse: n(1), StackInuse: n(2), Sys: n(3), Goroutines: n(4)}, true
}
