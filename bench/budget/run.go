package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/diminuendo/diminuendo/bench/internal/gateway"
	"github.com/diminuendo/diminuendo/bench/internal/machine"
	"github.com/diminuendo/diminuendo/bench/internal/stats"
)

// result is one run's figures.
type result struct {
	rssIdle, rssConnected, rssJoined int64 // KiB
	hwm                              int64 // KiB, VmHWM at the end of the window
	rssMedianMiB, rssPeakMiB         float64
	connectRate                      float64 // connections/s, authenticate included
	connectDur, joinDur              time.Duration
	window                           time.Duration
	deliveriesPerSec                 float64
	eventsPerSession                 float64 // per streaming session per second
	runningMean                      float64 // turns streaming, mean of the samples
	lat                              summary
	gwCores, fabCores, toolCores     float64 // CPU-seconds per second in the window
	idleCores                        float64 // the gateway's, joined and not streaming (10 ms ticks over -settle)
	gwPerDelivery                    float64 // µs
	perFrame                         float64
	turns                            int64
	checked                          int64 // deliveries checked, the whole run
	split                            string
	refusals                         map[string]int
	rssStartMiB, rssEndMiB           float64 // first and last sample of the window
	joined, end                      goMem   // after the joins; at the end of the window
	heldEvents                       float64 // mean seq of the streaming sessions at the end of the window
}

// goMem is the gateway's Go heap and stacks as its /metrics reports them.
type goMem struct {
	heapMiB, stackMiB float64
	gcGoalMiB         float64 // the heap size at which the next GC ends: about twice the live heap at GOGC=100
	goroutines        int
}

// readRuntime scrapes /metrics, trying three times: on a saturated machine
// one scrape may miss its 5 s deadline. The figures are a breakdown, not a
// verdict, so none (all 0, printed as such) does not fail the run.
func readRuntime(ctx context.Context, gw *gateway.Proc) goMem {
	var m map[string]float64
	var err error
	for try := 0; try < 3; try++ {
		if m, err = gw.Metrics(ctx, "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes", "go_memstats_next_gc_bytes", "go_goroutines"); err == nil {
			break
		}
	}
	if err != nil {
		fmt.Printf("       (no heap figures: %v)\n", err)
		return goMem{}
	}
	return goMem{heapMiB: m["go_memstats_heap_inuse_bytes"] / (1 << 20), stackMiB: m["go_memstats_stack_inuse_bytes"] / (1 << 20),
		gcGoalMiB: m["go_memstats_next_gc_bytes"] / (1 << 20), goroutines: int(m["go_goroutines"])}
}

func (r result) print(i int, o options) {
	mib := func(k int64) float64 { return float64(k) / 1024 }
	fmt.Printf("run %d: RSS MiB idle %.1f, after %d connects %.1f (%.0f conn/s in %v), after %d joins %.1f (%v); streaming median %.1f, peak sample %.1f, VmHWM %.1f\n",
		i, mib(r.rssIdle), o.conns, mib(r.rssConnected), r.connectRate, r.connectDur.Round(time.Millisecond),
		o.conns, mib(r.rssJoined), r.joinDur.Round(time.Millisecond), r.rssMedianMiB, r.rssPeakMiB, mib(r.hwm))
	fmt.Printf("       window %v: %.0f deliveries/s (%d), %.1f turns streaming on average, %.1f events/s per streaming session, %.2f deliveries per frame; latency ms p50 %.1f p95 %.1f p99 %.1f max %.1f\n",
		r.window.Round(time.Millisecond), r.deliveriesPerSec, r.lat.count, r.runningMean, r.eventsPerSession, r.perFrame, r.lat.p50, r.lat.p95, r.lat.p99, r.lat.max)
	fmt.Printf("       gateway CPU idle after the joins %.3f cores; while streaming %.2f cores = %.1f µs per delivery; fabric-sim %.2f cores; load tool %.2f cores; %d turns completed; %d deliveries checked: every client gapless, no duplicate\n",
		r.idleCores, r.gwCores, r.gwPerDelivery, r.fabCores, r.toolCores, r.turns, r.checked)
	fmt.Printf("       RSS during the window: first sample %.1f MiB, last %.1f MiB; Go heap in use %.1f MiB (GC goal %.1f), stacks %.1f MiB, %d goroutines after the joins; %.1f MiB (GC goal %.1f), %.1f MiB, %d goroutines at the end of the window; streaming sessions at seq %.0f on average\n",
		r.rssStartMiB, r.rssEndMiB, r.joined.heapMiB, r.joined.gcGoalMiB, r.joined.stackMiB, r.joined.goroutines,
		r.end.heapMiB, r.end.gcGoalMiB, r.end.stackMiB, r.end.goroutines, r.heldEvents)
	if len(r.refusals) > 0 {
		fmt.Printf("       run_turn refused and retried after 0.5-1.5 s: %v\n", r.refusals)
	}
	fmt.Printf("       CPU %s\n", r.split)
}

// once runs the whole workload against fresh processes.
func once(ctx context.Context, o options, env []string, is *issuer) (r result, err error) {
	cps := o.conns / o.sessions
	var fabArgs []string
	if o.fabricPprof != "" {
		fabArgs = []string{"-pprof", o.fabricPprof}
	}
	fab, err := gateway.StartFabric(ctx, o.fabric, o.stepDelay, fabArgs...)
	if err != nil {
		return r, err
	}
	defer fab.Stop()
	gw, err := gateway.Start(ctx, o.gateway, append(slices.Clone(fab.Env), env...)...)
	if err != nil {
		return r, err
	}
	defer gw.Kill()
	fail := func(err error) (result, error) {
		return r, fmt.Errorf("%w; gateway log: %s", err, gw.Tail())
	}

	// Idle: one connection through the whole path, then none.
	warm, err := connect(ctx, gw.WS, is.tokens[o.conns], o.batch)
	if err != nil {
		return fail(fmt.Errorf("warm-up connection: %w", err))
	}
	_ = warm.Close()
	if err := waitHealth(ctx, gw, func(h gateway.Health) bool { return h.Connections == 0 }); err != nil {
		return fail(err)
	}
	if r.rssIdle, err = settledRSS(ctx, gw, o.settle); err != nil {
		return r, err
	}

	sh := &shared{lat: new(hist)}
	sessions := make([]*session, o.sessions)
	for s := range sessions {
		sessions[s] = &session{idx: s, clients: make([]*client, cps)}
	}
	var readers sync.WaitGroup
	defer func() {
		sh.closing.Store(true)
		for _, s := range sessions {
			for _, cl := range s.clients {
				if cl != nil {
					_ = cl.c.Close()
				}
			}
		}
		waitGroup(&readers, 30*time.Second)
	}()

	// Connect: every client authenticates with its own token.
	t0 := time.Now()
	err = parallel(ctx, o.conns, o.concurrency, func(i int) error {
		c, err := connect(ctx, gw.WS, is.tokens[i], o.batch)
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		s := sessions[i/cps]
		s.clients[i%cps] = &client{c: c, s: s, k: i % cps, driver: i%cps == 0}
		return nil
	})
	r.connectDur = time.Since(t0)
	if err != nil {
		return fail(err)
	}
	r.connectRate = float64(o.conns) / r.connectDur.Seconds()
	if err := waitHealth(ctx, gw, func(h gateway.Health) bool { return h.Connections == o.conns }); err != nil {
		return fail(err)
	}
	if r.rssConnected, err = settledRSS(ctx, gw, o.settle); err != nil {
		return r, err
	}

	// Join: each session created by its first client and joined by all.
	t0 = time.Now()
	text := longText(o.textBytes)
	err = parallel(ctx, o.sessions, o.concurrency, func(s int) error {
		return setup(sessions[s], s < o.turns, text)
	})
	r.joinDur = time.Since(t0)
	if err != nil {
		return fail(err)
	}
	for _, s := range sessions {
		for _, cl := range s.clients {
			readers.Add(1)
			go cl.read(sh, &readers)
		}
	}
	if err := waitHealth(ctx, gw, func(h gateway.Health) bool { return h.ActiveSessions == o.sessions }); err != nil {
		return fail(err)
	}
	// Idle CPU: every connection joined, nothing streaming; what remains
	// is heartbeats, pings, upstream probes and the runtime (GC, timers).
	idle0, err := gw.CPU()
	if err != nil {
		return r, err
	}
	t0 = time.Now()
	if r.rssJoined, err = settledRSS(ctx, gw, o.settle); err != nil {
		return r, err
	}
	idle1, err := gw.CPU()
	if err != nil {
		return r, err
	}
	r.idleCores = (idle1 - idle0).Seconds() / time.Since(t0).Seconds()
	r.joined = readRuntime(ctx, gw)

	// Stream: the drivers start, the first turns spread over half the warm-up.
	sh.driving.Store(true)
	drivers := make([]*client, o.turns)
	for s := range drivers {
		drivers[s] = sessions[s].clients[0]
	}
	go func() {
		start := time.Now()
		for k, d := range drivers {
			if o.turns > 1 {
				time.Sleep(time.Until(start.Add(time.Duration(k) * o.warmup / 2 / time.Duration(o.turns))))
			}
			if ctx.Err() != nil || !sh.driving.Load() {
				return
			}
			d.startTurn(sh)
		}
	}()
	if err := sleep(ctx, o.warmup); err != nil {
		return r, err
	}
	// Said as it happens, so that a profile can be taken in the window.
	fmt.Printf("       measuring for %v from %s\n", o.duration, time.Now().Format("15:04:05"))
	if err := measure(ctx, o, gw, fab, sh, &r); err != nil {
		return fail(err)
	}
	r.end = readRuntime(ctx, gw)
	var held float64
	for _, d := range drivers {
		held += float64(d.last.Load())
	}
	r.heldEvents = held / float64(max(len(drivers), 1))

	// Drain: no new turns; the running ones finish; everyone catches up.
	sh.driving.Store(false)
	if err := until(ctx, 120*time.Second, func() bool { return sh.running.Load() == 0 }); err != nil {
		return fail(fmt.Errorf("%d turn(s) still running 120 s after the drivers stopped", sh.running.Load()))
	}
	caughtUp := func() bool {
		for _, s := range sessions {
			for _, cl := range s.clients {
				if cl.last.Load() < s.final.Load() {
					return false
				}
			}
		}
		return true
	}
	if err := until(ctx, 60*time.Second, caughtUp); err != nil {
		return fail(fmt.Errorf("clients did not reach their session's last seq within 60 s: %s", lagging(sessions)))
	}
	if gw.Exited() {
		return r, errors.New("the gateway exited during the run")
	}
	cuts := gw.LogCount("slow consumer cut off")
	sh.closing.Store(true)
	for _, s := range sessions {
		for _, cl := range s.clients {
			_ = cl.c.Close()
		}
	}
	if !waitGroup(&readers, 30*time.Second) {
		return r, errors.New("readers did not end within 30 s of closing their connections")
	}
	r.turns = sh.turns.Load()
	r.refusals = sh.refusals

	// Check: every client has exactly the seqs after its snapshot, in order.
	var problems []string
	var frames int64
	for _, s := range sessions {
		final := s.final.Load()
		for _, cl := range s.clients {
			want := final - min(final, cl.first)
			got := cl.count.Load()
			r.checked += got
			frames += cl.frames
			if cl.nbad > 0 || uint64(got) != want || cl.last.Load() != max(final, cl.first) {
				problems = append(problems, fmt.Sprintf("session %d client %d: got %d events (want %d, seq %d..%d), last seq %d; %d problem(s): %s",
					s.idx, cl.k, got, want, cl.first+1, final, cl.last.Load(), cl.nbad, strings.Join(cl.bad, "; ")))
			}
		}
	}
	if cuts > 0 {
		problems = append(problems, fmt.Sprintf("the gateway cut off %d slow consumer(s)", cuts))
	}
	if o.turns > 0 && r.turns == 0 {
		problems = append(problems, "no turn completed")
	}
	if len(problems) > 0 {
		n := len(problems)
		if n > 10 {
			problems = append(problems[:10], fmt.Sprintf("... and %d more", n-10))
		}
		return r, fmt.Errorf("EVENTS LOST, REPEATED OR OUT OF ORDER, or errors (%d client(s)):\n  %s", n, strings.Join(problems, "\n  "))
	}
	if frames > 0 {
		r.perFrame = float64(r.checked) / float64(frames)
	}
	return r, nil
}

// measure is the window: latencies recorded, RSS sampled, CPU read at both
// ends.
func measure(ctx context.Context, o options, gw *gateway.Proc, fab *gateway.Fabric, sh *shared, r *result) error {
	g0, err := gw.CPU()
	if err != nil {
		return err
	}
	f0, err := fab.CPU()
	if err != nil {
		return err
	}
	m0 := machine.Sample()
	sh.record.Store(true)
	start := time.Now()
	var rss, running []float64
	n := int(o.duration / o.sample)
	for i := 1; i <= n; i++ {
		if err := sleep(ctx, time.Until(start.Add(time.Duration(i)*o.sample))); err != nil {
			return err
		}
		m, err := gw.Mem()
		if err != nil {
			return fmt.Errorf("gateway memory: %w (exited: %v)", err, gw.Exited())
		}
		rss = append(rss, float64(m.RSSKiB)/1024)
		running = append(running, float64(sh.streaming.Load()))
	}
	if err := sleep(ctx, time.Until(start.Add(o.duration))); err != nil {
		return err
	}
	sh.record.Store(false)
	r.window = time.Since(start)
	g1, err := gw.CPU()
	if err != nil {
		return err
	}
	f1, err := fab.CPU()
	if err != nil {
		return err
	}
	m1 := machine.Sample()
	m, err := gw.Mem()
	if err != nil {
		return err
	}
	r.hwm = m.HWMKiB
	r.lat = sh.lat.summary()
	secs := r.window.Seconds()
	r.deliveriesPerSec = float64(r.lat.count) / secs
	r.rssMedianMiB, r.rssPeakMiB = stats.Median(rss), slices.Max(rss)
	r.rssStartMiB, r.rssEndMiB = rss[0], rss[len(rss)-1]
	var sum float64
	for _, x := range running {
		sum += x
	}
	r.runningMean = sum / float64(len(running))
	if r.runningMean > 0 {
		r.eventsPerSession = r.deliveriesPerSec / float64(o.conns/o.sessions) / r.runningMean
	}
	r.gwCores = (g1 - g0).Seconds() / secs
	r.fabCores = (f1 - f0).Seconds() / secs
	r.toolCores = (m1.Self - m0.Self).Seconds() / m1.At.Sub(m0.At).Seconds()
	if r.lat.count > 0 {
		r.gwPerDelivery = float64((g1 - g0).Microseconds()) / float64(r.lat.count)
	}
	r.split = machine.Split(m0, m1, machine.Part{Name: "gateway", CPU: g1 - g0}, machine.Part{Name: "fabric-sim", CPU: f1 - f0})
	return nil
}

// setup creates session s on its first client's connection and joins every
// client; a streaming session also gets its run_turn encoded once.
func setup(s *session, streaming bool, text string) error {
	first := s.clients[0]
	msg, _ := json.Marshal(map[string]string{"type": "create_session", "agentType": "echo", "name": fmt.Sprintf("budget-%d", s.idx), "requestId": "c"})
	b, err := request(first.c, msg, "session_created")
	if err != nil {
		return fmt.Errorf("session %d: create_session: %w", s.idx, err)
	}
	var created struct {
		Session struct {
			ID string `json:"id"`
		} `json:"session"`
	}
	if err := json.Unmarshal(b, &created); err != nil || created.Session.ID == "" {
		return fmt.Errorf("session %d: session_created without an id: %.200s", s.idx, b)
	}
	s.id = created.Session.ID
	join, _ := json.Marshal(map[string]string{"type": "join_session", "sessionId": s.id, "requestId": "j"})
	for _, cl := range s.clients {
		b, err := request(cl.c, join, "state_snapshot")
		if err != nil {
			return fmt.Errorf("session %d client %d: join_session: %w", s.idx, cl.k, err)
		}
		var snap struct {
			LatestSeq uint64 `json:"latestSeq"`
		}
		if err := json.Unmarshal(b, &snap); err != nil {
			return fmt.Errorf("session %d client %d: state_snapshot: %w", s.idx, cl.k, err)
		}
		cl.first = snap.LatestSeq
		cl.last.Store(snap.LatestSeq)
	}
	s.final.Store(s.clients[0].first)
	if streaming {
		s.runTurn, _ = json.Marshal(map[string]string{"type": "run_turn", "sessionId": s.id, "text": text, "requestId": turnRequestID})
	}
	return nil
}

// parallel runs f(0..n-1) on at most c goroutines and returns the first
// error; after one, no new index starts.
func parallel(ctx context.Context, n, c int, f func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	var failed atomic.Bool
	for w := 0; w < min(c, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || failed.Load() || ctx.Err() != nil {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err; failed.Store(true) })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		return ctx.Err()
	}
	return first
}

func settledRSS(ctx context.Context, gw *gateway.Proc, settle time.Duration) (int64, error) {
	if err := sleep(ctx, settle); err != nil {
		return 0, err
	}
	m, err := gw.Mem()
	return m.RSSKiB, err
}

// waitHealth polls /api/health for up to 30 s until ok(h).
func waitHealth(ctx context.Context, gw *gateway.Proc, ok func(gateway.Health) bool) error {
	var last gateway.Health
	var lastErr error
	err := until(ctx, 30*time.Second, func() bool {
		last, lastErr = gw.Health(ctx)
		return lastErr == nil && ok(last)
	})
	if err != nil {
		return fmt.Errorf("gateway health not as expected within 30 s: %d connections, %d active sessions (%v)", last.Connections, last.ActiveSessions, lastErr)
	}
	return nil
}

// until polls cond every 50 ms for at most within.
func until(ctx context.Context, within time.Duration, cond func() bool) error {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitGroup waits for wg at most within; false if it did not end.
func waitGroup(wg *sync.WaitGroup, within time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(within):
		return false
	}
}

func lagging(sessions []*session) string {
	var out []string
	n := 0
	for _, s := range sessions {
		for _, cl := range s.clients {
			if l := cl.last.Load(); l < s.final.Load() {
				n++
				if len(out) < 10 {
					out = append(out, fmt.Sprintf("session %d client %d at seq %d of %d", s.idx, cl.k, l, s.final.Load()))
				}
			}
		}
	}
	return fmt.Sprintf("%d behind: %s", n, strings.Join(out, "; "))
}

// longText is n bytes of ASCII words.
func longText(n int) string {
	const words = "the quick brown fox jumps over the lazy dog while streaming tokens back to every attached client "
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(words)
	}
	return b.String()[:n]
}
