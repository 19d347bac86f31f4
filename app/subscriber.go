package app

// Frame is one encoded server→client message. Seq is 0 for unsequenced ones.
type Frame struct {
	Seq  uint64
	Type string
	Data []byte
	// CatchUp marks a join's snapshot and replay: their size is bounded by
	// the replay limits, so a subscriber's bound on its backlog (which
	// tells a slow consumer) must not count them, or a resume larger than
	// that bound would be cut off every time.
	CatchUp bool
}

// Subscriber is an attached connection (WebSocket or SSE) of a session.
// Send must not block; it reports false once the subscriber can take no more
// frames (closed, or cut off as a slow consumer), and the hub then detaches it.
type Subscriber interface {
	Send(f Frame) bool
}
