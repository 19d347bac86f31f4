// Command storm measures a reconnect storm: how long every client of a
// restarted gateway takes to come back and catch up through resume, and
// whether any event is lost or repeated on the way.
//
// It starts the simulated upstreams (cmd/fabric-sim) and a built gateway
// (dev mode) as separate processes on loopback, creates -sessions sessions
// with -clients clients joined to each, and has one client per session run
// coding-agent turns back to back. After -warm it ends the gateway with
// SIGTERM (every client gets close 1012, the process drains and exits) and
// starts a new gateway process on the same port; the upstreams, and the
// turns running in them, carry on. Every client reconnects with jittered
// exponential backoff (a first delay drawn from [0, -jitter), then
// 100 ms × 2^n capped at 2 s, with full jitter) and rejoins with afterSeq
// and epoch. A client is back when its rejoin's replay has reached the
// snapshot's latestSeq; the figure is the time from SIGTERM until the last
// client is back.
//
// Then the turns stop, and each client's list of seqs, from its first join
// to the end, is compared with the session's get_events: an event missing
// from a client is lost, one seen twice is duplicated. Both must be 0.
//
//	go build -o bin/ ./cmd/diminuendo ./cmd/fabric-sim ./bench/storm
//	bin/storm -sessions 1000 -clients 5 -runs 3
//
// Every wait has a deadline and the whole run is bounded by -timeout; the
// processes listen on 127.0.0.1 only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/bench/internal/gateway"
	"github.com/diminuendo/diminuendo/bench/internal/machine"
	"github.com/diminuendo/diminuendo/bench/internal/stats"
	"github.com/diminuendo/diminuendo/bench/internal/wire"
)

type options struct {
	gateway, fabric string
	sessions        int
	clients         int
	stepDelay       time.Duration
	warm            time.Duration
	jitter          time.Duration
	goal            time.Duration
	runs            int
	timeout         time.Duration
	env             gateway.EnvFlag
}

func main() {
	var o options
	flag.StringVar(&o.gateway, "gateway", "bin/diminuendo", "path to a built cmd/diminuendo binary (make build)")
	flag.StringVar(&o.fabric, "fabric", "bin/fabric-sim", "path to a built cmd/fabric-sim binary (make build)")
	flag.IntVar(&o.sessions, "sessions", 1000, "sessions, each running coding-agent turns back to back")
	flag.IntVar(&o.clients, "clients", 5, "clients joined to each session (the first drives the turns)")
	flag.DurationVar(&o.stepDelay, "step-delay", 500*time.Millisecond, "pause between a simulated agent's events (fabric-sim -step-delay); it sets the event rate")
	flag.DurationVar(&o.warm, "warm", 10*time.Second, "turns run this long before the restart")
	flag.DurationVar(&o.jitter, "jitter", time.Second, "each client waits a random [0, jitter) after the close before its first reconnect")
	flag.DurationVar(&o.goal, "goal", 60*time.Second, "every client must be back within this long of the SIGTERM")
	flag.IntVar(&o.runs, "runs", 1, "independent runs, each with fresh processes")
	flag.DurationVar(&o.timeout, "timeout", 15*time.Minute, "hard limit on the whole command")
	flag.Var(&o.env, "env", "extra K=V for the gateway's environment, repeatable")
	flag.Parse()
	switch {
	case o.sessions < 1 || o.sessions > 1250:
		fail(2, "-sessions must be 1-1250 (MAX_ACTIVE_SESSIONS_PER_TENANT; dev mode is one tenant)")
	case o.clients < 1 || o.clients > 16:
		fail(2, "-clients must be 1-16 (SESSION_MAX_SUBSCRIBERS_PER_USER; dev mode is one user)")
	case o.sessions*o.clients > 9000:
		fail(2, "at most 9000 clients (MAX_CONNECTIONS is 10000)")
	case o.runs < 1 || o.runs > 5:
		fail(2, "-runs must be 1-5")
	case o.warm < time.Second || o.warm > 5*time.Minute:
		fail(2, "-warm must be 1s-5m")
	}
	machine.RaiseFDLimit(o.sessions*o.clients + 1000)
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
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
	fmt.Println("storm:", msg)
	os.Exit(code)
}

type result struct {
	back, p50, p99 time.Duration // last client back; median and p99 of the clients
	restart        time.Duration // SIGTERM until the new gateway answered /api/health
	exit           time.Duration // SIGTERM until the old process exited
	attempts       int64         // connection attempts during the storm
	codes          map[int]int   // close codes the clients saw
	events, lost   int64
	dup, turns     int64
	replayed       int64 // events replayed by the rejoins
	cpu            time.Duration
	share          string
}

func run(ctx context.Context, o options) error {
	fmt.Printf("machine: %s; load average %s\n", machine.Describe(), machine.LoadAvg())
	fmt.Printf("storm: %d sessions × %d clients = %d clients; coding-agent turns back to back, fabric-sim step %v; restart after %v; first reconnect jitter %v; %d run(s) %s\n",
		o.sessions, o.clients, o.sessions*o.clients, o.stepDelay, o.warm, o.jitter, o.runs, o.env.String())
	var rs []result
	for i := 1; i <= o.runs; i++ {
		r, err := once(ctx, o)
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		rs = append(rs, r)
		fmt.Printf("run %d: all %d clients back in %v (median %v, p99 %v) after SIGTERM; old process exited after %v, new one healthy after %v; %d connection attempts; close codes %v; %d events replayed by rejoins; %d turns; %d events checked against get_events: %d lost, %d duplicated\n       new gateway CPU during the storm %v; %s\n",
			i, o.sessions*o.clients, r.back.Round(time.Millisecond), r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond),
			r.exit.Round(time.Millisecond), r.restart.Round(time.Millisecond), r.attempts, r.codes, r.replayed, r.turns, r.events, r.lost, r.dup,
			r.cpu.Round(10*time.Millisecond), r.share)
	}
	var backs []float64
	for _, r := range rs {
		backs = append(backs, r.back.Seconds())
	}
	slices.Sort(backs)
	fmt.Printf("RESULT sessions=%d clients=%d runs=%d: every client back in median %.2f s [%.2f–%.2f]; 0 lost, 0 duplicated\n",
		o.sessions, o.sessions*o.clients, len(rs), stats.Median(backs), backs[0], backs[len(backs)-1])
	return nil
}

type session struct {
	idx int
	id  string
}

// client is one connection to one session, and its reconnects. Its reader
// goroutine owns the connection and every field but the atomics.
type client struct {
	s      *session
	k      int
	url    string
	rng    *rand.Rand
	c      *websocket.Conn
	tr     wire.Track
	first  uint64   // latestSeq of the first snapshot
	seqs   []uint64 // every sequenced event received, in order of arrival
	bad    []string
	code   int // close code of the restart
	driver bool

	backAt   atomic.Int64 // Unix ns when it had caught up after the restart
	last     atomic.Uint64
	turn     int         // driver: turns sent
	pending  atomic.Bool // driver: a turn sent and not complete
	userSeen string      // driver: clientTurnId of the last user_message
	done     chan struct{}
	trace    []string        // driver: the last few turn actions, for error reports
	sentOn   *websocket.Conn // driver: the connection the pending run_turn went out on
}

func (cl *client) note(format string, args ...any) {
	if !cl.driver {
		return
	}
	cl.trace = append(cl.trace, fmt.Sprintf(format, args...))
	if len(cl.trace) > 8 {
		cl.trace = cl.trace[1:]
	}
}

func (cl *client) problem(format string, args ...any) {
	if len(cl.bad) < 5 {
		cl.bad = append(cl.bad, fmt.Sprintf(format, args...))
	}
}

// shared is what the clients read of the run's phase.
type shared struct {
	restarting atomic.Bool  // the SIGTERM is on its way: closes are expected
	driving    atomic.Bool  // drivers start new turns
	closing    atomic.Bool  // the tool closes everything
	attempts   atomic.Int64 // connection attempts after the restart
	turns      atomic.Int64
	replayed   atomic.Int64
	t0         atomic.Int64 // Unix ns of the SIGTERM

	turnRetries atomic.Int64 // run_turn refused as retryable, or found already running
	incomplete  atomic.Int64 // rejoins answered replayComplete:false, retried
	mu          sync.Mutex
	refusals    map[string]int
}

func (sh *shared) noteRefusal(s string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.refusals == nil {
		sh.refusals = map[string]int{}
	}
	sh.refusals[s]++
}

func once(ctx context.Context, o options) (r result, err error) {
	fab, err := gateway.StartFabric(ctx, o.fabric, o.stepDelay)
	if err != nil {
		return r, err
	}
	defer fab.Stop()
	env := append(append([]string{"DEV_MODE=true", "SHUTDOWN_DRAIN=10s"}, fab.Env...), o.env...)
	gw, err := gateway.Start(ctx, o.gateway, env...)
	if err != nil {
		return r, err
	}
	defer func() { gw.Kill() }()
	port := gw.Port()

	var sh shared
	sh.driving.Store(true)
	sessions := make([]*session, o.sessions)
	clients := make([][]*client, o.sessions)
	defer func() {
		sh.closing.Store(true)
		for _, cs := range clients {
			for _, cl := range cs {
				if cl.c != nil {
					_ = cl.c.Close()
				}
			}
		}
	}()

	// Set up: sessions created and joined, the drivers' first turn sent.
	setupStart := time.Now()
	errs := make(chan error, o.sessions)
	sem := make(chan struct{}, 32)
	for i := range sessions {
		sessions[i] = &session{idx: i}
		go func(s *session) {
			sem <- struct{}{}
			defer func() { <-sem }()
			cs, err := setup(ctx, gw.WS, s, o.clients)
			clients[s.idx] = cs
			errs <- err
		}(sessions[i])
	}
	for range sessions {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return r, fmt.Errorf("setup: %w; gateway log: %s", err, gw.Tail())
	}
	var readers sync.WaitGroup
	for _, cs := range clients {
		for _, cl := range cs {
			readers.Add(1)
			go func() { defer readers.Done(); cl.read(ctx, &sh, o) }()
		}
	}
	fmt.Printf("  set up %d clients in %v; turns run for %v\n", o.sessions*o.clients, time.Since(setupStart).Round(time.Millisecond), o.warm)
	select {
	case <-ctx.Done():
		return r, ctx.Err()
	case <-time.After(o.warm):
	}
	if h, err := gw.Health(ctx); err != nil || h.Connections != o.sessions*o.clients {
		return r, fmt.Errorf("before the restart the gateway reports %d connections (%v), want %d", h.Connections, err, o.sessions*o.clients)
	}
	turnsBefore := sh.turns.Load()

	// The restart.
	sh.restarting.Store(true)
	t0 := time.Now()
	sh.t0.Store(t0.UnixNano())
	gw.Stop() // SIGTERM: close 1012 to everyone, drain, exit
	r.exit = time.Since(t0)
	m0 := machine.Sample()
	// On a loaded machine the new process may miss gateway.Start's 15 s
	// startup deadline (it probes every upstream first): try again.
	var next *gateway.Proc
	for try := 1; ; try++ {
		next, err = gateway.Start(ctx, o.gateway, append(env, "PORT="+port)...)
		if err == nil {
			break
		}
		if try == 3 || ctx.Err() != nil {
			return r, fmt.Errorf("the new gateway on port %s: %w", port, err)
		}
		fmt.Printf("  the new gateway did not start (%v); again\n", err)
	}
	gw = next
	r.restart = time.Since(t0)
	total := o.sessions * o.clients
	deadline := t0.Add(max(o.goal, 120*time.Second))
	for {
		n := 0
		for _, cs := range clients {
			for _, cl := range cs {
				if cl.backAt.Load() != 0 {
					n++
				}
			}
		}
		if n == total {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return r, fmt.Errorf("%d of %d clients back %v after the SIGTERM; gateway log: %s", n, total, time.Since(t0).Round(time.Second), gw.Tail())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var backs []float64
	for _, cs := range clients {
		for _, cl := range cs {
			backs = append(backs, float64(cl.backAt.Load()-t0.UnixNano()))
		}
	}
	slices.Sort(backs)
	r.back = time.Duration(backs[len(backs)-1])
	r.p50, r.p99 = time.Duration(stats.Sorted(backs, 50)), time.Duration(stats.Sorted(backs, 99))
	r.attempts = sh.attempts.Load()
	if cpu, err := gw.CPU(); err == nil {
		r.cpu = cpu
		r.share = machine.Share(m0, machine.Sample(), cpu)
	}

	// Turns go on after the storm; then they stop and every list is checked.
	select {
	case <-ctx.Done():
		return r, ctx.Err()
	case <-time.After(3 * time.Second):
	}
	fmt.Printf("  storm: all %d clients back in %v (median %v, p99 %v) after SIGTERM; old process exited after %v, new one healthy after %v; %d connection attempts\n",
		total, r.back.Round(time.Millisecond), r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond), r.exit.Round(time.Millisecond), r.restart.Round(time.Millisecond), r.attempts)
	if n := sh.incomplete.Load(); n > 0 {
		fmt.Printf("  %d rejoins answered replayComplete:false (retried after a backoff)\n", n)
	}
	if n := sh.turnRetries.Load(); n > 0 {
		fmt.Printf("  run_turn refused %d times (retried, or the turn was running after all): %v\n", n, sh.refusals)
	}
	sh.driving.Store(false)
	if err := waitDrivers(ctx, clients, 90*time.Second); err != nil {
		return r, err
	}
	r.turns = sh.turns.Load()
	if r.turns <= turnsBefore {
		return r, fmt.Errorf("no turn completed after the restart (%d before)", turnsBefore)
	}
	want, err := allEvents(ctx, gw.WS, sessions)
	if err != nil {
		return r, err
	}
	if err := waitCaughtUp(ctx, clients, want, 30*time.Second); err != nil {
		return r, err
	}
	sh.closing.Store(true)
	for _, cs := range clients {
		for _, cl := range cs {
			_ = cl.c.Close()
		}
	}
	readers.Wait()
	r.codes = map[int]int{}
	var problems []string
	for s, cs := range clients {
		for _, cl := range cs {
			r.codes[cl.code]++
			lost, dup := compare(cl, want[s])
			r.lost += lost
			r.dup += dup
			r.events += int64(len(cl.seqs))
			if lost > 0 || dup > 0 || len(cl.bad) > 0 {
				problems = append(problems, fmt.Sprintf("session %d client %d: %d lost, %d duplicated; %s", s, cl.k, lost, dup, strings.Join(cl.bad, "; ")))
			}
		}
	}
	r.replayed = sh.replayed.Load()
	if len(problems) > 0 {
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Sprintf("... and %d more", len(problems)-10))
		}
		return r, fmt.Errorf("%d lost, %d duplicated:\n  %s", r.lost, r.dup, strings.Join(problems, "\n  "))
	}
	if r.back > o.goal {
		return r, fmt.Errorf("the last client came back %v after the SIGTERM, over the %v goal (median %v, p99 %v)", r.back.Round(time.Millisecond), o.goal, r.p50, r.p99)
	}
	return r, nil
}

// setup creates a session on its first client's connection and joins all.
func setup(ctx context.Context, url string, s *session, n int) ([]*client, error) {
	var cs []*client
	for k := 0; k < n; k++ {
		c, err := wire.Dial(ctx, url)
		if err != nil {
			closeAll(cs)
			return nil, fmt.Errorf("session %d client %d: %w", s.idx, k, err)
		}
		cl := &client{s: s, k: k, url: url, c: c, driver: k == 0, done: make(chan struct{}),
			rng: rand.New(rand.NewPCG(uint64(s.idx), uint64(k)))}
		cs = append(cs, cl)
		if k == 0 {
			f, err := wire.Request(c, map[string]any{"type": "create_session", "agentType": "coding-agent", "name": fmt.Sprintf("storm-%d", s.idx), "requestId": "c"}, "session_created")
			if err != nil {
				closeAll(cs)
				return nil, fmt.Errorf("session %d: create_session: %w", s.idx, err)
			}
			s.id = f.Session.ID
		}
		snap, err := wire.Request(c, map[string]any{"type": "join_session", "sessionId": s.id, "requestId": "j"}, "state_snapshot")
		if err != nil {
			closeAll(cs)
			return nil, fmt.Errorf("session %d client %d: join_session: %w", s.idx, k, err)
		}
		cl.tr.Start(snap.Epoch, snap.LatestSeq)
		cl.first = snap.LatestSeq
		cl.last.Store(snap.LatestSeq)
	}
	return cs, nil
}

func closeAll(cs []*client) {
	for _, cl := range cs {
		_ = cl.c.Close()
	}
}

// read owns the connection: it records events, drives turns, and after
// the restart's close reconnects and resumes.
func (cl *client) read(ctx context.Context, sh *shared, o options) {
	defer close(cl.done)
	if cl.driver {
		cl.runTurn(sh)
	}
	for {
		_, b, err := cl.c.ReadMessage()
		if err != nil {
			if sh.closing.Load() || ctx.Err() != nil {
				return
			}
			if !sh.restarting.Load() || cl.backAt.Load() != 0 {
				cl.problem("connection ended: %v", err)
				return
			}
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				cl.code = ce.Code
			} else {
				cl.code = -1 // no close frame
			}
			_ = cl.c.Close()
			if !cl.resume(ctx, sh, o) {
				return
			}
			continue
		}
		cl.handle(b, sh)
	}
}

func (cl *client) handle(b []byte, sh *shared) {
	f, err := wire.Parse(b)
	if err != nil {
		cl.problem("undecodable frame: %v", err)
		return
	}
	if f.Type == "error" {
		if cl.driver && f.RequestID == "rt" && (f.Code == "UPSTREAM_UNAVAILABLE" || f.Code == "CAPACITY_EXCEEDED") {
			// Retryable, as the protocol says: back off, then try again.
			sh.turnRetries.Add(1)
			sh.noteRefusal(f.Code + ": " + f.Message)
			cl.note("t%d refused %s", cl.turn, f.Code)
			cl.pending.Store(false)
			cl.turn--
			time.Sleep(time.Duration(500+cl.rng.IntN(1000)) * time.Millisecond)
			cl.runTurn(sh)
			return
		}
		if cl.driver && f.RequestID == "rt" && f.Code == "INVALID_STATE" && strings.Contains(f.Message, "running") {
			// A run_turn sent again after the restart found the first one
			// running after all: its turn_complete ends the wait.
			sh.turnRetries.Add(1)
			sh.noteRefusal(f.Code + ": " + f.Message)
			cl.note("t%d already running", cl.turn)
			return
		}
		cl.problem("error frame %s: %s (after: %s)", f.Code, f.Message, strings.Join(cl.trace, ", "))
		return
	}
	if f.Seq == 0 {
		return
	}
	cl.tr.See(f.Seq, f.Type)
	cl.seqs = append(cl.seqs, f.Seq)
	cl.last.Store(cl.tr.Last)
	if !cl.driver {
		return
	}
	switch f.Type {
	case "user_message":
		cl.userSeen = f.ClientTurnID
		cl.note("user_message %s seq %d", f.ClientTurnID, f.Seq)
	case "turn_complete", "turn_error":
		cl.note("%s seq %d", f.Type, f.Seq)
		cl.pending.Store(false)
		sh.turns.Add(1)
		cl.runTurn(sh)
	}
}

func (cl *client) runTurn(sh *shared) {
	if !sh.driving.Load() || cl.pending.Load() {
		return
	}
	cl.turn++
	cl.pending.Store(true)
	cl.sentOn = cl.c
	cl.note("sent t%d", cl.turn)
	err := wire.Send(cl.c, map[string]any{"type": "run_turn", "requestId": "rt", "sessionId": cl.s.id, "clientTurnId": fmt.Sprintf("t%d", cl.turn),
		"text": fmt.Sprintf("turn %d of session %d", cl.turn, cl.s.idx)})
	if err != nil && !sh.restarting.Load() {
		cl.problem("run_turn: %v", err)
	}
}

// resume reconnects with backoff and rejoins with afterSeq and epoch, then
// reads the replay up to the snapshot's latestSeq. False when it gave up.
func (cl *client) resume(ctx context.Context, sh *shared, o options) bool {
	wait := time.Duration(cl.rng.Int64N(int64(max(o.jitter, time.Millisecond))))
	for attempt := 0; ; attempt++ {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		if sh.closing.Load() {
			return false
		}
		if time.Since(time.Unix(0, sh.t0.Load())) > 150*time.Second {
			cl.problem("not back 150 s after the restart")
			return false
		}
		sh.attempts.Add(1)
		wait = time.Duration(cl.rng.Int64N(int64(min(2*time.Second, 100*time.Millisecond<<min(attempt, 5))))) + time.Millisecond
		c, err := wire.Dial(ctx, cl.url)
		if err != nil {
			continue
		}
		if err := wire.Send(c, map[string]any{"type": "join_session", "sessionId": cl.s.id, "afterSeq": cl.tr.Last, "epoch": cl.tr.Epoch, "requestId": "r"}); err != nil {
			_ = c.Close()
			continue
		}
		snap, err := wire.Await(c, "state_snapshot", 60*time.Second)
		if err != nil {
			_ = c.Close()
			if snap.Code == "CAPACITY_EXCEEDED" || snap.Code == "UPSTREAM_UNAVAILABLE" {
				continue // retry with backoff, as the protocol says
			}
			cl.problem("rejoin: %v", err)
			continue
		}
		if snap.Epoch != cl.tr.Epoch {
			cl.problem("rejoin after seq %d: epoch %s, had %s", cl.tr.Last, snap.Epoch, cl.tr.Epoch)
		}
		if !snap.ReplayComplete {
			// Nothing was replayed: the new instance could not yet serve
			// the gap (its history read failed, or it had not caught up
			// with the agent within 5 s). Rather than fill it with
			// get_events, this client resumes again after a backoff, so
			// every event it holds came from a complete replay or live.
			sh.incomplete.Add(1)
			_ = c.Close()
			continue
		}
		cl.c = c
		sh.replayed.Add(int64(snap.LatestSeq - min(snap.LatestSeq, cl.tr.Last)))
		_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
		for cl.tr.Last < snap.LatestSeq {
			_, b, err := c.ReadMessage()
			if err != nil {
				cl.problem("replay stopped at seq %d of %d: %v", cl.tr.Last, snap.LatestSeq, err)
				return false
			}
			cl.handle(b, sh)
		}
		_ = c.SetReadDeadline(time.Time{})
		cl.backAt.Store(time.Now().UnixNano())
		cl.note("back at seq %d (snapshot state %s)", cl.tr.Last, snap.State)
		// A run_turn that went to the old process and never started there
		// is sent again.
		if cl.driver && cl.pending.Load() && cl.sentOn != c && cl.userSeen != fmt.Sprintf("t%d", cl.turn) {
			cl.note("t%d never started: again", cl.turn)
			cl.pending.Store(false)
			cl.turn--
			cl.runTurn(sh)
		} else if cl.driver {
			cl.runTurn(sh)
		}
		return true
	}
}

func waitDrivers(ctx context.Context, clients [][]*client, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		busy := 0
		for _, cs := range clients {
			if cs[0].pending.Load() {
				busy++
			}
		}
		if busy == 0 {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			var ex []string
			for _, cs := range clients {
				if cs[0].pending.Load() && len(ex) < 5 {
					ex = append(ex, fmt.Sprintf("session %d at seq %d: %s; problems: %s", cs[0].s.idx, cs[0].last.Load(), strings.Join(cs[0].trace, ", "), strings.Join(cs[0].bad, "; ")))
				}
			}
			return fmt.Errorf("%d session(s) still running a turn %v after the drivers stopped:\n  %s", busy, within, strings.Join(ex, "\n  "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// allEvents pages through get_events from 0 for every session and checks
// the list is 1..latestSeq.
func allEvents(ctx context.Context, url string, sessions []*session) ([][]uint64, error) {
	out := make([][]uint64, len(sessions))
	errs := make(chan error, len(sessions))
	sem := make(chan struct{}, 16)
	for i, s := range sessions {
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := wire.Dial(ctx, url)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			var seqs []uint64
			after := uint64(0)
			for page := 0; page < 100; page++ {
				f, err := wire.Request(c, map[string]any{"type": "get_events", "sessionId": s.id, "afterSeq": after, "limit": 1000, "requestId": "e"}, "events")
				if err != nil {
					errs <- fmt.Errorf("session %d: get_events after %d: %w", s.idx, after, err)
					return
				}
				for _, e := range f.Events {
					seqs = append(seqs, e.Seq)
					after = e.Seq
				}
				if !f.HasMore {
					break
				}
			}
			for k, q := range seqs {
				if q != uint64(k+1) {
					errs <- fmt.Errorf("session %d: get_events is not 1..n: seq %d at position %d", s.idx, q, k+1)
					return
				}
			}
			out[i] = seqs
			errs <- nil
		}()
	}
	var err error
	for range sessions {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	return out, err
}

func waitCaughtUp(ctx context.Context, clients [][]*client, want [][]uint64, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		behind := 0
		for s, cs := range clients {
			for _, cl := range cs {
				if cl.last.Load() < uint64(len(want[s])) {
					behind++
				}
			}
		}
		if behind == 0 {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%d client(s) did not reach their session's latestSeq within %v", behind, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// compare counts the events of want after the client's first snapshot that
// the client never received, and the ones it received more than once.
func compare(cl *client, want []uint64) (lost, dup int64) {
	seen := make(map[uint64]int, len(cl.seqs))
	for _, q := range cl.seqs {
		seen[q]++
	}
	for _, q := range want {
		if q <= cl.first {
			continue
		}
		switch n := seen[q]; {
		case n == 0:
			lost++
		case n > 1:
			dup += int64(n - 1)
		}
	}
	return lost, dup
}
