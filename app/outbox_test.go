package app

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// A fake transport writer: records frames handed to it; Sent is called by
// the test to simulate the socket finishing a write.
type recWriter struct {
	mu     sync.Mutex
	frames [][]byte
}

func (w *recWriter) write(b []byte) error {
	w.mu.Lock()
	w.frames = append(w.frames, b)
	w.mu.Unlock()
	return nil
}

func TestOutboxOrderAndInflight(t *testing.T) {
	w := &recWriter{}
	o := NewOutbox(1<<20, 2, w.write, nil)
	for i := 0; i < 5; i++ {
		if !o.Push([]byte{byte(i)}) {
			t.Fatalf("push %d refused", i)
		}
	}
	if len(w.frames) != 2 {
		t.Fatalf("writer holds %d frames, want at most 2 in flight", len(w.frames))
	}
	for i := 0; i < 5; i++ {
		o.Sent()
	}
	if len(w.frames) != 5 {
		t.Fatalf("delivered %d", len(w.frames))
	}
	for i, f := range w.frames {
		if !bytes.Equal(f, []byte{byte(i)}) {
			t.Fatalf("order broken at %d: %v", i, w.frames)
		}
	}
	if o.Queued() != 0 {
		t.Fatal("queue not drained")
	}
}

func TestOutboxOverflowCutsOffOnce(t *testing.T) {
	w := &recWriter{}
	overflows := 0
	o := NewOutbox(10, 1, w.write, func() { overflows++ })
	o.Push(make([]byte, 4)) // in flight
	o.Push(make([]byte, 6)) // queued: 6 bytes
	o.Push(make([]byte, 4)) // queued: 10 bytes, at the bound
	if overflows != 0 {
		t.Fatal("overflowed at the bound")
	}
	if o.Push(make([]byte, 1)) {
		t.Fatal("push past the bound accepted")
	}
	if overflows != 1 {
		t.Fatalf("overflows %d", overflows)
	}
	if o.Push([]byte{1}) || overflows != 1 {
		t.Fatal("a cut-off outbox must refuse quietly")
	}
	o.Sent()
	if len(w.frames) != 1 {
		t.Fatal("nothing may be written after the cut-off")
	}
}

func TestOutboxConcurrentPushKeepsPerProducerOrder(t *testing.T) {
	w := &recWriter{}
	var o *Outbox
	o = NewOutbox(1<<30, 4, func(b []byte) error {
		_ = w.write(b)
		go o.Sent() // the transport's writer finishes asynchronously
		return nil
	}, nil)
	var wg sync.WaitGroup
	for p := 0; p < 4; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				o.Push([]byte{byte(p), byte(i >> 8), byte(i)})
			}
		}(p)
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.mu.Lock()
		n := len(w.frames)
		w.mu.Unlock()
		if n == 2000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	last := map[byte]int{0: -1, 1: -1, 2: -1, 3: -1}
	for _, f := range w.frames {
		n := int(f[1])<<8 | int(f[2])
		if n != last[f[0]]+1 {
			t.Fatalf("producer %d: %d after %d", f[0], n, last[f[0]])
		}
		last[f[0]] = n
	}
	if len(w.frames) != 2000 {
		t.Fatalf("delivered %d of 2000", len(w.frames))
	}
}

// A batching outbox keeps one frame in flight and joins what queued behind
// it with '\n', up to its batch size; a message holding a newline goes alone.
func TestBatchOutboxJoinsQueuedMessages(t *testing.T) {
	w := &recWriter{}
	o := NewBatchOutbox(1<<20, 12, w.write, nil)
	for _, m := range []string{"a1", "b2", "c3", "d4", "e5", "x\ny", "f6"} {
		if !o.Push([]byte(m)) {
			t.Fatalf("push %q refused", m)
		}
	}
	if len(w.frames) != 1 {
		t.Fatalf("writer holds %d frames, want 1 in flight", len(w.frames))
	}
	for len(w.frames) < 4 {
		n := len(w.frames)
		o.Sent()
		if len(w.frames) != n+1 {
			t.Fatalf("Sent handed %d frames, want 1", len(w.frames)-n)
		}
	}
	o.Sent()
	want := []string{"a1", "b2\nc3\nd4\ne5", "x\ny", "f6"}
	if len(w.frames) != len(want) {
		t.Fatalf("frames %q, want %q", w.frames, want)
	}
	for i, f := range w.frames {
		if string(f) != want[i] {
			t.Fatalf("frame %d = %q, want %q", i, f, want[i])
		}
	}
	if o.Queued() != 0 {
		t.Fatalf("queued %d bytes after draining", o.Queued())
	}
}
