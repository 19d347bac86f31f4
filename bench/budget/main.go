// Command budget measures the gateway against its sizing budget as one
// workload: -conns WebSocket connections, each authenticated with its own
// RS256 token, joined -conns/-sessions to a session, while -turns of those
// sessions stream turns at a realistic pace. It reports the gateway's
// resident memory (idle, after the connect, after the joins, and during
// streaming), the latency it adds to every delivered event, its CPU per
// second and per delivery, and checks that every client received every
// event of its session exactly once and in order.
//
// It starts the simulated upstreams (cmd/fabric-sim) and a built gateway
// (DEV_MODE=false) as two child processes on loopback, so the upstreams'
// CPU and memory are not the gateway's, and runs a local identity
// provider (adapters/auth/idp) in this process. Tokens have distinct
// subjects, so none is served from the gateway's verified-token cache, and
// the users are spread over enough tenants that no per-tenant quota binds
// at the default settings.
//
// A run, each with fresh processes:
//
//   - idle: one connection authenticates (the gateway fetches the JWKS
//     once) and closes; RSS is read after -settle;
//   - connect: -conns connections, -c at a time, each sends authenticate
//     with its own token; RSS after -settle;
//   - join: the first client of each session creates it (echo agent) and
//     every client joins, which makes every session live on the gateway
//     with its agent stream from fabric-sim; RSS after -settle;
//   - stream: the first client of each of -turns sessions runs turns back
//     to back (the next after each turn_complete), the first ones spread
//     over half of -warmup. fabric-sim's -step-delay paces the simulated
//     agent: a token every step/8, coalesced into a text_delta at 10 ms,
//     so at the default 200 ms a streaming session emits about 20 events/s.
//     After -warmup the tool measures for -duration: the latency of every
//     delivery (receive time minus the event's ts, stamped by fabric-sim
//     when it appended the event, same clock), RSS every -sample, and the
//     CPU of the gateway, of fabric-sim, of this tool and of the machine.
//     A run_turn refused with a retryable code (UPSTREAM_UNAVAILABLE when
//     the gateway's Unison breaker is open on an overloaded machine) is
//     sent again after 0.5-1.5 s, as the protocol advises, and counted;
//   - drain: the drivers stop starting turns, the running ones finish and
//     every client must reach its session's last seq. A gap, a duplicate,
//     a reorder, an error frame, an early close, a turn_error or a
//     slow-consumer cut-off fails the run.
//
// It prints each run, then the median [min-max] over the runs, and a
// PASS/MISS line per budget (RSS at most -rss-budget, p99 at most
// -p99-budget). A correctness failure exits 1; a missed budget exits 1
// only with -enforce, since on a shared machine it may be the neighbours'.
//
//	go build -o bin/ ./cmd/diminuendo ./cmd/fabric-sim ./bench/budget
//	bin/budget -runs 3                                 # 10,000 connections
//	bin/budget -conns 200 -sessions 100 -turns 20 -duration 4s -warmup 2s
//
// Every wait has a deadline, every loop a bound, and the whole command is
// bounded by -timeout; the processes listen on 127.0.0.1 only.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/diminuendo/diminuendo/bench/internal/gateway"
	"github.com/diminuendo/diminuendo/bench/internal/machine"
	"github.com/diminuendo/diminuendo/bench/internal/stats"
)

type options struct {
	gateway, fabric string
	fabricPprof     string // fabric-sim's -pprof address, when set
	conns           int
	sessions        int
	turns           int
	tenants         int
	textBytes       int
	stepDelay       time.Duration
	warmup          time.Duration
	duration        time.Duration
	sample          time.Duration
	settle          time.Duration
	concurrency     int
	batch           bool
	runs            int
	rssBudgetMiB    float64
	p99Budget       float64 // ms
	enforce         bool
	timeout         time.Duration
	env             gateway.EnvFlag
}

// Default quotas (docs/operations.md) the tenant count is chosen against,
// at half of each so that neither binds nor turns health degraded.
const (
	connsPerTenant    = 2500
	sessionsPerTenant = 1250
	maxConnections    = 10000
	maxActiveSessions = 5000
)

func main() {
	var o options
	flag.StringVar(&o.gateway, "gateway", "bin/diminuendo", "path to a built cmd/diminuendo binary")
	flag.StringVar(&o.fabric, "fabric", "bin/fabric-sim", "path to a built cmd/fabric-sim binary")
	flag.StringVar(&o.fabricPprof, "fabric-pprof", "", "have fabric-sim serve net/http/pprof on this loopback address (its -pprof), to profile it during the window")
	flag.IntVar(&o.conns, "conns", 10000, "WebSocket connections, each with its own RS256 token")
	flag.IntVar(&o.sessions, "sessions", 5000, "sessions; -conns must be a multiple, each session gets -conns/-sessions connections")
	flag.IntVar(&o.turns, "turns", 1000, "sessions streaming turns at once (back to back) during the measurement")
	flag.IntVar(&o.tenants, "tenants", 0, "tenants the users are spread over (0: enough that each holds at most half of the default per-tenant quotas)")
	flag.IntVar(&o.textBytes, "text-bytes", 1000, "each turn's text, which the echo agent streams back")
	flag.DurationVar(&o.stepDelay, "step-delay", 200*time.Millisecond, "fabric-sim -step-delay: a token every step/8, coalesced into a delta at 10 ms (200ms: 40 tokens/s, about 20 deltas/s per streaming session)")
	flag.DurationVar(&o.warmup, "warmup", 5*time.Second, "streaming time before the measurement starts (the first turns are spread over half of it)")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "length of the measured streaming window; the replay windows of the streaming sessions fill up (REPLAY_WINDOW_EVENTS, 1000 events) within about a minute at 20 events/s, and RSS grows until they do")
	flag.DurationVar(&o.sample, "sample", 500*time.Millisecond, "RSS sampling interval during the window")
	flag.DurationVar(&o.settle, "settle", 3*time.Second, "wait before each idle RSS reading")
	flag.IntVar(&o.concurrency, "c", 32, "connections being opened, and sessions being set up, at once")
	flag.BoolVar(&o.batch, "batch", false, "ask for batched frames (subprotocol "+batchProtocol+")")
	flag.IntVar(&o.runs, "runs", 1, "independent runs, each with fresh processes; the median [min-max] is reported")
	flag.Float64Var(&o.rssBudgetMiB, "rss-budget", 1024, "RSS budget in MiB, checked against the gateway's peak RSS")
	flag.Float64Var(&o.p99Budget, "p99-budget", 20, "added-latency budget in ms, checked against the p99 of the window")
	flag.BoolVar(&o.enforce, "enforce", false, "exit 1 when a budget is missed (correctness failures always exit 1)")
	flag.DurationVar(&o.timeout, "timeout", 40*time.Minute, "hard limit on the whole command")
	flag.Var(&o.env, "env", "extra K=V for the gateway's environment, repeatable")
	flag.Parse()
	switch {
	case o.conns < 1 || o.conns > 15000:
		fail(2, "-conns must be 1-15000")
	case o.sessions < 1 || o.sessions > o.conns || o.conns%o.sessions != 0:
		fail(2, "-sessions must be 1 to -conns and divide -conns")
	case o.conns/o.sessions > 16:
		fail(2, "at most 16 connections per session (SESSION_MAX_SUBSCRIBERS_PER_USER; here every connection is its own user, but SESSION_MAX_SUBSCRIBERS is 256)")
	case o.turns < 0 || o.turns > o.sessions:
		fail(2, "-turns must be 0 to -sessions")
	case o.textBytes < 1 || o.textBytes > 512*1024:
		fail(2, "-text-bytes must be 1-524288")
	case o.stepDelay < 0 || o.stepDelay > 10*time.Second:
		fail(2, "-step-delay must be 0-10s")
	case o.warmup < 0 || o.warmup > 5*time.Minute, o.duration < time.Second || o.duration > 30*time.Minute:
		fail(2, "-warmup must be 0-5m, -duration 1s-30m")
	case o.sample < 50*time.Millisecond || o.sample > o.duration:
		fail(2, "-sample must be 50ms to -duration")
	case o.concurrency < 1 || o.concurrency > 256:
		fail(2, "-c must be 1-256")
	case o.runs < 1 || o.runs > 10:
		fail(2, "-runs must be 1-10")
	case o.tenants < 0 || o.tenants > o.sessions:
		fail(2, "-tenants must be 0 to -sessions")
	}
	if o.tenants == 0 {
		o.tenants = max(1, ceilDiv(o.conns, connsPerTenant/2), ceilDiv(o.sessions, sessionsPerTenant/2))
	}
	machine.RaiseFDLimit(o.conns + 1000)
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	missed, err := run(ctx, o)
	stop()
	cancel()
	if err != nil {
		fail(1, "FAIL: "+err.Error())
	}
	if missed && o.enforce {
		fail(1, "FAIL: a budget was missed (-enforce)")
	}
}

func fail(code int, msg string) {
	fmt.Println("budget:", msg)
	os.Exit(code)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// gatewayEnv is the gateway's configuration beyond fabric-sim's URLs:
// tokens from the local IdP, and the instance-wide caps raised only when
// the load is larger than their defaults.
func gatewayEnv(o options, issuer string) []string {
	env := []string{"DEV_MODE=false", "AUTH0_DOMAIN=" + issuer, "AUTH0_AUDIENCE=" + audience}
	if o.conns > maxConnections {
		env = append(env, fmt.Sprintf("MAX_CONNECTIONS=%d", o.conns))
	}
	if o.sessions > maxActiveSessions {
		env = append(env, fmt.Sprintf("MAX_ACTIVE_SESSIONS=%d", o.sessions))
	}
	return append(env, o.env...)
}

func run(ctx context.Context, o options) (missed bool, err error) {
	cps := o.conns / o.sessions
	fmt.Printf("machine: %s; load average %s\n", machine.Describe(), machine.LoadAvg())
	fmt.Printf("load: %d connections (one RS256 token and user each, %d tenants), %d sessions × %d connections, %d streaming turns of %d bytes on echo, fabric-sim step %v; warm-up %v, window %v; batched frames %v; %d run(s)\n",
		o.conns, o.tenants, o.sessions, cps, o.turns, o.textBytes, o.stepDelay, o.warmup, o.duration, o.batch, o.runs)
	ip, err := startIdP(ctx, o)
	if err != nil {
		return false, err
	}
	defer ip.close()
	env := gatewayEnv(o, ip.issuer)
	fmt.Printf("gateway: %s, env %s (plus fabric-sim's URLs; quotas otherwise at their defaults)\n", o.gateway, strings.Join(env, " "))
	fmt.Printf("tokens: %d minted in %v before the runs, valid %v\n", len(ip.tokens), ip.minted.Round(time.Millisecond), ip.ttl)

	var rs []result
	for i := 1; i <= o.runs; i++ {
		r, err := once(ctx, o, env, ip)
		if err != nil {
			return false, fmt.Errorf("run %d: %w", i, err)
		}
		rs = append(rs, r)
		r.print(i, o)
	}
	return summarize(o, rs), nil
}

// span is the median [min-max] of one figure over the runs.
func span(rs []result, f func(result) float64) string {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	return fmt.Sprintf("%s [%s-%s]", num(stats.Median(v)), num(slices.Min(v)), num(slices.Max(v)))
}

func median(rs []result, f func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	return stats.Median(v)
}

// num prints a figure with three significant digits or as an integer.
func num(x float64) string {
	switch {
	case x >= 1000 || x <= -1000:
		return fmt.Sprintf("%.0f", x)
	case x >= 100 || x <= -100:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}

func summarize(o options, rs []result) (missed bool) {
	mib := func(k int64) float64 { return float64(k) / 1024 }
	fmt.Printf("RESULT conns=%d sessions=%d turns=%d step=%v batch=%v runs=%d (median [min-max])\n",
		o.conns, o.sessions, o.turns, o.stepDelay, o.batch, len(rs))
	lines := []struct {
		name string
		f    func(result) float64
	}{
		{"RSS idle, MiB", func(r result) float64 { return mib(r.rssIdle) }},
		{"RSS after connect, MiB", func(r result) float64 { return mib(r.rssConnected) }},
		{"RSS after join, MiB", func(r result) float64 { return mib(r.rssJoined) }},
		{"RSS streaming median, MiB", func(r result) float64 { return r.rssMedianMiB }},
		{"RSS streaming peak sample, MiB", func(r result) float64 { return r.rssPeakMiB }},
		{"RSS peak (VmHWM), MiB", func(r result) float64 { return mib(r.hwm) }},
		{"RSS per connection after join, KiB", func(r result) float64 { return float64(r.rssJoined-r.rssIdle) / float64(o.conns) }},
		{"Go heap in use at window end, MiB", func(r result) float64 { return r.end.heapMiB }},
		{"Go GC goal at window end, MiB", func(r result) float64 { return r.end.gcGoalMiB }},
		{"Go stacks at window end, MiB", func(r result) float64 { return r.end.stackMiB }},
		{"events per streaming session at end", func(r result) float64 { return r.heldEvents }},
		{"connect rate, conn/s", func(r result) float64 { return r.connectRate }},
		{"deliveries/s", func(r result) float64 { return r.deliveriesPerSec }},
		{"events/s per streaming session", func(r result) float64 { return r.eventsPerSession }},
		{"turns streaming (mean)", func(r result) float64 { return r.runningMean }},
		{"latency p50, ms", func(r result) float64 { return r.lat.p50 }},
		{"latency p95, ms", func(r result) float64 { return r.lat.p95 }},
		{"latency p99, ms", func(r result) float64 { return r.lat.p99 }},
		{"latency max, ms", func(r result) float64 { return r.lat.max }},
		{"gateway CPU idle, joined, cores", func(r result) float64 { return r.idleCores }},
		{"gateway CPU streaming, cores", func(r result) float64 { return r.gwCores }},
		{"gateway CPU per delivery, µs", func(r result) float64 { return r.gwPerDelivery }},
		{"fabric-sim CPU, cores", func(r result) float64 { return r.fabCores }},
		{"load tool CPU, cores", func(r result) float64 { return r.toolCores }},
		{"deliveries per frame", func(r result) float64 { return r.perFrame }},
	}
	for _, l := range lines {
		fmt.Printf("  %-38s %s\n", l.name, span(rs, l.f))
	}
	var checked int64
	for _, r := range rs {
		checked += r.checked
	}
	fmt.Printf("  every client got every seq exactly once and in order: %d deliveries checked over %d run(s)\n", checked, len(rs))
	peak := median(rs, func(r result) float64 { return mib(r.hwm) })
	p99 := median(rs, func(r result) float64 { return r.lat.p99 })
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		missed = true
		return "MISS"
	}
	fmt.Printf("BUDGET RSS: peak %.0f MiB (median VmHWM over the runs, %s) <= %.0f MiB: %s\n",
		peak, span(rs, func(r result) float64 { return mib(r.hwm) }), o.rssBudgetMiB, verdict(peak <= o.rssBudgetMiB))
	fmt.Printf("BUDGET latency: p99 %.1f ms (median over the runs, %s) <= %.0f ms: %s\n",
		p99, span(rs, func(r result) float64 { return r.lat.p99 }), o.p99Budget, verdict(p99 <= o.p99Budget))
	return missed
}
