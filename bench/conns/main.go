// Command conns measures what idle WebSocket connections cost the gateway
// and how fast it accepts them. It starts a built gateway binary as a child
// process on a free loopback port (dev mode, embedded simulators), opens N
// connections and completes the protocol handshake on each (welcome,
// connected, authenticated), then reads the child's RSS from /proc before
// and after, and its goroutine count from the Go runtime's SIGQUIT dump.
//
// With -idp it starts the local identity provider (adapters/auth/idp) in
// this process, runs the gateway with DEV_MODE=false pointed at it, and
// every connection sends an authenticate message with its own minted token,
// so the connect rate includes a real RS256 verification per connection.
// -auth header puts each token in the upgrade request's Authorization
// header instead (the path of clients that can set headers: no
// authenticate message, the server sends authenticated unprompted), and
// -auth protocol in the subprotocol diminuendo.v1.bearer.<jwt> beside
// diminuendo.v1 (the browser's way to the same). In dev
// mode, -auth message has every connection send authenticate all the same
// (any token passes there) and wait for its answer: the browser's flow
// without the RS256 verification, a baseline for the flow's own cost.
//
//	go run ./bench/conns -gateway bin/diminuendo -n 2000 -runs 3
//	go run ./bench/conns -gateway bin/diminuendo -n 2000 -idp -runs 3
//
// With -join K every connection, once authenticated, joins a session
// (join_session, answered by state_snapshot), K connections to a session:
// the goal's condition of connections that are authenticated and joined.
// Before timing, the tool creates the n/K sessions (rounded up), each by a
// connection of its own that creates it, joins it (which activates it) and
// hangs up, so the timed phase measures joining, not creating; the RSS
// baseline is read after that. The gateway child gets the limits that
// would refuse the load raised: SESSION_MAX_SUBSCRIBERS(_PER_USER),
// MAX_ACTIVE_SESSIONS(_PER_TENANT), MAX_CONNECTIONS(_PER_TENANT).
//
//	go run ./bench/conns -gateway bin/diminuendo -n 10000 -idp -join 10 -dialers 50
//
// -dialers sets how many connections are opened at once (default 16).
//
// With -floor bin/floor every run is followed by one of the raw floor
// (bench/floor, no authentication, a plain WebSocket connection), a fresh
// process each, and the tool prints the floor's figures and the gateway's
// ratios to them.
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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/adapters/auth/idp"
	"github.com/diminuendo/diminuendo/bench/internal/gateway"
	"github.com/diminuendo/diminuendo/bench/internal/machine"
	"github.com/diminuendo/diminuendo/bench/internal/stats"
	"github.com/diminuendo/diminuendo/bench/internal/tokens"
)

type options struct {
	gateway     string
	n           int
	concurrency int
	join        int // connections per session; 0: no join
	agent       string
	runs        int
	useIdP      bool
	authUpgrade string // with useIdP: "header" or "protocol", the token on the upgrade request; "": in a message
	devMessage  bool   // without useIdP: send authenticate anyway, as a browser would, and wait for its answer
	goroutines  bool
	settle      time.Duration
	timeout     time.Duration
	env         gateway.EnvFlag
	floor       string
	against     string
	fabric      string // fabric-sim binary: the upstreams in a process of their own
}

func main() {
	var o options
	flag.StringVar(&o.gateway, "gateway", "bin/diminuendo", "path to a built cmd/diminuendo binary (make build)")
	flag.IntVar(&o.n, "n", 2000, "idle connections to open")
	flag.IntVar(&o.concurrency, "dialers", 16, "connections being opened at once")
	flag.IntVar(&o.concurrency, "c", 16, "the same as -dialers")
	flag.IntVar(&o.join, "join", 0, "join every connection to a session after authenticating, this many connections per session (0: no join)")
	flag.StringVar(&o.agent, "agent", "echo", "agent type of the sessions created for -join")
	flag.IntVar(&o.runs, "runs", 1, "independent runs, each with a fresh gateway; the median is reported")
	flag.BoolVar(&o.useIdP, "idp", false, "authenticate every connection with its own RS256 token from a local IdP (DEV_MODE=false)")
	authMode := flag.String("auth", "", "how each timed connection presents its token: message (an authenticate message after welcome; the default with -idp), header (Authorization: Bearer on the upgrade request, as non-browser clients can) or protocol (the subprotocol diminuendo.v1.bearer.<jwt> on the upgrade request, as browsers can). In dev mode the default is neither (the gateway authenticates at once); -auth message there sends authenticate anyway and waits for its answer, the browser's flow without the RS256 verification")
	flag.BoolVar(&o.goroutines, "goroutines", true, "count the gateway's goroutines from its SIGQUIT dump (costs one extra gateway start for the baseline)")
	flag.DurationVar(&o.settle, "settle", 3*time.Second, "wait this long before each RSS reading")
	flag.DurationVar(&o.timeout, "timeout", 120*time.Second, "hard limit on the whole run")
	flag.Var(&o.env, "env", "extra K=V for the gateway's environment, repeatable (e.g. -env GOGC=50)")
	flag.StringVar(&o.floor, "floor", "", "path to a built bench/floor binary: alternate it with the gateway and print the ratios")
	flag.StringVar(&o.against, "against", "", "path to another gateway build (e.g. an older commit's): run it after the gateway in every run, same load and environment, and print both and the ratios")
	flag.StringVar(&o.fabric, "fabric", "", "path to a built cmd/fabric-sim binary: run the simulated upstreams as a separate process (fresh each run), so the gateway's RSS and CPU are its own; default: the gateway's embedded simulators")
	flag.Parse()
	if o.n < 1 || o.n > 15000 || o.concurrency < 1 || o.concurrency > 256 || o.runs < 1 || o.runs > 10 || o.join < 0 || o.join > o.n {
		fmt.Fprintln(os.Stderr, "conns: -n must be 1-15000, -dialers 1-256, -runs 1-10, -join 0-n")
		os.Exit(2)
	}
	switch *authMode {
	case "":
	case "message":
		o.devMessage = !o.useIdP
	case "header", "protocol":
		o.authUpgrade = *authMode
	default:
		fmt.Fprintln(os.Stderr, "conns: -auth must be message, header or protocol")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "conns: FAIL:", err)
		os.Exit(1)
	}
}

type result struct {
	connectDur   time.Duration
	rate         float64 // connections/s including the handshake
	hsP50, hsP99 float64 // per-connection handshake time, ms
	rss0, rss1   gateway.Mem
	perConnKiB   float64
	goroutines   int
	gPerConn     float64
	cpu          time.Duration // gateway CPU during the connect phase
	perCPU       float64       // connections per second of gateway CPU
	share        string
	diag         bool          // the child is bench/gwdiag: after-GC figures below
	heapPerConn  float64       // KiB
	stackPerConn float64       // KiB
	sessions     int           // created for -join
	setupDur     time.Duration // creating and activating them
	setupKiB     int64         // RSS growth over that
	allInKiB     float64       // per connection, the sessions' setup included
	active       int           // active sessions reported during the idle period
}

func run(ctx context.Context, o options) error {
	fmt.Printf("machine: %s\n", machine.Describe())
	mode := "dev mode (no token)"
	if o.devMessage {
		mode = "dev mode, every connection still sending an authenticate message and waiting for its answer"
	}
	env := []string{"DEV_MODE=true"}
	var tokens, creators []string
	sessions := o.sessions()
	if o.useIdP {
		p, err := idp.New()
		if err != nil {
			return err
		}
		iss, err := p.Start("127.0.0.1:0")
		if err != nil {
			return err
		}
		defer p.Close()
		// Every token is of one tenant: lift its connection quota to the load.
		env = []string{"DEV_MODE=false", "AUTH0_DOMAIN=" + iss, "AUTH0_AUDIENCE=" + idp.DefaultAudience,
			fmt.Sprintf("MAX_CONNECTIONS_PER_TENANT=%d", o.n+1+sessions)}
		t0 := time.Now()
		tokens, err = mintTokens(ctx, p, o.n+1, "bench-user-%06d")
		if err != nil {
			return err
		}
		// The sessions' creators are other users, so no timed connection's
		// token has been seen by the gateway before it connects.
		if creators, err = mintTokens(ctx, p, sessions, "bench-creator-%06d"); err != nil {
			return err
		}
		mode = fmt.Sprintf("JWT: DEV_MODE=false, local IdP %s, one distinct RS256 token per connection via %s (%d minted in %v, before timing)",
			iss, o.authVia(), len(tokens)+len(creators), time.Since(t0).Round(time.Millisecond))
	}
	env = append(env, o.limits(sessions)...)
	env = append(env, o.env...)
	if len(o.env) > 0 {
		mode += "; extra env " + o.env.String()
	}
	fmt.Printf("gateway: %s; %s\n", o.gateway, mode)
	joined := "not joined"
	if o.join > 0 {
		joined = fmt.Sprintf("each joined to a session, %d per session (%d %s sessions created before timing)", o.join, sessions, o.agent)
	}
	fmt.Printf("load: %d idle connections, %s, %d opened at once, %d run(s), settle %v\n", o.n, joined, o.concurrency, o.runs, o.settle)
	fmt.Printf("gateway env: %s\n", strings.Join(env, " "))

	g0 := 0
	if o.goroutines {
		benv, stop, err := o.withFabric(ctx, env)
		if err != nil {
			return err
		}
		defer stop()
		gw, err := gateway.Start(ctx, o.gateway, benv...)
		if err != nil {
			return err
		}
		if err := sleep(ctx, o.settle); err != nil {
			gw.Kill()
			return err
		}
		if _, err := gw.Health(ctx); err != nil {
			gw.Kill()
			return err
		}
		if g0, err = gw.QuitAndCountGoroutines(); err != nil {
			return err
		}
		fmt.Printf("baseline: %d goroutines with no connection\n", g0)
	}

	var results, others, floors []result
	for i := 0; i < o.runs; i++ {
		r, err := once(ctx, o, o.gateway, env, tokens, creators, g0)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		results = append(results, r)
		g := "-"
		if o.goroutines {
			g = fmt.Sprintf("%d (%.2f/conn)", r.goroutines, r.gPerConn)
		}
		if r.diag {
			g += fmt.Sprintf("; after forced GC (gwdiag): heap %.1f KiB/conn, stacks %.1f KiB/conn", r.heapPerConn, r.stackPerConn)
		}
		if r.sessions > 0 {
			fmt.Printf("run %d: %d sessions created and activated in %v, RSS +%.1f MiB (before the baseline); %d active during the idle period\n",
				i+1, r.sessions, r.setupDur.Round(time.Millisecond), float64(r.setupKiB)/1024, r.active)
		}
		fmt.Printf("run %d: connect %d in %v = %.0f conn/s, gateway CPU %v = %.0f conn per CPU-second (handshake p50 %.1f ms, p99 %.1f ms); RSS %.1f -> %.1f MiB = %.1f KiB/conn (peak %.1f MiB); threads %d; goroutines %s\n       connect-phase CPU %s\n",
			i+1, o.n, r.connectDur.Round(time.Millisecond), r.rate, r.cpu, r.perCPU, r.hsP50, r.hsP99,
			float64(r.rss0.RSSKiB)/1024, float64(r.rss1.RSSKiB)/1024, r.perConnKiB, float64(r.rss1.HWMKiB)/1024, r.rss1.Threads, g, r.share)
		if o.against != "" {
			ao := o
			ao.goroutines = false
			a, err := once(ctx, ao, o.against, env, tokens, creators, 0)
			if err != nil {
				return fmt.Errorf("run %d (against): %w", i+1, err)
			}
			others = append(others, a)
			fmt.Printf("run %d against: connect %d in %v = %.0f conn/s, gateway CPU %v = %.0f conn per CPU-second (handshake p99 %.1f ms); RSS %.1f -> %.1f MiB = %.1f KiB/conn\n",
				i+1, o.n, a.connectDur.Round(time.Millisecond), a.rate, a.cpu, a.perCPU, a.hsP99, float64(a.rss0.RSSKiB)/1024, float64(a.rss1.RSSKiB)/1024, a.perConnKiB)
		}
		if o.floor != "" {
			fo := o
			fo.goroutines = false
			f, err := once(ctx, fo, o.floor, nil, nil, nil, 0)
			if err != nil {
				return fmt.Errorf("run %d (floor): %w", i+1, err)
			}
			floors = append(floors, f)
			fmt.Printf("run %d floor: connect %d in %v = %.0f conn/s, CPU %v = %.0f conn per CPU-second; RSS %.1f -> %.1f MiB = %.1f KiB/conn\n",
				i+1, o.n, f.connectDur.Round(time.Millisecond), f.rate, f.cpu, f.perCPU, float64(f.rss0.RSSKiB)/1024, float64(f.rss1.RSSKiB)/1024, f.perConnKiB)
		}
	}
	med := func(f func(result) float64) float64 {
		xs := make([]float64, len(results))
		for i, r := range results {
			xs[i] = f(r)
		}
		return stats.Median(xs)
	}
	fmt.Printf("RESULT n=%d join=%d dialers=%d runs=%d idp=%v: median connect rate %.0f conn/s (%.0f per gateway CPU-second); median RSS/conn %.1f KiB; median handshake p99 %.1f ms",
		o.n, o.join, o.concurrency, o.runs, o.useIdP, med(func(r result) float64 { return r.rate }), med(func(r result) float64 { return r.perCPU }), med(func(r result) float64 { return r.perConnKiB }),
		med(func(r result) float64 { return r.hsP99 }))
	if o.goroutines {
		fmt.Printf("; median goroutines/conn %.2f", med(func(r result) float64 { return r.gPerConn }))
	}
	if results[0].diag {
		fmt.Printf("; after forced GC: median heap %.1f KiB/conn, stacks %.1f KiB/conn",
			med(func(r result) float64 { return r.heapPerConn }), med(func(r result) float64 { return r.stackPerConn }))
	}
	fmt.Println()
	summary("GATEWAY "+o.gateway, o, results)
	if len(others) > 0 {
		summary("AGAINST "+o.against, o, others)
		ratio := func(f func(result) float64) float64 { return medianOf(results, f) / medianOf(others, f) }
		fmt.Printf("RATIO gateway/against: CPU per connect %.2f, connect rate %.2f, RSS/conn %.2f, with the sessions %.2f\n",
			ratio(cpuPerConnect), ratio(func(r result) float64 { return r.rate }), ratio(func(r result) float64 { return r.perConnKiB }), ratio(func(r result) float64 { return r.allInKiB }))
	}
	if len(floors) > 0 {
		span := func(rs []result, f func(result) float64) (float64, float64, float64) {
			v := make([]float64, len(rs))
			for i, r := range rs {
				v[i] = f(r)
			}
			return stats.Median(v), slices.Min(v), slices.Max(v)
		}
		perConn := func(r result) float64 { return r.perConnKiB }
		rate := func(r result) float64 { return r.rate }
		cpuPer := func(r result) float64 { return 1e6 / max(r.perCPU, 1) }
		gk, _, _ := span(results, perConn)
		fk, fkl, fkh := span(floors, perConn)
		gr, _, _ := span(results, rate)
		fr, frl, frh := span(floors, rate)
		gc, _, _ := span(results, cpuPer)
		fc, fcl, fch := span(floors, cpuPer)
		fmt.Printf("FLOOR n=%d runs=%d: RSS/conn %.1f KiB [%.1f-%.1f]; connect rate %.0f conn/s [%.0f-%.0f]; CPU per connect %.0f µs [%.0f-%.0f]\n",
			o.n, o.runs, fk, fkl, fkh, fr, frl, frh, fc, fcl, fch)
		fmt.Printf("RATIO gateway/floor: RSS/conn %.2f, connect rate %.2f, CPU per connect %.2f", gk/fk, gr/fr, gc/fc)
		if o.join > 0 {
			ga, _, _ := span(results, func(r result) float64 { return r.allInKiB })
			fmt.Printf(", RSS/conn with the sessions' own cost %.2f", ga/fk)
		}
		fmt.Println()
	}
	return nil
}

// withFabric starts fabric-sim when -fabric is set and returns env with
// its URLs, and the function that stops it.
func (o options) withFabric(ctx context.Context, env []string) ([]string, func(), error) {
	if o.fabric == "" {
		return env, func() {}, nil
	}
	fab, err := gateway.StartFabric(ctx, o.fabric, 20*time.Millisecond)
	if err != nil {
		return nil, nil, err
	}
	return append(append([]string{}, env...), fab.Env...), fab.Stop, nil
}

// once starts a fresh gateway (or floor), measures it and ends it.
func once(ctx context.Context, o options, bin string, env, tokens, creators []string, g0 int) (r result, err error) {
	floor := bin == o.floor
	if !floor {
		var stop func()
		if env, stop, err = o.withFabric(ctx, env); err != nil {
			return r, err
		}
		defer stop()
	}
	gw, err := gateway.Start(ctx, bin, env...)
	if err != nil {
		return r, err
	}
	defer gw.Kill()

	// Warm up: one connection through the whole path (in JWT mode this
	// fetches discovery and the JWKS once, as a long-running gateway has).
	warm, _, err := connect(ctx, gw.WS, tokenAt(tokens, o.n), "", floor, o.authUpgrade, o.devMessage)
	if err != nil {
		return r, fmt.Errorf("warm-up connection: %w; gateway log: %s", err, gw.Tail())
	}
	_ = warm.Close()
	if err := waitConnections(ctx, gw, 0); err != nil {
		return r, err
	}
	var ids []string
	if o.join > 0 && !floor {
		m0, err := gw.Mem()
		if err != nil {
			return r, err
		}
		t0 := time.Now()
		if ids, err = createSessions(ctx, gw.WS, o, creators); err != nil {
			return r, fmt.Errorf("creating sessions: %w; gateway log: %s", err, gw.Tail())
		}
		r.sessions, r.setupDur = len(ids), time.Since(t0)
		if err := waitConnections(ctx, gw, 0); err != nil {
			return r, err
		}
		m1, err := gw.Mem()
		if err != nil {
			return r, err
		}
		r.setupKiB = m1.RSSKiB - m0.RSSKiB
	}
	if err := sleep(ctx, o.settle); err != nil {
		return r, err
	}
	if r.rss0, err = gw.Mem(); err != nil {
		return r, err
	}
	d0, diag := gw.LastDiag()

	conns := make([]*websocket.Conn, o.n)
	hs := make([]float64, o.n)
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cpu0, err := gw.CPU()
	if err != nil {
		return r, err
	}
	s0 := machine.Sample()
	start := time.Now()
	for w := 0; w < o.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= o.n || cctx.Err() != nil {
					return
				}
				sid := ""
				if len(ids) > 0 {
					sid = ids[i%len(ids)]
				}
				c, d, err := connect(cctx, gw.WS, tokenAt(tokens, i), sid, floor, o.authUpgrade, o.devMessage)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("connection %d: %w", i, err); cancel() })
					return
				}
				conns[i], hs[i] = c, float64(d.Microseconds())/1000
			}
		}()
	}
	wg.Wait()
	r.connectDur = time.Since(start)
	cpu1, err := gw.CPU()
	if err != nil {
		return r, err
	}
	r.cpu = cpu1 - cpu0
	r.share = machine.Share(s0, machine.Sample(), r.cpu)
	defer func() {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
	}()
	if firstErr != nil {
		return r, fmt.Errorf("%w; gateway log: %s", firstErr, gw.Tail())
	}
	r.rate = float64(o.n) / r.connectDur.Seconds()
	if r.cpu > 0 {
		r.perCPU = float64(o.n) / r.cpu.Seconds()
	}
	r.hsP50, r.hsP99 = stats.Percentile(hs, 50), stats.Percentile(hs, 99)

	// Idle clients still read, so pings are answered and an unexpected
	// close is seen.
	var measuring atomic.Bool
	measuring.Store(true)
	var lost atomic.Int64
	for _, c := range conns {
		go func(c *websocket.Conn) {
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					if measuring.Load() {
						lost.Add(1)
					}
					return
				}
			}
		}(c)
	}
	if err := sleep(ctx, o.settle); err != nil {
		return r, err
	}
	h, err := gw.Health(ctx)
	if err != nil {
		return r, err
	}
	if r.rss1, err = gw.Mem(); err != nil {
		return r, err
	}
	if h.Connections != o.n || lost.Load() != 0 {
		return r, fmt.Errorf("gateway reports %d connections, want %d; %d closed during the idle period", h.Connections, o.n, lost.Load())
	}
	r.active = h.ActiveSessions
	if len(ids) > 0 && h.ActiveSessions < len(ids) {
		return r, fmt.Errorf("gateway reports %d active sessions, want at least %d", h.ActiveSessions, len(ids))
	}
	r.perConnKiB = float64(r.rss1.RSSKiB-r.rss0.RSSKiB) / float64(o.n)
	r.allInKiB = float64(r.setupKiB+r.rss1.RSSKiB-r.rss0.RSSKiB) / float64(o.n)
	if d1, ok := gw.LastDiag(); diag && ok {
		r.diag = true
		r.heapPerConn = float64(d1.HeapInuse-d0.HeapInuse) / 1024 / float64(o.n)
		r.stackPerConn = float64(d1.StackInuse-d0.StackInuse) / 1024 / float64(o.n)
	}
	measuring.Store(false)
	if o.goroutines {
		if r.goroutines, err = gw.QuitAndCountGoroutines(); err != nil {
			return r, err
		}
		r.gPerConn = float64(r.goroutines-g0) / float64(o.n)
	} else {
		gw.Stop()
	}
	return r, nil
}

var dialer = websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}

// connect opens one connection and completes the protocol handshake: in dev
// mode the server authenticates at once; with a token the client sends
// authenticate after welcome, or with upgrade "header" or "protocol" puts
// the token on the upgrade request (Authorization, or a subprotocol beside
// diminuendo.v1), after which the server authenticates unprompted. With devMessage
// (dev mode) the client sends authenticate all the same and waits for the
// answer to it, skipping the authenticated the server sent unprompted. With
// a session id it then joins that session.
// It returns the time to "authenticated", or to the join's state_snapshot.
func connect(ctx context.Context, url, token, session string, floor bool, upgrade string, devMessage bool) (*websocket.Conn, time.Duration, error) {
	t0 := time.Now()
	var h http.Header
	switch {
	case token == "":
	case upgrade == "header":
		h = http.Header{"Authorization": {"Bearer " + token}}
	case upgrade == "protocol":
		h = http.Header{"Sec-WebSocket-Protocol": {"diminuendo.v1.bearer." + token + ", diminuendo.v1"}}
	}
	c, _, err := dialer.DialContext(ctx, url, h)
	if err != nil {
		return nil, 0, err
	}
	if floor {
		return c, time.Since(t0), nil // the floor has no protocol handshake
	}
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	fail := func(err error) (*websocket.Conn, time.Duration, error) {
		_ = c.Close()
		return nil, 0, err
	}
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			return fail(err)
		}
		for line := range bytes.SplitSeq(b, []byte{'\n'}) {
			var m struct {
				Type         string `json:"type"`
				RequiresAuth bool   `json:"requiresAuth"`
				RequestID    string `json:"requestId"`
				Code         string `json:"code"`
				Message      string `json:"message"`
			}
			if err := json.Unmarshal(line, &m); err != nil {
				return fail(err)
			}
			switch m.Type {
			case "welcome":
				if (m.RequiresAuth && upgrade == "") || devMessage {
					if token == "" && !devMessage {
						return fail(errors.New("the gateway requires authentication; run with -idp"))
					}
					tok := token
					if tok == "" {
						tok = "dev" // dev mode takes any token
					}
					if err := send(c, map[string]string{"type": "authenticate", "token": tok, "requestId": "auth"}); err != nil {
						return fail(err)
					}
				}
			case "authenticated":
				if devMessage && m.RequestID != "auth" {
					continue // dev mode's own, before the answer to ours
				}
				if session == "" {
					_ = c.SetReadDeadline(time.Time{})
					return c, time.Since(t0), nil
				}
				if err := send(c, map[string]string{"type": "join_session", "sessionId": session, "requestId": "join"}); err != nil {
					return fail(err)
				}
			case "state_snapshot":
				if m.RequestID == "join" {
					_ = c.SetReadDeadline(time.Time{})
					return c, time.Since(t0), nil
				}
			case "error":
				return fail(fmt.Errorf("gateway error %s: %s", m.Code, m.Message))
			}
		}
	}
}

func send(c *websocket.Conn, msg map[string]string) error {
	b, _ := json.Marshal(msg)
	return c.WriteMessage(websocket.TextMessage, b)
}

// createSessions creates o.sessions() sessions, -dialers at a time, each by
// a connection of its own (with creators[i] as its token outside dev mode)
// that creates the session, joins it so that it is active, and hangs up.
func createSessions(ctx context.Context, url string, o options, creators []string) ([]string, error) {
	ids := make([]string, o.sessions())
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := 0; w < o.concurrency; w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ids) || cctx.Err() != nil {
					return
				}
				id, err := createSession(cctx, url, tokenAt(creators, i), o.agent, i)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("session %d: %w", i, err); cancel() })
					return
				}
				ids[i] = id
			}
		})
	}
	wg.Wait()
	return ids, firstErr
}

func createSession(ctx context.Context, url, token, agent string, i int) (string, error) {
	c, _, err := connect(ctx, url, token, "", false, "", false)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	if err := send(c, map[string]string{"type": "create_session", "agentType": agent, "name": fmt.Sprintf("conns-%d", i), "requestId": "create"}); err != nil {
		return "", err
	}
	var id string
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			return "", err
		}
		for line := range bytes.SplitSeq(b, []byte{'\n'}) {
			var m struct {
				Type      string `json:"type"`
				RequestID string `json:"requestId"`
				Code      string `json:"code"`
				Message   string `json:"message"`
				Session   struct {
					ID string `json:"id"`
				} `json:"session"`
			}
			if err := json.Unmarshal(line, &m); err != nil {
				return "", err
			}
			switch {
			case m.Type == "session_created" && m.RequestID == "create":
				id = m.Session.ID
				if err := send(c, map[string]string{"type": "join_session", "sessionId": id, "requestId": "join"}); err != nil {
					return "", err
				}
			case m.Type == "state_snapshot" && m.RequestID == "join":
				return id, nil
			case m.Type == "error":
				return "", fmt.Errorf("gateway error %s: %s", m.Code, m.Message)
			}
		}
	}
}

// sessions is how many sessions -join needs: n/join, rounded up.
func (o options) sessions() int {
	if o.join == 0 {
		return 0
	}
	return (o.n + o.join - 1) / o.join
}

// limits raises, for the gateway child, every budget the load would
// otherwise run into, never below the gateway's default (.env.example):
// the instance's connections (the n timed ones plus room for the warm-up
// and the session creators while they close), and with -join the
// subscribers of one session (in dev mode all of one user) and the active
// sessions of the instance and of the one tenant. The tenant's and users'
// connection quotas do not apply in dev mode; with -idp every connection
// is a user of its own and the tenant's quota is raised in run.
func (o options) limits(sessions int) []string {
	env := []string{fmt.Sprintf("MAX_CONNECTIONS=%d", max(10000, o.n+64))}
	if o.join > 0 {
		env = append(env,
			fmt.Sprintf("SESSION_MAX_SUBSCRIBERS=%d", max(256, o.join+1)),
			fmt.Sprintf("SESSION_MAX_SUBSCRIBERS_PER_USER=%d", max(16, o.join+1)),
			fmt.Sprintf("MAX_ACTIVE_SESSIONS=%d", max(5000, sessions+1)),
			fmt.Sprintf("MAX_ACTIVE_SESSIONS_PER_TENANT=%d", max(1250, sessions+1)))
	}
	return env
}

func cpuPerConnect(r result) float64 { return 1e6 / max(r.perCPU, 1) }

func medianOf(rs []result, f func(result) float64) float64 {
	xs := make([]float64, len(rs))
	for i, r := range rs {
		xs[i] = f(r)
	}
	return stats.Median(xs)
}

// summary prints one target's medians with their ranges.
func summary(label string, o options, rs []result) {
	span := func(f func(result) float64) string {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = f(r)
		}
		return fmt.Sprintf("%.1f [%.1f-%.1f]", stats.Median(xs), slices.Min(xs), slices.Max(xs))
	}
	fmt.Printf("%s n=%d join=%d dialers=%d idp=%v runs=%d: CPU per connect %s µs; connect rate %s conn/s; RSS/conn %s KiB; handshake p99 %s ms",
		label, o.n, o.join, o.concurrency, o.useIdP, len(rs), span(cpuPerConnect), span(func(r result) float64 { return r.rate }),
		span(func(r result) float64 { return r.perConnKiB }), span(func(r result) float64 { return r.hsP99 }))
	if o.join > 0 {
		// What the sessions the connections joined cost, spread over them.
		fmt.Printf("; RSS/conn with the sessions' own cost %s KiB", span(func(r result) float64 { return r.allInKiB }))
	}
	fmt.Println()
}

func tokenAt(tokens []string, i int) string {
	if i < len(tokens) {
		return tokens[i]
	}
	return ""
}

// mintTokens signs n tokens with distinct subjects (subject is a format
// for the index), so none is served from the gateway's verified-token cache.
func mintTokens(ctx context.Context, p *idp.IdP, n int, subject string) ([]string, error) {
	return tokens.Mint(ctx, p, n, func(i int) idp.Claims {
		return idp.Claims{Subject: fmt.Sprintf(subject, i), TenantID: "bench", Role: "developer", ExpiresIn: time.Hour}
	})
}

func waitConnections(ctx context.Context, gw *gateway.Proc, want int) error {
	var last int
	for i := 0; i < 100; i++ {
		h, err := gw.Health(ctx)
		if err == nil && h.Connections == want {
			return nil
		}
		last = h.Connections
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("gateway still reports %d connections, want %d", last, want)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// authVia names how the timed connections present their tokens.
func (o options) authVia() string {
	switch o.authUpgrade {
	case "header":
		return "the upgrade request's Authorization header"
	case "protocol":
		return "a subprotocol of the upgrade request (diminuendo.v1.bearer.<jwt>)"
	}
	return "an authenticate message"
}
