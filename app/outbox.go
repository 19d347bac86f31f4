package app

import "sync"

// Outbox is one connection's bounded outbound queue, drained by the
// transport's writer. A consumer too slow to keep the queue under its bound
// is cut off (onOverflow) instead of losing frames silently; the client then
// resumes from its last seq.
//
// The writer does not wait on the outbox: Push starts a drain (the start
// function, typically `go writer()`) when work arrives and none is running,
// and the drain ends once Take finds the queue empty. An idle connection
// therefore holds no writer at all, and a busy one takes everything queued
// while it was writing in one Take, which is what lets the transport put
// many messages into one write.
type Outbox struct {
	mu         sync.Mutex
	queue      [][]byte
	head       int
	bytes      int
	maxBytes   int
	credit     int // catch-up bytes still queued, which the bound does not count
	state      outboxState
	draining   bool // a drain runs (or is about to)
	kicked     bool // Kick asked the running drain to look again
	start      func()
	onOverflow func()
}

type outboxState uint8

const (
	outboxOpen   outboxState = iota
	outboxSealed             // no more pushes; what is queued still goes, then the end
	outboxClosed             // nothing more goes
)

// Drain is what Take tells the writer to do after writing what it took.
type Drain uint8

const (
	// DrainMore: take again.
	DrainMore Drain = iota
	// DrainIdle: nothing is queued; the drain is over (the next Push starts one).
	DrainIdle
	// DrainEnd: the outbox was sealed and everything queued has been taken:
	// the writer finishes the connection (its close frame) and stops.
	DrainEnd
	// DrainClosed: the outbox was closed; write nothing more.
	DrainClosed
)

// NewOutbox returns an outbox that calls start when work arrives and no
// drain runs, and onOverflow once if more than maxBytes wait.
func NewOutbox(maxBytes int, start, onOverflow func()) *Outbox {
	return &Outbox{maxBytes: maxBytes, start: start, onOverflow: onOverflow}
}

// Push queues frame b. It reports false when the outbox no longer takes
// frames (sealed, closed, or just overflowed); the frame is then not
// delivered.
func (o *Outbox) Push(b []byte) bool { return o.push(b, false) }

// PushCatchUp queues a frame of a join's snapshot or replay: like Push, but
// the bound on the backlog does not count it while it waits (its size is
// bounded by the replay limits), so a resume larger than the bound is
// delivered rather than cut off every time.
func (o *Outbox) PushCatchUp(b []byte) bool { return o.push(b, true) }

func (o *Outbox) push(b []byte, catchUp bool) bool {
	o.mu.Lock()
	if o.state != outboxOpen {
		o.mu.Unlock()
		return false
	}
	if catchUp {
		o.credit += len(b)
	} else if o.bytes+len(b) > o.maxBytes+o.credit {
		// What is queued is dropped with the connection: the client
		// resumes from its last seq and gets all of it again.
		o.state = outboxSealed
		clear(o.queue[o.head:])
		o.queue, o.head, o.bytes, o.credit = nil, 0, 0, 0
		o.mu.Unlock()
		if o.onOverflow != nil {
			o.onOverflow()
		}
		return false
	}
	o.queue = append(o.queue, b)
	o.bytes += len(b)
	start := o.begin()
	o.mu.Unlock()
	if start {
		o.start()
	}
	return true
}

// begin marks a drain as running; true when the caller must start it.
// Called with mu held.
func (o *Outbox) begin() bool {
	if o.draining {
		return false
	}
	o.draining = true
	return true
}

// Kick makes the writer run even with nothing queued, for work the
// transport keeps outside the queue (a ping, a close frame): a running
// drain looks again before it ends, an idle one is started.
func (o *Outbox) Kick() {
	o.mu.Lock()
	if o.state == outboxClosed {
		o.mu.Unlock()
		return
	}
	o.kicked = true
	start := o.begin()
	o.mu.Unlock()
	if start {
		o.start()
	}
}

// Seal refuses further pushes; the writer still gets everything queued,
// then DrainEnd. It starts a drain if none runs, so the end is written.
func (o *Outbox) Seal() {
	o.mu.Lock()
	if o.state != outboxOpen {
		o.mu.Unlock()
		o.Kick()
		return
	}
	o.state = outboxSealed
	o.mu.Unlock()
	o.Kick()
}

// Take appends queued messages to dst, oldest first, up to limit bytes in
// all (always at least one when any is queued), and says what to do next.
func (o *Outbox) Take(dst [][]byte, limit int) ([][]byte, Drain) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.state == outboxClosed {
		o.draining = false
		return dst, DrainClosed
	}
	again := o.kicked
	o.kicked = false
	size := 0
	for o.head < len(o.queue) {
		m := o.queue[o.head]
		if size > 0 && size+len(m) > limit {
			break
		}
		dst = append(dst, m)
		size += len(m)
		o.queue[o.head] = nil
		o.head++
	}
	o.bytes -= size
	// Catch-up frames are queued before the live ones that follow them,
	// so what leaves first uses up the credit first.
	o.credit = max(0, o.credit-size)
	if o.head < len(o.queue) {
		return dst, DrainMore
	}
	o.queue, o.head = o.queue[:0], 0
	if len(dst) > 0 || again {
		// Look once more after writing: more may arrive meanwhile, the
		// end of a sealed outbox comes after the last message, and a Kick
		// may have come after the writer looked at its other work.
		return dst, DrainMore
	}
	if o.state == outboxSealed {
		o.draining = false
		return dst, DrainEnd
	}
	o.draining = false
	return dst, DrainIdle
}

// Close stops all further delivery and drops what is queued.
func (o *Outbox) Close() {
	o.mu.Lock()
	o.state = outboxClosed
	clear(o.queue[o.head:])
	o.queue, o.head, o.bytes, o.credit = nil, 0, 0, 0
	o.mu.Unlock()
}

// Queued is the number of bytes waiting.
func (o *Outbox) Queued() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bytes
}
