package gateway

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// scrape opens a new connection per request, so that the sampler holds no
// idle connection (a goroutine and an fd in the child) between samples.
var scrape = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// FDs counts the child's open file descriptors (/proc/<pid>/fd).
func (p *Proc) FDs() (int, error) {
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.Pid()))
	return len(es), err
}

// Goroutines reads go_goroutines from the child's /metrics, which the
// gateway serves on its own listener unless METRICS_ADDR moves it.
func (p *Proc) Goroutines(ctx context.Context) (int, error) {
	m, err := p.Metrics(ctx, "go_goroutines")
	if err != nil {
		return 0, err
	}
	return int(m["go_goroutines"]), nil
}

// Metrics reads the named unlabelled series from the child's /metrics;
// every name must be there.
func (p *Proc) Metrics(ctx context.Context, names ...string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/metrics", nil)
	resp, err := scrape.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || !want[name] {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, fmt.Errorf("/metrics %s: %w", name, err)
		}
		out[name] = f
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("/metrics has no %s", n)
		}
	}
	return out, nil
}

// Port is the TCP port the child listens on.
func (p *Proc) Port() string {
	i := strings.LastIndexByte(p.URL, ':')
	return p.URL[i+1:]
}

// SocketsTo counts the child's TCP sockets whose remote port is one of
// ports: its connections to the upstreams, which include the idle
// keep-alive pool of its HTTP clients (up to 64 per upstream, closed after
// 90 s idle), so that a drift check can tell that pool from a leak.
func (p *Proc) SocketsTo(ports map[int]bool) (int, error) {
	mine := map[string]bool{}
	dir := fmt.Sprintf("/proc/%d/fd", p.Pid())
	es, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	for _, e := range es {
		l, err := os.Readlink(dir + "/" + e.Name())
		if err != nil {
			continue
		}
		if inode, ok := strings.CutPrefix(l, "socket:["); ok {
			mine[strings.TrimSuffix(inode, "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", p.Pid(), table))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || !mine[f[9]] {
				continue
			}
			_, port, ok := strings.Cut(f[2], ":") // rem_address, hex
			if !ok {
				continue
			}
			if v, err := strconv.ParseInt(port, 16, 32); err == nil && ports[int(v)] {
				n++
			}
		}
	}
	return n, nil
}
