package app

import "sync/atomic"

// Stats are the hub's counters, read by the telemetry adapter. Plain
// atomics keep metrics libraries out of the core and off the hot path.
type Stats struct {
	EventsPublished   atomic.Int64 // sequenced events entering a session
	FramesDelivered   atomic.Int64 // frames handed to subscribers
	SubscribersCut    atomic.Int64 // subscribers detached because they refused a frame
	Activations       atomic.Int64
	ActivationsFailed atomic.Int64
	GenerationsLost   atomic.Int64 // agent runtimes lost mid-generation
	ReplaysFromWindow atomic.Int64
	ReplaysFromStore  atomic.Int64 // replays that needed Podium's history
	ReplaysRefused    atomic.Int64 // joins answered replayComplete:false
}

// Stats exposes the hub's counters.
func (h *Hub) Stats() *Stats { return &h.stats }
