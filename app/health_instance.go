package app

import (
	"fmt"
	"sync"
	"time"
)

// BudgetWarnRatio is how close to a budget an instance may run before
// /api/health reports degraded: at 90% an orchestrator or load balancer
// still has time to send new work elsewhere.
const BudgetWarnRatio = 0.9

// Budget is one of the instance's budgets and its use.
type Budget struct {
	Name  string // connections, activeSessions, memory
	Var   string // the variable that sets it
	Used  int64
	Limit int64
}

// Ratio is the share of the budget in use.
func (b Budget) Ratio() float64 {
	if b.Limit <= 0 {
		return 0
	}
	return float64(b.Used) / float64(b.Limit)
}

// MemoryStats is the process's memory as the runtime and the kernel see it.
type MemoryStats struct {
	Goroutines int
	HeapBytes  int64 // live heap objects
	RSSBytes   int64 // resident set (0 when the platform does not say)
}

// InstanceReport is the instance half of /api/health.
type InstanceReport struct {
	MemoryStats
	EventsInPerSecond  float64 // sequenced events entering sessions
	EventsOutPerSecond float64 // frames handed to subscribers
	ConnectionsByState map[string]int
	SessionsByState    map[string]int
	Budgets            []Budget
}

// Instrumentation is what the composition root hands Health about the
// process and the transports; every field is optional.
type Instrumentation struct {
	Memory             func() MemoryStats
	ConnectionsByState func() map[string]int
	// Breakers reports each upstream's circuit breaker: closed, half-open, open.
	Breakers       map[string]func() string
	MaxConnections int
	MaxSessions    int
	MemoryLimit    int64
}

// Instrument sets what the instance metrics are read from.
func (h *Health) Instrument(in Instrumentation) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inst = in
}

// rate turns the hub's event counters into per-second rates over the
// interval between health reports at least a second apart; the first
// report gets the average since the process started.
type rate struct {
	mu          sync.Mutex
	at          time.Time
	in, out     int64
	rIn, rOut   float64
	initialized bool
}

func (r *rate) sample(started, now time.Time, in, out int64) (float64, float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.initialized {
		r.at, r.in, r.out, r.initialized = started, 0, 0, true
	}
	if d := now.Sub(r.at).Seconds(); d >= 1 {
		r.rIn, r.rOut = float64(in-r.in)/d, float64(out-r.out)/d
		r.at, r.in, r.out = now, in, out
	}
	return r.rIn, r.rOut
}

// instance reads the instance metrics and says which budgets are near
// their limit.
func (h *Health) instance() (InstanceReport, []string) {
	h.mu.Lock()
	in := h.inst
	h.mu.Unlock()
	var r InstanceReport
	if in.Memory != nil {
		r.MemoryStats = in.Memory()
	}
	st := h.hub.Stats()
	r.EventsInPerSecond, r.EventsOutPerSecond = h.rates.sample(h.started, time.Now(), st.EventsPublished.Load(), st.FramesDelivered.Load())
	if in.ConnectionsByState != nil {
		r.ConnectionsByState = in.ConnectionsByState()
	}
	r.SessionsByState = h.hub.SessionsByState()
	mem := r.HeapBytes
	if r.RSSBytes > 0 {
		mem = r.RSSBytes
	}
	r.Budgets = []Budget{
		{Name: "connections", Var: "MAX_CONNECTIONS", Used: int64(h.connections()), Limit: int64(in.MaxConnections)},
		{Name: "activeSessions", Var: "MAX_ACTIVE_SESSIONS", Used: int64(h.hub.ActiveSessions()), Limit: int64(in.MaxSessions)},
		{Name: "memory", Var: "MEMORY_LIMIT", Used: mem, Limit: in.MemoryLimit},
	}
	var near []string
	for _, b := range r.Budgets {
		if b.Limit > 0 && b.Ratio() >= BudgetWarnRatio {
			near = append(near, fmt.Sprintf("%s at %.0f%% of %s", b.Name, 100*b.Ratio(), b.Var))
		}
	}
	return r, near
}

// breakers reads each upstream's circuit breaker.
func (h *Health) breakers() map[string]string {
	h.mu.Lock()
	bs := h.inst.Breakers
	h.mu.Unlock()
	out := make(map[string]string, len(bs))
	for name, f := range bs {
		out[name] = f()
	}
	return out
}
