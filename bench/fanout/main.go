// Command fanout measures event delivery through the gateway: throughput
// across all clients and the latency the gateway adds. It starts a built
// gateway binary as a child process (dev mode, embedded simulators, the
// simulated agents paced by -step-delay through SIM_STEP_DELAY), opens
// S sessions × C clients each, joins every client to its session, then has
// one client per session run turns on the echo agent with a long text, which
// streams back as many text_delta events.
//
// For every sequenced event each client receives it records the receive
// time minus the event's ts (Unix ms stamped by the simulated Podium when it
// appended the event; same machine, same clock), and it checks that every
// client saw every seq of its session exactly once and in order. A run
// that loses, duplicates or reorders an event fails.
//
//	go run ./bench/fanout -gateway bin/diminuendo -sessions 20 -clients 5 -turns 3 -runs 3
//
// With -floor bin/floor every round also runs the raw floor (bench/floor)
// on the same shape: as many topics and subscribers, each turn published as
// as many pre-encoded events of the gateway's mean frame size (at the pace
// the gateway's session streamed when -step-delay > 0). With -batch the
// gateway's clients ask for batched frames (subprotocol diminuendo.v1.batch);
// -batch both runs the gateway both ways. Rounds alternate the targets, each
// a fresh process, and the tool prints every target's medians and ranges
// and each gateway variant's ratio to the floor.
//
// Everything is bounded by -timeout; the gateway listens on 127.0.0.1 only.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/bench/internal/gateway"
	"github.com/diminuendo/diminuendo/bench/internal/jsonhead"
	"github.com/diminuendo/diminuendo/bench/internal/machine"
	"github.com/diminuendo/diminuendo/bench/internal/stats"
	"github.com/diminuendo/diminuendo/bench/internal/wire"
)

type options struct {
	gateway   string
	sessions  int
	clients   int
	turns     int
	textBytes int
	stepDelay time.Duration
	agent     string
	runs      int
	timeout   time.Duration
	env       gateway.EnvFlag
	floor     string
	batch     string
	interval  time.Duration
	schedule  string
}

// target is what one run measures: the gateway (plain or batched frames)
// or the floor.
type target struct {
	name  string
	floor bool
	batch bool
}

// shape is how the floor reproduces the gateway's run: events per turn,
// their mean size and the pace between them.
type shape struct {
	events   int
	bytes    int
	interval time.Duration
	gaps     []time.Duration // when set, the wait before each event instead of interval
}

func main() {
	var o options
	flag.StringVar(&o.gateway, "gateway", "bin/diminuendo", "path to a built cmd/diminuendo binary (make build)")
	flag.IntVar(&o.sessions, "sessions", 20, "sessions")
	flag.IntVar(&o.clients, "clients", 5, "clients joined to each session")
	flag.IntVar(&o.turns, "turns", 3, "turns run one after another in each session")
	flag.IntVar(&o.textBytes, "text-bytes", 4000, "length of each turn's text, which the echo agent streams back")
	flag.DurationVar(&o.stepDelay, "step-delay", 0, "SIM_STEP_DELAY of the simulated agents: 0 streams every 4-byte token as its own delta as fast as the simulator can; >0 emits a token every step/8, coalesced into a delta every 10 ms")
	flag.StringVar(&o.agent, "agent", "echo", "agent type")
	flag.IntVar(&o.runs, "runs", 1, "independent runs, each with a fresh gateway; the median is reported")
	flag.DurationVar(&o.timeout, "timeout", 120*time.Second, "hard limit on the whole run")
	flag.Var(&o.env, "env", "extra K=V for the gateway's environment, repeatable (e.g. -env GOGC=50)")
	flag.StringVar(&o.floor, "floor", "", "path to a built bench/floor binary: every round also runs the floor on the same shape and the ratios are printed")
	flag.StringVar(&o.batch, "batch", "off", "gateway clients ask for batched frames: off, on, or both (two gateway runs per round)")
	flag.DurationVar(&o.interval, "floor-interval", -1, "pace of the floor's events; <0: the gateway's own pace when -step-delay > 0, else as fast as possible")
	flag.StringVar(&o.schedule, "floor-schedule", "gateway", "with -step-delay > 0 and no -floor-interval, when the floor publishes: gateway (the waits between the gateway's own events in its first turn, bursts included) or uniform (every event at the gateway's mean pace)")
	flag.Parse()
	switch {
	case o.sessions < 1 || o.sessions > 1000, o.clients < 1 || o.clients > 1000, o.sessions*o.clients > 15000:
		fail(2, "-sessions must be 1-1000, -clients 1-1000, at most 15000 connections")
	case o.batch != "off" && o.batch != "on" && o.batch != "both":
		fail(2, "-batch must be off, on or both")
	case o.schedule != "gateway" && o.schedule != "uniform":
		fail(2, "-floor-schedule must be gateway or uniform")
	case o.turns < 1 || o.turns > 40:
		fail(2, "-turns must be 1-40 (the driving client stays under the default 60 messages / 10 s)")
	case o.textBytes < 1 || o.textBytes > 512*1024:
		fail(2, "-text-bytes must be 1-524288 (the gateway's turn text limit)")
	case o.runs < 1 || o.runs > 10:
		fail(2, "-runs must be 1-10")
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	cancel()
	if err != nil {
		fail(1, "FAIL: "+err.Error())
	}
}

func fail(code int, msg string) {
	fmt.Fprintln(os.Stderr, "fanout:", msg)
	os.Exit(code)
}

type result struct {
	frames   int64           // WebSocket frames that carried the events
	bytes    int64           // bytes of the sequenced events
	perTurn  int             // events per turn in session 0
	pace     time.Duration   // mean ts step between session 0's events
	gaps     []time.Duration // ts steps between session 0's events in its first turn
	events   int64
	wall     time.Duration
	cpu      time.Duration
	rate     float64 // delivered events per wall second
	perCPU   float64 // delivered events per second of gateway CPU
	p50, p95 float64
	p99, max float64
	rssMiB   float64
	share    string
}

func run(ctx context.Context, o options) error {
	fmt.Printf("machine: %s\n", machine.Describe())
	fmt.Printf("gateway: %s; dev mode, embedded simulators, SIM_STEP_DELAY=%v %s\n", o.gateway, o.stepDelay, o.env.String())
	fmt.Printf("load: %d sessions × %d clients = %d connections; %d turns of %d bytes on %q per session; %d run(s)\n",
		o.sessions, o.clients, o.sessions*o.clients, o.turns, o.textBytes, o.agent, o.runs)
	var targets []target
	if o.batch != "on" {
		targets = append(targets, target{name: "gateway"})
	}
	if o.batch != "off" {
		targets = append(targets, target{name: "gateway+batch", batch: true})
	}
	if o.floor != "" {
		fmt.Printf("floor: %s; alternating with the gateway, a fresh process each run%s\n", o.floor, o.floorPace())
		targets = append(targets, target{name: "floor", floor: true})
	}
	rs := make(map[string][]result)
	var sh shape
	for i := 0; i < o.runs; i++ {
		for _, tg := range targets {
			r, err := once(ctx, o, tg, sh)
			if err != nil {
				return fmt.Errorf("run %d (%s): %w", i+1, tg.name, err)
			}
			if !tg.floor {
				sh = shapeOf(o, r)
			}
			rs[tg.name] = append(rs[tg.name], r)
			fmt.Printf("run %d %s: %d events delivered in %d frames in %v = %.0f events/s; CPU %v = %.2f µs per delivery; latency ms p50 %.1f p95 %.1f p99 %.1f max %.1f; RSS %.1f MiB; every client gapless\n       CPU %s\n",
				i+1, tg.name, r.events, r.frames, r.wall.Round(time.Millisecond), r.rate, r.cpu.Round(10*time.Millisecond), cpuPer(r), r.p50, r.p95, r.p99, r.max, r.rssMiB, r.share)
		}
	}
	type metric struct {
		name string
		f    func(result) float64
	}
	metrics := []metric{
		{"deliveries/s", func(r result) float64 { return r.rate }},
		{"CPU µs/delivery", cpuPer},
		{"p50 ms", func(r result) float64 { return r.p50 }},
		{"p99 ms", func(r result) float64 { return r.p99 }},
		{"deliveries/frame", func(r result) float64 { return float64(r.events) / float64(max(r.frames, 1)) }},
	}
	summary := func(xs []result, f func(result) float64) (med, lo, hi float64) {
		v := make([]float64, len(xs))
		for i, r := range xs {
			v[i] = f(r)
		}
		return stats.Median(v), slices.Min(v), slices.Max(v)
	}
	fmt.Printf("RESULT sessions=%d clients=%d turns=%d text=%d step=%v runs=%d (median [min-max])\n",
		o.sessions, o.clients, o.turns, o.textBytes, o.stepDelay, o.runs)
	for _, tg := range targets {
		fmt.Printf("  %-14s", tg.name)
		for _, m := range metrics {
			med, lo, hi := summary(rs[tg.name], m.f)
			fmt.Printf("  %s %.4g [%.4g-%.4g]", m.name, med, lo, hi)
		}
		fmt.Println()
	}
	if o.floor != "" {
		for _, tg := range targets[:len(targets)-1] {
			fmt.Printf("RATIO %s/floor:", tg.name)
			for _, m := range metrics[:4] {
				g, _, _ := summary(rs[tg.name], m.f)
				f, _, _ := summary(rs["floor"], m.f)
				fmt.Printf("  %s %.2f", m.name, g/f)
			}
			fmt.Println()
		}
	}
	return nil
}

func cpuPer(r result) float64 {
	if r.events == 0 {
		return 0
	}
	return float64(r.cpu.Microseconds()) / float64(r.events)
}

// shapeOf is the floor's version of the gateway's run r.
func shapeOf(o options, r result) shape {
	sh := shape{events: max(r.perTurn, 1), bytes: int(r.bytes / max(r.events, 1)), interval: o.interval}
	if sh.interval < 0 {
		sh.interval = 0
		if o.stepDelay > 0 {
			// The gateway's pace: the mean step between its events' ts.
			sh.interval = r.pace
			if o.schedule == "gateway" {
				// The gateway's own schedule, bursts included: the agent
				// emits a turn's first events together, not at the mean pace.
				sh.gaps = r.gaps
			}
		}
	}
	return sh
}

// client is one connection joined to one session. Its fields after join
// are written only by its reader goroutine and read after that has ended,
// except last, which the main goroutine polls.
type client struct {
	c       *websocket.Conn
	session int
	first   uint64 // latestSeq in the snapshot: events after it are expected
	last    atomic.Uint64
	count   int64
	bad     []string // gaps, duplicates, error frames, early closes (first few)
	nbad    int
	lat     []float64 // ms, receive time minus ts
	frames  int64
	bytes   int64
	ts0, ts int64 // ts of the first and the last sequenced event
	lastRx  time.Time
	turns   chan uint64 // driver only: seq of each turn_complete
	refused chan string // driver only: the first error frame
	closing *atomic.Bool
	// For a report on a client that falls behind: when it last read a
	// frame (Unix ns) and why its reader ended, if it did.
	rxAt  atomic.Int64
	ended atomic.Pointer[string]
	tss   []int64 // driver only: every event's ts, for the floor's schedule
}

func (cl *client) problem(format string, args ...any) {
	cl.nbad++
	if len(cl.bad) < 5 {
		cl.bad = append(cl.bad, fmt.Sprintf(format, args...))
	}
}

type frame struct {
	Type    string `json:"type"`
	Seq     uint64 `json:"seq"`
	TS      int64  `json:"ts"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (cl *client) read(wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		_, data, err := cl.c.ReadMessage()
		now := time.Now()
		if err != nil {
			why := err.Error()
			cl.ended.Store(&why)
			if !cl.closing.Load() {
				cl.problem("connection ended early: %v", err)
			}
			if cl.turns != nil {
				close(cl.turns)
			}
			return
		}
		cl.rxAt.Store(now.UnixNano())
		counted := false
		for b := range bytes.SplitSeq(data, []byte{'\n'}) {
			if cl.message(b, now) && !counted {
				cl.frames++
				counted = true
			}
		}
	}
}

// message checks one server message (a frame, or one line of a batched
// frame); true if it was a sequenced event. Only the message's head is
// read: the tool's 1,000 clients share the machine with the server, and
// decoding whole messages made the tool, more than the server, what bounded
// deliveries/s.
func (cl *client) message(b []byte, now time.Time) bool {
	h, err := jsonhead.Scan(b)
	if err != nil {
		cl.problem("undecodable frame: %v", err)
		return false
	}
	if string(h.Type) == "error" {
		var f frame
		_ = json.Unmarshal(b, &f) // its code and message
		cl.problem("error frame %s: %s", f.Code, f.Message)
		if cl.refused != nil {
			select {
			case cl.refused <- f.Code + ": " + f.Message:
			default:
			}
		}
		return false
	}
	if h.Seq == 0 {
		return false // unsequenced: session_state, heartbeat
	}
	if prev := cl.last.Load(); h.Seq != prev+1 {
		cl.problem("seq %d after %d (%s)", h.Seq, prev, h.Type)
	}
	cl.last.Store(h.Seq)
	if cl.count == 0 {
		cl.ts0 = h.TS
	}
	cl.ts = h.TS
	cl.count++
	cl.bytes += int64(len(b))
	cl.lastRx = now
	cl.lat = append(cl.lat, float64(now.UnixMicro())/1000-float64(h.TS))
	if cl.turns != nil {
		cl.tss = append(cl.tss, h.TS)
		if string(h.Type) == "turn_complete" {
			select {
			case cl.turns <- h.Seq:
			default:
				cl.problem("unexpected extra turn_complete at seq %d", h.Seq)
			}
		}
	}
	return true
}

func once(ctx context.Context, o options, tg target, sh shape) (r result, err error) {
	var gw *gateway.Proc
	if tg.floor {
		gw, err = gateway.Start(ctx, o.floor)
	} else {
		env := []string{"DEV_MODE=true", "SIM_STEP_DELAY=" + o.stepDelay.String()}
		if o.clients > 16 {
			// Dev mode is one user: lift the per-user and per-session caps.
			n := strconv.Itoa(o.clients)
			env = append(env, "SESSION_MAX_SUBSCRIBERS="+n, "SESSION_MAX_SUBSCRIBERS_PER_USER="+n)
		}
		gw, err = gateway.Start(ctx, o.gateway, append(env, o.env...)...)
	}
	if err != nil {
		return r, err
	}
	defer gw.Kill()
	var closing atomic.Bool
	var readers sync.WaitGroup
	all := make([][]*client, o.sessions)
	ids := make([]string, o.sessions)
	defer func() {
		closing.Store(true)
		for _, cs := range all {
			for _, cl := range cs {
				if cl != nil {
					_ = cl.c.Close()
				}
			}
		}
		readers.Wait()
	}()

	// Set up: per session, the driver creates it, then every client joins.
	setup := make(chan error, o.sessions)
	sem := make(chan struct{}, 8)
	for s := 0; s < o.sessions; s++ {
		go func(s int) {
			sem <- struct{}{}
			defer func() { <-sem }()
			if tg.floor {
				setup <- setupTopic(ctx, gw.WS, o, s, &all[s], &closing, &readers)
				return
			}
			setup <- setupSession(ctx, gw.WS, o, tg.batch, s, &ids[s], &all[s], &closing, &readers)
		}(s)
	}
	for s := 0; s < o.sessions; s++ {
		if e := <-setup; e != nil && err == nil {
			err = e
		}
	}
	if err == nil && tg.floor {
		// A client's handshake can finish before the floor has put it
		// on its topic: publish only once all of them are there.
		err = waitFloorConns(ctx, gw.URL, o.sessions*o.clients)
	}
	if err != nil {
		return r, fmt.Errorf("setup: %w; gateway log: %s", err, gw.Tail())
	}

	text := longText(o.textBytes)
	cpu0, err := gw.CPU()
	if err != nil {
		return r, err
	}
	m0 := machine.Sample()
	start := time.Now()
	final := make([]uint64, o.sessions)
	drive := make(chan error, o.sessions)
	for s := 0; s < o.sessions; s++ {
		go func(s int) {
			start := func(t int) error {
				msg, _ := json.Marshal(map[string]string{"type": "run_turn", "sessionId": ids[s], "text": fmt.Sprintf("turn %d: %s", t+1, text)})
				return all[s][0].c.WriteMessage(websocket.TextMessage, msg)
			}
			if tg.floor {
				start = func(int) error { return publish(ctx, gw.URL, s, sh) }
			}
			drive <- driveSession(ctx, all[s][0], fmt.Sprint(s), start, o.turns, &final[s])
		}(s)
	}
	for s := 0; s < o.sessions; s++ {
		if e := <-drive; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return r, fmt.Errorf("%w; gateway log: %s", err, gw.Tail())
	}
	// Every client must reach its session's final seq.
	deadline := time.Now().Add(15 * time.Second)
	for !allCaughtUp(all, final) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return r, fmt.Errorf("clients did not receive every event within 15 s of the last turn_complete: %s", lagging(all, final))
		}
		time.Sleep(5 * time.Millisecond)
	}
	cpu1, err := gw.CPU()
	if err != nil {
		return r, err
	}
	r.share = machine.Share(m0, machine.Sample(), cpu1-cpu0)
	if m, err := gw.Mem(); err == nil {
		r.rssMiB = float64(m.RSSKiB) / 1024
	}
	if gw.Exited() {
		return r, errors.New("the gateway exited during the run")
	}
	cuts := gw.LogCount("slow consumer cut off")
	closing.Store(true)
	for _, cs := range all {
		for _, cl := range cs {
			_ = cl.c.Close()
		}
	}
	readers.Wait()

	var lat []float64
	var end time.Time
	var problems []string
	for s, cs := range all {
		for k, cl := range cs {
			want := final[s] - cl.first
			if cl.nbad > 0 || uint64(cl.count) != want || cl.last.Load() != final[s] {
				problems = append(problems, fmt.Sprintf("session %d client %d: got %d events (want %d, seq %d..%d), last seq %d; %d problem(s): %s",
					s, k, cl.count, want, cl.first+1, final[s], cl.last.Load(), cl.nbad, strings.Join(cl.bad, "; ")))
			}
			r.events += cl.count
			r.frames += cl.frames
			r.bytes += cl.bytes
			lat = append(lat, cl.lat...)
			if cl.lastRx.After(end) {
				end = cl.lastRx
			}
		}
	}
	if cuts > 0 {
		problems = append(problems, fmt.Sprintf("the gateway cut off %d slow consumer(s)", cuts))
	}
	if len(problems) > 0 {
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Sprintf("... and %d more", len(problems)-10))
		}
		return r, fmt.Errorf("EVENTS LOST OR OUT OF ORDER:\n  %s", strings.Join(problems, "\n  "))
	}
	r.perTurn = int(final[0]-all[0][0].first) / o.turns
	if d := all[0][0]; d.count > 1 {
		r.pace = time.Duration(d.ts-d.ts0) * time.Millisecond / time.Duration(d.count-1)
	}
	if d := all[0][0]; len(d.tss) >= r.perTurn {
		r.gaps = make([]time.Duration, r.perTurn)
		for i := 1; i < r.perTurn; i++ {
			r.gaps[i] = time.Duration(d.tss[i]-d.tss[i-1]) * time.Millisecond
		}
	}
	r.wall = end.Sub(start)
	r.cpu = cpu1 - cpu0
	r.rate = float64(r.events) / r.wall.Seconds()
	if r.cpu > 0 {
		r.perCPU = float64(r.events) / r.cpu.Seconds()
	}
	slices.Sort(lat)
	r.p50, r.p95, r.p99, r.max = stats.Sorted(lat, 50), stats.Sorted(lat, 95), stats.Sorted(lat, 99), lat[len(lat)-1]
	return r, nil
}

// setupTopic connects the clients of topic s of the floor.
func setupTopic(ctx context.Context, url string, o options, s int, out *[]*client, closing *atomic.Bool, readers *sync.WaitGroup) error {
	cs := make([]*client, 0, o.clients)
	for k := 0; k < o.clients; k++ {
		c, _, err := dialer.DialContext(ctx, fmt.Sprintf("%s?topic=%d", url, s), nil)
		if err != nil {
			closeAll(cs)
			return fmt.Errorf("topic %d client %d: %w", s, k, err)
		}
		wire.PatientPongs(c)
		cl := &client{c: c, session: s, closing: closing}
		if k == 0 {
			cl.turns = make(chan uint64, o.turns+1)
			cl.refused = make(chan string, 1)
		}
		cs = append(cs, cl)
		readers.Add(1)
		go cl.read(readers)
	}
	*out = cs
	return nil
}

// waitFloorConns waits, at most 30 s, until the floor's health reports n
// connections.
func waitFloorConns(ctx context.Context, base string, n int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var h struct{ Connections int }
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/health", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
		}
		if err == nil && h.Connections >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the floor has %d of %d connections after 30 s (%v)", h.Connections, n, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// publish has the floor send one turn's events to topic s.
func publish(ctx context.Context, base string, s int, sh shape) error {
	url := fmt.Sprintf("%s/publish?topic=%d&events=%d&bytes=%d&interval=%s", base, s, sh.events, sh.bytes, sh.interval)
	if len(sh.gaps) == sh.events {
		ms := make([]string, len(sh.gaps))
		for i, g := range sh.gaps {
			ms[i] = strconv.FormatInt(g.Milliseconds(), 10)
		}
		url += "&gaps=" + strings.Join(ms, ",")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("floor publish: %s", resp.Status)
	}
	return nil
}

func setupSession(ctx context.Context, url string, o options, batch bool, s int, id *string, out *[]*client, closing *atomic.Bool, readers *sync.WaitGroup) error {
	cs := make([]*client, 0, o.clients)
	for k := 0; k < o.clients; k++ {
		c, err := dial(ctx, url, batch)
		if err != nil {
			closeAll(cs)
			return fmt.Errorf("session %d client %d: %w", s, k, err)
		}
		cl := &client{c: c, session: s, closing: closing}
		if k == 0 {
			cl.turns = make(chan uint64, o.turns+1)
			cl.refused = make(chan string, 1)
			create, _ := json.Marshal(map[string]string{"type": "create_session", "agentType": o.agent, "name": fmt.Sprintf("bench-%d", s), "requestId": "create"})
			m, err := request(c, create, "session_created")
			if err != nil {
				_ = c.Close()
				closeAll(cs)
				return fmt.Errorf("session %d: create_session: %w", s, err)
			}
			var sc struct {
				Session struct {
					ID string `json:"id"`
				} `json:"session"`
			}
			_ = json.Unmarshal(m, &sc)
			*id = sc.Session.ID
		}
		join, _ := json.Marshal(map[string]string{"type": "join_session", "sessionId": *id, "requestId": "join"})
		m, err := request(c, join, "state_snapshot")
		if err != nil {
			_ = c.Close()
			closeAll(cs)
			return fmt.Errorf("session %d client %d: join_session: %w", s, k, err)
		}
		var snap struct {
			LatestSeq uint64 `json:"latestSeq"`
		}
		_ = json.Unmarshal(m, &snap)
		cl.first = snap.LatestSeq
		cl.last.Store(snap.LatestSeq)
		cs = append(cs, cl)
		readers.Add(1)
		go cl.read(readers)
	}
	*out = cs
	return nil
}

// driveSession runs the turns one after another, each after the previous
// turn_complete, and records the session's last seq.
func driveSession(ctx context.Context, driver *client, id string, start func(turn int) error, turns int, final *uint64) error {
	for t := 0; t < turns; t++ {
		if err := start(t); err != nil {
			return fmt.Errorf("session %s: run_turn: %w", id, err)
		}
		select {
		case seq, ok := <-driver.turns:
			if !ok {
				return fmt.Errorf("session %s: the driving connection ended during turn %d", id, t+1)
			}
			*final = seq
		case e := <-driver.refused:
			return fmt.Errorf("session %s: turn %d: the gateway sent an error frame: %s", id, t+1, e)
		case <-time.After(60 * time.Second):
			return fmt.Errorf("session %s: turn %d did not complete within 60 s", id, t+1)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

var dialer = websocket.Dialer{HandshakeTimeout: 10 * time.Second}

// BatchProtocol is the WebSocket subprotocol under which the gateway puts
// every event queued for a connection into one frame, newline-separated.
const BatchProtocol = "diminuendo.v1.batch"

// dial connects and waits for "authenticated" (dev mode authenticates at once).
func dial(ctx context.Context, url string, batch bool) (*websocket.Conn, error) {
	d := dialer
	if batch {
		d.Subprotocols = []string{BatchProtocol}
	}
	c, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	wire.PatientPongs(c)
	if batch && resp.Header.Get("Sec-WebSocket-Protocol") != BatchProtocol {
		_ = c.Close()
		return nil, fmt.Errorf("the gateway did not accept subprotocol %s", BatchProtocol)
	}
	if _, err := await(c, "authenticated"); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

func request(c *websocket.Conn, msg []byte, want string) ([]byte, error) {
	if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
		return nil, err
	}
	return await(c, want)
}

// await reads until a frame of type want; an error frame or a sequenced
// event before it is a failure.
func await(c *websocket.Conn, want string) ([]byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return nil, err
		}
		for b := range bytes.SplitSeq(data, []byte{'\n'}) {
			var f frame
			if err := json.Unmarshal(b, &f); err != nil {
				return nil, err
			}
			switch {
			case f.Type == want:
				return b, nil
			case f.Type == "error":
				return nil, fmt.Errorf("error frame %s: %s", f.Code, f.Message)
			case f.Seq != 0:
				return nil, fmt.Errorf("sequenced %s (seq %d) before %s", f.Type, f.Seq, want)
			}
		}
	}
}

func closeAll(cs []*client) {
	for _, cl := range cs {
		_ = cl.c.Close()
	}
}

func allCaughtUp(all [][]*client, final []uint64) bool {
	for s, cs := range all {
		for _, cl := range cs {
			if cl.last.Load() < final[s] {
				return false
			}
		}
	}
	return true
}

func lagging(all [][]*client, final []uint64) string {
	var out []string
	for s, cs := range all {
		for k, cl := range cs {
			if l := cl.last.Load(); l < final[s] {
				state := "reader running"
				if why := cl.ended.Load(); why != nil {
					state = "reader ended: " + *why
				}
				ago := "never"
				if t := cl.rxAt.Load(); t != 0 {
					ago = time.Since(time.Unix(0, t)).Round(time.Millisecond).String() + " ago"
				}
				out = append(out, fmt.Sprintf("session %d client %d at seq %d of %d (last frame read %s, %s)", s, k, l, final[s], ago, state))
			}
		}
	}
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("... and %d more", len(out)-10))
	}
	return strings.Join(out, "; ")
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

// floorPace says when the floor publishes.
func (o options) floorPace() string {
	switch {
	case o.interval >= 0:
		return fmt.Sprintf("; the floor publishes every %v", o.interval)
	case o.stepDelay == 0:
		return "; the floor publishes as fast as its queues take the events"
	case o.schedule == "gateway":
		return "; the floor replays the waits between the gateway's events of the run before it"
	default:
		return "; the floor publishes at the gateway's mean pace of the run before it"
	}
}
