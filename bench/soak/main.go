// Command soak runs a mixed, bounded workload against a gateway for a set
// time and fails when the gateway's resources drift. It starts the
// simulated upstreams (cmd/fabric-sim) and a built gateway binary (dev
// mode) as two child processes on loopback, then:
//
//   - creates -sessions sessions, rotating over echo, coding-agent and
//     guarded-agent, and runs one turn in each (warm-up);
//   - closes every connection and takes the idle baseline: goroutines
//     (go_goroutines from /metrics), open fds (/proc/PID/fd) and RSS;
//   - for -duration, one driver per session runs turns one after another,
//     answering every permission prompt of guarded-agent (approve and deny
//     in turn) and reconnecting with a resume every few turns, while
//     -clients churning clients per session connect, join, read for a
//     random while and disconnect (close frame, leave_session or a dropped
//     socket), then come back either resuming (afterSeq + epoch) or as a
//     new client joining fresh;
//   - checks that every client sees every seq exactly once, in order,
//     across all its reconnects, and at the end resumes every client once
//     more and checks it reaches the session's latestSeq;
//   - closes everything, lets the gateway drain and takes the idle sample
//     again.
//
// It fails (exit 1, a line starting FAIL) on any lost or duplicated event,
// unexpected error frame or early close, when RSS under load at the end
// exceeds RSS under load after warm-up by more than -max-rss-growth (and
// -rss-slack), or when goroutines or fds after the drain stay above the
// idle baseline by more than -goroutine-slack / -fd-slack.
//
//	go build -o bin/ ./cmd/diminuendo ./cmd/fabric-sim ./bench/soak
//	bin/soak -duration 30m
//	bin/soak -duration 15s -sessions 10 -clients 3    # the smoke run
//
// Everything is bounded: -duration is at most 2 h and every wait has a
// deadline. The gateway and the simulators listen on 127.0.0.1 only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/bench/internal/gateway"
	"github.com/diminuendo/diminuendo/bench/internal/machine"
	"github.com/diminuendo/diminuendo/bench/internal/wire"
)

type options struct {
	gateway, fabric string
	duration        time.Duration
	warmup          time.Duration
	sampleEvery     time.Duration
	sessions        int
	clients         int
	maxLife         time.Duration
	stepDelay       time.Duration
	maxRSSGrowth    float64
	rssSlackMiB     float64
	goroutineSlack  int
	fdSlack         int
	env             gateway.EnvFlag
}

var agents = []string{"echo", "coding-agent", "guarded-agent"}

func main() {
	var o options
	flag.StringVar(&o.gateway, "gateway", "bin/diminuendo", "path to a built cmd/diminuendo binary (make build)")
	flag.StringVar(&o.fabric, "fabric", "bin/fabric-sim", "path to a built cmd/fabric-sim binary (make build)")
	flag.DurationVar(&o.duration, "duration", 30*time.Minute, "how long the mixed workload runs (at most 2h)")
	flag.DurationVar(&o.warmup, "warmup", 0, "workload time before the RSS baseline is taken (0: a tenth of -duration, 3 s to 3 min)")
	flag.DurationVar(&o.sampleEvery, "sample-every", 0, "interval of the progress samples (0: a tenth of -duration, 2 s to 1 min)")
	flag.IntVar(&o.sessions, "sessions", 50, "sessions, each with one driver running turns")
	flag.IntVar(&o.clients, "clients", 3, "churning clients per session, besides its driver")
	flag.DurationVar(&o.maxLife, "max-life", 10*time.Second, "a churning client stays connected a random 0.5 s to this long")
	flag.DurationVar(&o.stepDelay, "step-delay", 20*time.Millisecond, "pause between a simulated agent's events (fabric-sim -step-delay)")
	flag.Float64Var(&o.maxRSSGrowth, "max-rss-growth", 0.25, "allowed growth of RSS under load from the warm-up sample to the end, as a fraction")
	flag.Float64Var(&o.rssSlackMiB, "rss-slack", 16, "RSS growth in MiB allowed whatever the fraction (GC and allocator noise)")
	flag.IntVar(&o.goroutineSlack, "goroutine-slack", 10, "goroutines allowed above the idle baseline after the drain")
	flag.IntVar(&o.fdSlack, "fd-slack", 10, "open fds allowed above the idle baseline after the drain")
	flag.Var(&o.env, "env", "extra K=V for the gateway's environment, repeatable")
	flag.Parse()
	switch {
	case o.duration < 5*time.Second || o.duration > 2*time.Hour:
		fail(2, "-duration must be 5s-2h")
	case o.sessions < 1 || o.sessions > 1000:
		fail(2, "-sessions must be 1-1000")
	case o.clients < 0 || o.clients > 15:
		fail(2, "-clients must be 0-15 (one identity may hold 16 subscriptions per session, the driver takes one)")
	case o.maxLife < time.Second || o.maxLife > 10*time.Minute:
		fail(2, "-max-life must be 1s-10m")
	}
	if o.warmup == 0 {
		o.warmup = min(max(o.duration/10, 3*time.Second), 3*time.Minute)
	}
	if o.sampleEvery == 0 {
		o.sampleEvery = min(max(o.duration/10, 2*time.Second), time.Minute)
	}
	if o.warmup >= o.duration {
		fail(2, "-warmup must be shorter than -duration")
	}
	// Setup, the final catch-up and the drain take at most about 3 min.
	ctx, cancel := context.WithTimeout(context.Background(), o.duration+5*time.Minute)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	cancel()
	if err != nil {
		fail(1, "FAIL: "+err.Error())
	}
	fmt.Println("PASS")
}

func fail(code int, msg string) {
	fmt.Println(msg)
	os.Exit(code)
}

// sample is the gateway's resources at one moment.
type sample struct {
	at         time.Duration
	rssMiB     float64
	goroutines int
	fds        int
	upstream   int // of fds: sockets to the upstreams, the keep-alive pool included
	conns      int
}

// upstreamPorts are fabric-sim's ports, set once it runs.
var upstreamPorts map[int]bool

func take(ctx context.Context, gw *gateway.Proc, t0 time.Time) (sample, error) {
	s := sample{at: time.Since(t0)}
	m, err := gw.Mem()
	if err != nil {
		return s, err
	}
	s.rssMiB = float64(m.RSSKiB) / 1024
	if s.goroutines, err = gw.Goroutines(ctx); err != nil {
		return s, err
	}
	if s.fds, err = gw.FDs(); err != nil {
		return s, err
	}
	if s.upstream, err = gw.SocketsTo(upstreamPorts); err != nil {
		return s, err
	}
	h, err := gw.Health(ctx)
	if err != nil {
		return s, err
	}
	s.conns = h.Connections
	return s, nil
}

func (s sample) String() string {
	return fmt.Sprintf("t=%-8v RSS %6.1f MiB  goroutines %5d  fds %5d (upstream %3d)  connections %4d",
		s.at.Round(time.Second), s.rssMiB, s.goroutines, s.fds, s.upstream, s.conns)
}

// upstreamPool is the most idle keep-alive connections the gateway's HTTP
// clients keep to the three upstreams (MaxIdleConnsPerHost 64 each). Each
// holds an fd and two goroutines (its read and write loops) until it has
// been idle for 90 s.
const upstreamPool = 3 * 64

// drift is how far s is above the idle baseline base, once the upstream
// keep-alive pool's growth (bounded, and closed after 90 s idle) is taken
// out: in goroutines and in fds.
func drift(s, base sample) (goroutines, fds int) {
	pool := max(0, s.upstream-base.upstream)
	return s.goroutines - 2*pool - base.goroutines, s.fds - pool - base.fds
}

// counters are the workload's tallies, shared by every goroutine.
type counters struct {
	turns      [3]atomic.Int64 // by agent
	turnErrors atomic.Int64
	approved   atomic.Int64
	denied     atomic.Int64
	connects   atomic.Int64
	fresh      atomic.Int64 // joins without afterSeq
	resumes    atomic.Int64 // joins with afterSeq + epoch
	replays    atomic.Int64 // resumes that replayed at least one event
	leaves     atomic.Int64
	drops      atomic.Int64 // sockets closed without a close frame
	events     atomic.Int64
	lost       atomic.Int64
	dup        atomic.Int64
	problems   atomic.Int64

	mu   sync.Mutex
	bad  []string
	seen map[string]int
}

func (c *counters) problem(format string, args ...any) {
	c.problems.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bad) < 20 {
		c.bad = append(c.bad, fmt.Sprintf(format, args...))
	}
}

// fold adds a finished track's tallies.
func (c *counters) fold(who string, t *wire.Track) {
	c.events.Add(t.Events)
	c.lost.Add(t.Lost)
	c.dup.Add(t.Dup)
	for _, b := range t.Bad {
		c.problem("%s: %s", who, b)
	}
	*t = wire.Track{Last: t.Last, Epoch: t.Epoch}
}

type session struct {
	idx   int
	id    string
	agent int
}

func run(ctx context.Context, o options) error {
	fmt.Printf("machine: %s; load average %s\n", machine.Describe(), machine.LoadAvg())
	fmt.Printf("workload: %v; %d sessions (echo, coding-agent, guarded-agent in turn) × (1 driver + %d churning clients) = %d connections at most; fabric-sim step %v; %s\n",
		o.duration, o.sessions, o.clients, o.sessions*(o.clients+1), o.stepDelay, o.env.String())
	fmt.Printf("thresholds: RSS under load may grow %.0f%% (or %.0f MiB) after a %v warm-up; goroutines +%d and fds +%d over the idle baseline after the drain\n",
		o.maxRSSGrowth*100, o.rssSlackMiB, o.warmup, o.goroutineSlack, o.fdSlack)
	fab, err := gateway.StartFabric(ctx, o.fabric, o.stepDelay)
	if err != nil {
		return err
	}
	defer fab.Stop()
	upstreamPorts = fab.Ports()
	gw, err := gateway.Start(ctx, o.gateway, append(append([]string{"DEV_MODE=true"}, fab.Env...), o.env...)...)
	if err != nil {
		return err
	}
	defer gw.Kill()
	t0 := time.Now()
	var cnt counters

	// Warm-up: every session created, activated, and one turn run in it.
	sessions := make([]*session, o.sessions)
	drivers := make([]*driver, o.sessions)
	{
		errs := make(chan error, o.sessions)
		sem := make(chan struct{}, 8)
		for i := range sessions {
			go func(i int) {
				sem <- struct{}{}
				defer func() { <-sem }()
				s := &session{idx: i, agent: i % len(agents)}
				sessions[i] = s
				d := &driver{s: s, url: gw.WS, cnt: &cnt, rng: rand.New(rand.NewPCG(uint64(i), 1))}
				drivers[i] = d
				errs <- d.setup(ctx)
			}(i)
		}
		for range sessions {
			if e := <-errs; e != nil && err == nil {
				err = e
			}
		}
		if err != nil {
			return fmt.Errorf("setup: %w; gateway log: %s", err, gw.Tail())
		}
	}
	if err := waitConns(ctx, gw, 0, 15*time.Second); err != nil {
		return err
	}
	time.Sleep(time.Second) // let closed connections' goroutines end
	idle0, err := take(ctx, gw, t0)
	if err != nil {
		return err
	}
	fmt.Printf("idle baseline (%d sessions live, no connection): %s\n", o.sessions, idle0)

	// The workload.
	work, stopWork := context.WithCancel(ctx)
	defer stopWork()
	var wg sync.WaitGroup
	workers := make([]*worker, 0, o.sessions*o.clients)
	for _, d := range drivers {
		wg.Add(1)
		go func() { defer wg.Done(); d.run(work) }()
		for k := 0; k < o.clients; k++ {
			w := &worker{s: d.s, k: k, url: gw.WS, cnt: &cnt, maxLife: o.maxLife,
				rng: rand.New(rand.NewPCG(uint64(d.s.idx), uint64(k+2)))}
			workers = append(workers, w)
			wg.Add(1)
			go func() { defer wg.Done(); w.run(work) }()
		}
	}
	start := time.Now()
	var samples []sample
	var warm, loaded sample
	tick := time.NewTicker(o.sampleEvery)
	defer tick.Stop()
	warmAt := time.After(o.warmup)
	end := time.After(o.duration)
loop:
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-warmAt:
			if warm, err = take(ctx, gw, t0); err != nil {
				return err
			}
			fmt.Printf("warm (under load):  %s\n", warm)
		case <-tick.C:
			s, err := take(ctx, gw, t0)
			if err != nil {
				return err
			}
			samples = append(samples, s)
			fmt.Printf("sample:             %s  turns %d  events %d  problems %d\n", s, cnt.allTurns(), cnt.events.Load(), cnt.problems.Load())
		case <-end:
			if loaded, err = take(ctx, gw, t0); err != nil {
				return err
			}
			fmt.Printf("end (under load):   %s\n", loaded)
			break loop
		}
		if gw.Exited() {
			return fmt.Errorf("the gateway exited during the run: %s", gw.Tail())
		}
	}
	stopWork()
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(90 * time.Second):
		return errors.New("the workload did not wind down within 90 s of its end")
	}
	wall := time.Since(start)

	// Every client resumes once more and must reach the session's end.
	if err := catchUp(ctx, gw.WS, drivers, workers, &cnt); err != nil {
		return err
	}
	if err := waitConns(ctx, gw, 0, 30*time.Second); err != nil {
		return err
	}
	idle1, err := settle(ctx, gw, t0, idle0, o)
	if err != nil {
		return err
	}
	fmt.Printf("idle after drain:   %s\n", idle1)
	cuts := gw.LogCount("slow consumer cut off")

	// The summary.
	peak := loaded
	for _, s := range samples {
		if s.rssMiB > peak.rssMiB {
			peak = s
		}
	}
	fmt.Println()
	fmt.Println("| | RSS MiB | goroutines | open fds | of which upstream sockets | client connections |")
	fmt.Println("|---|---|---|---|---|---|")
	row := func(name string, s sample) {
		fmt.Printf("| %s (t=%v) | %.1f | %d | %d | %d | %d |\n", name, s.at.Round(time.Second), s.rssMiB, s.goroutines, s.fds, s.upstream, s.conns)
	}
	row("idle baseline, after setup", idle0)
	row("under load, after warm-up", warm)
	row("under load, peak RSS sample", peak)
	row("under load, end", loaded)
	row("idle, after drain", idle1)
	fmt.Println()
	fmt.Printf("workload %v: turns %d (echo %d, coding-agent %d, guarded-agent %d; turn errors %d); prompts answered %d (approved %d, denied %d)\n",
		wall.Round(time.Second), cnt.allTurns(), cnt.turns[0].Load(), cnt.turns[1].Load(), cnt.turns[2].Load(), cnt.turnErrors.Load(),
		cnt.approved.Load()+cnt.denied.Load(), cnt.approved.Load(), cnt.denied.Load())
	fmt.Printf("connections opened %d; fresh joins %d; rejoins with afterSeq+epoch %d (%d replayed missed events); disconnects: leave_session %d, dropped sockets %d, the rest close frames\n",
		cnt.connects.Load(), cnt.fresh.Load(), cnt.resumes.Load(), cnt.replays.Load(), cnt.leaves.Load(), cnt.drops.Load())
	fmt.Printf("sequenced events checked %d: lost %d, duplicated %d; other problems %d; slow-consumer cut-offs %d\n",
		cnt.events.Load(), cnt.lost.Load(), cnt.dup.Load(), cnt.problems.Load(), cuts)
	fmt.Printf("load average at the end: %s\n", machine.LoadAvg())

	var fails []string
	if n := cnt.problems.Load(); n > 0 || cnt.lost.Load() > 0 || cnt.dup.Load() > 0 {
		fails = append(fails, fmt.Sprintf("%d problem(s), %d lost, %d duplicated:\n  %s", n, cnt.lost.Load(), cnt.dup.Load(), strings.Join(cnt.bad, "\n  ")))
	}
	if cuts > 0 {
		fails = append(fails, fmt.Sprintf("the gateway cut off %d slow consumer(s)", cuts))
	}
	if allowed := max(warm.rssMiB*o.maxRSSGrowth, o.rssSlackMiB); loaded.rssMiB-warm.rssMiB > allowed {
		fails = append(fails, fmt.Sprintf("RSS under load grew from %.1f MiB after warm-up to %.1f MiB at the end (+%.1f MiB), over the %.1f MiB allowed",
			warm.rssMiB, loaded.rssMiB, loaded.rssMiB-warm.rssMiB, allowed))
	}
	dg, dfd := drift(idle1, idle0)
	fmt.Printf("after the drain, beyond the upstream keep-alive pool (%d -> %d sockets): goroutines %+d, fds %+d over the idle baseline\n", idle0.upstream, idle1.upstream, dg, dfd)
	if dg > o.goroutineSlack {
		fails = append(fails, fmt.Sprintf("goroutines after the drain %d, idle baseline %d, upstream sockets %d -> %d: %+d beyond the pool, over the +%d allowed",
			idle1.goroutines, idle0.goroutines, idle0.upstream, idle1.upstream, dg, o.goroutineSlack))
	}
	if dfd > o.fdSlack {
		fails = append(fails, fmt.Sprintf("open fds after the drain %d, idle baseline %d, upstream sockets %d -> %d: %+d beyond the pool, over the +%d allowed",
			idle1.fds, idle0.fds, idle0.upstream, idle1.upstream, dfd, o.fdSlack))
	}
	if idle1.upstream > idle0.upstream+upstreamPool {
		fails = append(fails, fmt.Sprintf("upstream sockets after the drain %d, idle baseline %d: more than the %d the keep-alive pool may hold", idle1.upstream, idle0.upstream, upstreamPool))
	}
	if len(fails) > 0 {
		return errors.New(strings.Join(fails, "\nFAIL: "))
	}
	fmt.Printf("RESULT duration=%v sessions=%d connections=%d: RSS %.1f -> %.1f MiB under load, goroutines %d -> %d and fds %d -> %d idle; turns %d, prompts %d, rejoins %d, events %d, lost 0, duplicated 0\n",
		o.duration, o.sessions, o.sessions*(o.clients+1), warm.rssMiB, loaded.rssMiB, idle0.goroutines, idle1.goroutines, idle0.fds, idle1.fds,
		cnt.allTurns(), cnt.approved.Load()+cnt.denied.Load(), cnt.resumes.Load(), cnt.events.Load())
	return nil
}

func (c *counters) allTurns() int64 {
	return c.turns[0].Load() + c.turns[1].Load() + c.turns[2].Load()
}

// waitConns waits until the gateway reports n open connections.
func waitConns(ctx context.Context, gw *gateway.Proc, n int, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		h, err := gw.Health(ctx)
		if err == nil && h.Connections == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the gateway still reports %d connection(s) %v after they were closed (want %d)", h.Connections, within, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// settle samples until goroutines and fds are back within the slack of the
// idle baseline, or 30 s have passed; the last sample is the verdict.
func settle(ctx context.Context, gw *gateway.Proc, t0 time.Time, base sample, o options) (sample, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := take(ctx, gw, t0)
		if err != nil {
			return s, err
		}
		if g, f := drift(s, base); time.Now().After(deadline) || (g <= o.goroutineSlack && f <= o.fdSlack) {
			return s, nil
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// catchUp resumes every client once more after the workload and checks
// that it reaches the session's latestSeq, which get_events reports.
func catchUp(ctx context.Context, url string, drivers []*driver, workers []*worker, cnt *counters) error {
	final := make(map[string]uint64, len(drivers))
	var mu sync.Mutex
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for _, d := range drivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := wire.Dial(ctx, url)
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			defer c.Close()
			f, err := wire.Request(c, map[string]any{"type": "get_events", "sessionId": d.s.id, "afterSeq": d.tr.Last, "requestId": "final"}, "events")
			if err != nil {
				firstErr.CompareAndSwap(nil, fmt.Errorf("session %d: get_events: %w", d.s.idx, err))
				return
			}
			if len(f.Events) != 0 || f.LatestSeq != d.tr.Last || f.Epoch != d.tr.Epoch {
				cnt.problem("session %d: the driver ended at seq %d (epoch %s) but get_events reports latestSeq %d (epoch %s) and %d more event(s)",
					d.s.idx, d.tr.Last, d.tr.Epoch, f.LatestSeq, f.Epoch, len(f.Events))
			}
			mu.Lock()
			final[d.s.id] = f.LatestSeq
			mu.Unlock()
		}()
	}
	wg.Wait()
	if e, ok := firstErr.Load().(error); ok {
		return fmt.Errorf("final get_events: %w", e)
	}
	for _, w := range workers {
		if !w.joined {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			w.final(ctx, final[w.s.id])
		}()
	}
	wg.Wait()
	return nil
}

// driver runs a session's turns.
type driver struct {
	s   *session
	url string
	cnt *counters
	rng *rand.Rand
	c   *websocket.Conn
	tr  wire.Track
	n   int // turns run
}

func (d *driver) name() string {
	return fmt.Sprintf("session %d (%s) driver", d.s.idx, agents[d.s.agent])
}

// setup creates the session, joins it, runs one turn and disconnects.
func (d *driver) setup(ctx context.Context) error {
	c, err := wire.Dial(ctx, d.url)
	if err != nil {
		return err
	}
	f, err := wire.Request(c, map[string]any{"type": "create_session", "agentType": agents[d.s.agent], "name": fmt.Sprintf("soak-%d", d.s.idx), "requestId": "c"}, "session_created")
	if err != nil {
		_ = c.Close()
		return fmt.Errorf("create_session: %w", err)
	}
	d.s.id = f.Session.ID
	snap, err := wire.Request(c, map[string]any{"type": "join_session", "sessionId": d.s.id, "requestId": "j"}, "state_snapshot")
	if err != nil {
		_ = c.Close()
		return fmt.Errorf("join_session: %w", err)
	}
	d.cnt.connects.Add(1)
	d.cnt.fresh.Add(1)
	d.c = c
	d.tr.Start(snap.Epoch, snap.LatestSeq)
	if err := d.turn(); err != nil {
		return err
	}
	d.disconnect()
	return nil
}

func (d *driver) disconnect() {
	if d.c != nil {
		_ = d.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		_ = d.c.Close()
		d.c = nil
	}
}

// resume reconnects and rejoins with afterSeq and epoch.
func (d *driver) resume(ctx context.Context) error {
	d.disconnect()
	c, err := wire.Dial(ctx, d.url)
	if err != nil {
		return err
	}
	d.cnt.connects.Add(1)
	snap, err := wire.Request(c, map[string]any{"type": "join_session", "sessionId": d.s.id, "afterSeq": d.tr.Last, "epoch": d.tr.Epoch, "requestId": "r"}, "state_snapshot")
	if err != nil {
		_ = c.Close()
		return fmt.Errorf("rejoin: %w", err)
	}
	d.cnt.resumes.Add(1)
	if !snap.ReplayComplete || snap.Epoch != d.tr.Epoch || snap.LatestSeq != d.tr.Last {
		d.cnt.problem("%s: rejoin after seq %d epoch %s: replayComplete %v, epoch %s, latestSeq %d", d.name(), d.tr.Last, d.tr.Epoch, snap.ReplayComplete, snap.Epoch, snap.LatestSeq)
	}
	d.c = c
	return nil
}

func (d *driver) run(ctx context.Context) {
	defer func() {
		d.disconnect()
		d.cnt.fold(d.name(), &d.tr)
	}()
	for ctx.Err() == nil {
		if d.c == nil || d.n%5 == 4 {
			if err := d.resume(ctx); err != nil {
				if ctx.Err() == nil {
					d.cnt.problem("%s: %v", d.name(), err)
					time.Sleep(time.Second)
				}
				continue
			}
		}
		if err := d.turn(); err != nil {
			d.cnt.problem("%s: %v", d.name(), err)
			d.disconnect()
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(200+d.rng.IntN(1300)) * time.Millisecond):
		}
	}
}

const echoText = "the quick brown fox jumps over the lazy dog while the gateway streams every token back to each joined client "

// turn runs one turn and reads until it ends, answering its prompts.
func (d *driver) turn() error {
	d.n++
	text := fmt.Sprintf("turn %d: %s", d.n, echoText)
	if err := wire.Send(d.c, map[string]any{"type": "run_turn", "sessionId": d.s.id, "text": text, "clientTurnId": fmt.Sprintf("t%d", d.n)}); err != nil {
		return fmt.Errorf("run_turn: %w", err)
	}
	_ = d.c.SetReadDeadline(time.Now().Add(60 * time.Second))
	defer d.c.SetReadDeadline(time.Time{})
	for {
		_, b, err := d.c.ReadMessage()
		if err != nil {
			return fmt.Errorf("turn %d: connection ended: %w", d.n, err)
		}
		f, err := wire.Parse(b)
		if err != nil {
			return fmt.Errorf("undecodable frame: %w", err)
		}
		if f.Type == "error" {
			return fmt.Errorf("turn %d: error frame %s: %s", d.n, f.Code, f.Message)
		}
		if f.Seq == 0 {
			continue
		}
		d.tr.See(f.Seq, f.Type)
		switch f.Type {
		case "permission_requested":
			approve := d.n%2 == 0
			if err := wire.Send(d.c, map[string]any{"type": "answer_question", "sessionId": d.s.id, "promptId": f.PromptID, "approved": approve}); err != nil {
				return fmt.Errorf("answer_question: %w", err)
			}
			if approve {
				d.cnt.approved.Add(1)
			} else {
				d.cnt.denied.Add(1)
			}
		case "turn_complete":
			d.cnt.turns[d.s.agent].Add(1)
			return nil
		case "turn_error":
			d.cnt.turnErrors.Add(1)
			return fmt.Errorf("turn %d ended in turn_error", d.n)
		}
	}
}

// worker is a churning client of one session.
type worker struct {
	s       *session
	k       int
	url     string
	cnt     *counters
	rng     *rand.Rand
	maxLife time.Duration
	tr      wire.Track
	joined  bool
	gen     int // a new client each time it joins fresh
}

func (w *worker) name() string {
	return fmt.Sprintf("session %d (%s) client %d.%d", w.s.idx, agents[w.s.agent], w.k, w.gen)
}

func (w *worker) run(ctx context.Context) {
	defer w.cnt.fold(w.name(), &w.tr)
	for ctx.Err() == nil {
		w.once(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(50+w.rng.IntN(450)) * time.Millisecond):
		}
	}
}

// once is one connection: join (fresh or resuming), read for a random
// while, disconnect one of three ways.
func (w *worker) once(ctx context.Context) {
	c, err := wire.Dial(ctx, w.url)
	if err != nil {
		if ctx.Err() == nil {
			w.cnt.problem("%s: dial: %v", w.name(), err)
		}
		return
	}
	w.cnt.connects.Add(1)
	fresh := !w.joined || w.rng.IntN(4) == 0
	join := map[string]any{"type": "join_session", "sessionId": w.s.id, "requestId": "j"}
	if !fresh {
		join["afterSeq"], join["epoch"] = w.tr.Last, w.tr.Epoch
	}
	snap, err := wire.Request(c, join, "state_snapshot")
	if err != nil {
		_ = c.Close()
		if ctx.Err() == nil {
			w.cnt.problem("%s: join: %v", w.name(), err)
		}
		return
	}
	if fresh {
		if w.joined {
			w.cnt.fold(w.name(), &w.tr)
			w.gen++
		}
		w.joined = true
		w.tr.Start(snap.Epoch, snap.LatestSeq)
		w.cnt.fresh.Add(1)
	} else {
		w.cnt.resumes.Add(1)
		if snap.LatestSeq > w.tr.Last {
			w.cnt.replays.Add(1)
		}
		if !snap.ReplayComplete || snap.Epoch != w.tr.Epoch {
			w.cnt.problem("%s: rejoin after seq %d epoch %s: replayComplete %v, epoch %s", w.name(), w.tr.Last, w.tr.Epoch, snap.ReplayComplete, snap.Epoch)
			w.tr.Start(snap.Epoch, snap.LatestSeq)
		}
	}
	life := 500*time.Millisecond + time.Duration(w.rng.Int64N(int64(w.maxLife-500*time.Millisecond)))
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	_ = c.SetReadDeadline(time.Now().Add(life))
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			var ne net.Error
			switch {
			case ctx.Err() != nil:
			case errors.As(err, &ne) && ne.Timeout():
				w.disconnect(c)
			default:
				w.cnt.problem("%s: connection ended: %v", w.name(), err)
			}
			_ = c.Close()
			return
		}
		f, err := wire.Parse(b)
		if err != nil {
			w.cnt.problem("%s: undecodable frame: %v", w.name(), err)
			continue
		}
		if f.Type == "error" {
			w.cnt.problem("%s: error frame %s: %s", w.name(), f.Code, f.Message)
			continue
		}
		if f.Seq != 0 {
			w.tr.See(f.Seq, f.Type)
		}
	}
}

// disconnect ends a connection in one of three ways. Writes still work
// after a read deadline has passed.
func (w *worker) disconnect(c *websocket.Conn) {
	switch w.rng.IntN(3) {
	case 0:
		w.cnt.leaves.Add(1)
		_ = wire.Send(c, map[string]any{"type": "leave_session", "sessionId": w.s.id})
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	case 1:
		w.cnt.drops.Add(1) // no close frame: the gateway sees the socket end
	default:
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), time.Now().Add(time.Second))
	}
}

// final resumes once more and reads until the session's last seq.
func (w *worker) final(ctx context.Context, last uint64) {
	defer w.cnt.fold(w.name(), &w.tr)
	c, err := wire.Dial(ctx, w.url)
	if err != nil {
		w.cnt.problem("%s: final dial: %v", w.name(), err)
		return
	}
	defer c.Close()
	w.cnt.connects.Add(1)
	w.cnt.resumes.Add(1)
	snap, err := wire.Request(c, map[string]any{"type": "join_session", "sessionId": w.s.id, "afterSeq": w.tr.Last, "epoch": w.tr.Epoch, "requestId": "f"}, "state_snapshot")
	if err != nil {
		w.cnt.problem("%s: final rejoin: %v", w.name(), err)
		return
	}
	if snap.LatestSeq > w.tr.Last {
		w.cnt.replays.Add(1)
	}
	if !snap.ReplayComplete || snap.Epoch != w.tr.Epoch || snap.LatestSeq != last {
		w.cnt.problem("%s: final rejoin after seq %d: replayComplete %v, epoch %s (had %s), latestSeq %d (want %d)",
			w.name(), w.tr.Last, snap.ReplayComplete, snap.Epoch, w.tr.Epoch, snap.LatestSeq, last)
		return
	}
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	for w.tr.Last < last {
		_, b, err := c.ReadMessage()
		if err != nil {
			w.cnt.problem("%s: final catch-up stopped at seq %d of %d: %v", w.name(), w.tr.Last, last, err)
			return
		}
		if f, err := wire.Parse(b); err == nil && f.Seq != 0 {
			w.tr.See(f.Seq, f.Type)
		}
	}
	_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
}
