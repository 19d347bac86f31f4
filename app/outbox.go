package app

import (
	"bytes"
	"sync"
)

// Outbox is one connection's bounded outbound queue. It hands at most
// maxInflight frames to the transport's writer at a time and queues the rest,
// bounded in bytes; a consumer too slow to keep the queue under its bound is
// cut off (onOverflow) instead of losing frames silently. The client then
// resumes from its last seq.
//
// A batching outbox (NewBatchOutbox) keeps one frame in flight and, when the
// writer is done with it, hands over everything queued meanwhile as one
// frame: the messages joined by '\n', each byte for byte as it would be sent
// alone. Batching is only a framing: order, seq and the bound are the same.
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
	batchBytes  int // >0: batching, a joined frame is at most this long
}

// NewBatchOutbox is NewOutbox for a connection that asked for batched
// frames: one frame in flight, the queue behind it joined into frames of at
// most batchBytes (a single longer message goes alone).
func NewBatchOutbox(maxBytes, batchBytes int, write func([]byte) error, onOverflow func()) *Outbox {
	o := NewOutbox(maxBytes, 1, write, onOverflow)
	o.batchBytes = max(batchBytes, 1)
	return o
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
	var b []byte
	if o.batchBytes > 0 {
		b = o.joinQueued()
	} else {
		b = o.queue[o.head]
		o.queue[o.head] = nil
		o.head++
		o.bytes -= len(b)
	}
	if o.head == len(o.queue) {
		o.queue, o.head = o.queue[:0], 0
	}
	o.inflight++
	_ = o.write(b)
}

// joinQueued takes queued messages from the head, up to batchBytes in all
// (at least one), and joins them with '\n'. A message holding a newline
// byte (no JSON encoder emits one, but the transport does not rely on
// that) is never joined, so every line of a batch is one whole message.
func (o *Outbox) joinQueued() []byte {
	first := o.queue[o.head]
	n, size := 1, len(first)
	if bytes.IndexByte(first, '\n') < 0 {
		for _, m := range o.queue[o.head+1:] {
			if size+1+len(m) > o.batchBytes || bytes.IndexByte(m, '\n') >= 0 {
				break
			}
			n++
			size += 1 + len(m)
		}
	}
	if n == 1 {
		o.queue[o.head] = nil
		o.head++
		o.bytes -= len(first)
		return first
	}
	b := make([]byte, 0, size)
	for i := o.head; i < o.head+n; i++ {
		if i > o.head {
			b = append(b, '\n')
		}
		b = append(b, o.queue[i]...)
		o.bytes -= len(o.queue[i])
		o.queue[i] = nil
	}
	o.head += n
	return b
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
