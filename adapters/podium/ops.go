package podium

import "time"

// FrameDump records stream frames for debugging; it redacts secrets
// itself. dir is "in" (from Podium) or "out"; subject is the instance.
type FrameDump interface {
	Frame(dir, subject string, frame []byte)
}

// Cache keeps small snapshots across restarts (DATA_DIR/cache). Load
// reports false for a missing or unreadable snapshot.
type Cache interface {
	Load(name string, v any) (time.Time, bool)
	Store(name string, v any) error
}

// agentTypesCache names the agent-type listing's snapshot.
const agentTypesCache = "agent-types"

// BreakerState is the state of the circuit breaker towards Podium.
func (a *Adapter) BreakerState() string { return a.up.BreakerState() }
