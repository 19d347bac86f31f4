package app

import "sync"

// Outbox is one connection's bounded outbound queue. It hands at most
// maxInflight frames to the transport's writer at a time and queues the rest,
// bounded in bytes; a consumer too slow to keep the queue under its bound is
// cut off (onOverflow) instead of losing frames silently. The client then
// resumes from its last seq.
type Outbox struct {
	mu          sync.Mutex
	queue       [][]byte
	head        int
	bytes       int
	maxBytes    int
	inflight    int
	maxInflight int
	closed      bool
	write       func([]byte) error
	onOverflow  func()
}

// NewOutbox returns an outbox that writes through write (which must not
// block: it hands the frame to the transport's own writer) and calls
// onOverflow once if more than maxBytes wait.
func NewOutbox(maxBytes, maxInflight int, write func([]byte) error, onOverflow func()) *Outbox {
	if maxInflight < 1 {
		maxInflight = 1
	}
	return &Outbox{maxBytes: maxBytes, maxInflight: maxInflight, write: write, onOverflow: onOverflow}
}

// Push queues frame b. It reports false when the outbox is closed or has
// just overflowed; the frame is then not delivered.
func (o *Outbox) Push(b []byte) bool {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return false
	}
	if o.inflight < o.maxInflight && o.head == len(o.queue) {
		o.inflight++
		err := o.write(b) // under the lock: frames reach the writer in order
		o.mu.Unlock()
		return err == nil
	}
	if o.bytes+len(b) > o.maxBytes {
		o.closed = true
		o.queue, o.head, o.bytes = nil, 0, 0
		o.mu.Unlock()
		if o.onOverflow != nil {
			o.onOverflow()
		}
		return false
	}
	o.queue = append(o.queue, b)
	o.bytes += len(b)
	o.mu.Unlock()
	return true
}

// Sent tells the outbox the writer finished one frame, freeing a slot.
func (o *Outbox) Sent() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.inflight > 0 {
		o.inflight--
	}
	if o.closed || o.head == len(o.queue) {
		return
	}
	b := o.queue[o.head]
	o.queue[o.head] = nil
	o.head++
	o.bytes -= len(b)
	if o.head == len(o.queue) {
		o.queue, o.head = o.queue[:0], 0
	}
	o.inflight++
	_ = o.write(b)
}

// Close stops all further delivery.
func (o *Outbox) Close() {
	o.mu.Lock()
	o.closed = true
	o.queue, o.head, o.bytes = nil, 0, 0
	o.mu.Unlock()
}

// Queued is the number of bytes waiting.
func (o *Outbox) Queued() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bytes
}
