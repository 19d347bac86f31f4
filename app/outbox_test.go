package app

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// drainer is a fake transport writer: started by the outbox, it takes what
// is queued until told the drain is over, recording every message.
type drainer struct {
	o       *Outbox
	limit   int
	mu      sync.Mutex
	got     [][]byte
	takes   int
	ends    int
	running atomic.Int32
	maxRun  atomic.Int32
}

func (d *drainer) run() {
	if n := d.running.Add(1); n > d.maxRun.Load() {
		d.maxRun.Store(n)
	}
	defer d.running.Add(-1)
	for {
		msgs, next := d.o.Take(nil, d.limit)
		d.mu.Lock()
		d.takes++
		d.got = append(d.got, msgs...)
		if next == DrainEnd {
			d.ends++
		}
		d.mu.Unlock()
		if next != DrainMore {
			return
		}
	}
}

func (d *drainer) messages() [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([][]byte(nil), d.got...)
}

// An idle outbox starts no writer; the first push starts one, which takes
// everything queued and ends when the queue is empty.
func TestOutboxStartsAWriterOnlyForWork(t *testing.T) {
	starts := 0
	var o *Outbox
	o = NewOutbox(1<<20, func() { starts++ }, nil)
	if starts != 0 {
		t.Fatal("a writer started with nothing queued")
	}
	for i := range 5 {
		if !o.Push([]byte{byte(i)}) {
			t.Fatalf("push %d refused", i)
		}
	}
	if starts != 1 {
		t.Fatalf("%d writers started for one burst, want 1", starts)
	}
	msgs, next := o.Take(nil, 1<<20)
	if len(msgs) != 5 || next != DrainMore {
		t.Fatalf("took %d, next %d; want all 5 and a second look", len(msgs), next)
	}
	for i, m := range msgs {
		if !bytes.Equal(m, []byte{byte(i)}) {
			t.Fatalf("order broken at %d: %v", i, msgs)
		}
	}
	if _, next := o.Take(nil, 1<<20); next != DrainIdle {
		t.Fatalf("empty queue gave %d, want DrainIdle", next)
	}
	o.Push([]byte{9})
	if starts != 2 {
		t.Fatalf("a push after the drain ended started %d writers in all, want 2", starts)
	}
	if o.Queued() != 1 {
		t.Fatalf("queued %d bytes", o.Queued())
	}
}

// Take stops at its byte limit (always taking at least one message).
func TestOutboxTakeLimit(t *testing.T) {
	o := NewOutbox(1<<20, func() {}, nil)
	for _, n := range []int{4, 4, 4, 20, 1} {
		o.Push(make([]byte, n))
	}
	var sizes []int
	for {
		msgs, next := o.Take(nil, 10)
		for _, m := range msgs {
			sizes = append(sizes, len(m))
		}
		if len(msgs) > 0 {
			sizes = append(sizes, -1)
		}
		if next != DrainMore {
			break
		}
	}
	want := []int{4, 4, -1, 4, -1, 20, -1, 1, -1}
	if len(sizes) != len(want) {
		t.Fatalf("takes %v, want %v", sizes, want)
	}
	for i := range want {
		if sizes[i] != want[i] {
			t.Fatalf("takes %v, want %v", sizes, want)
		}
	}
}

func TestOutboxOverflowCutsOffOnce(t *testing.T) {
	overflows := 0
	o := NewOutbox(10, func() {}, func() { overflows++ })
	o.Push(make([]byte, 4))
	o.Push(make([]byte, 6)) // 10 bytes, at the bound
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
	if msgs, next := o.Take(nil, 1<<20); len(msgs) != 0 || next != DrainEnd {
		t.Fatalf("after the cut-off the writer got %d messages and %d, want none and DrainEnd", len(msgs), next)
	}
}

// Sealing keeps what is queued and ends the drain after it; a kick with
// nothing queued makes the running writer look once more.
func TestOutboxSealAndKick(t *testing.T) {
	starts := 0
	o := NewOutbox(1<<20, func() { starts++ }, nil)
	o.Kick()
	if starts != 1 {
		t.Fatalf("a kick on an idle outbox started %d writers, want 1", starts)
	}
	if _, next := o.Take(nil, 1<<20); next != DrainMore {
		t.Fatalf("a kicked drain gave %d, want a second look", next)
	}
	if _, next := o.Take(nil, 1<<20); next != DrainIdle {
		t.Fatalf("gave %d, want DrainIdle", next)
	}
	o.Push([]byte("a"))
	o.Seal()
	if o.Push([]byte("b")) {
		t.Fatal("a sealed outbox took a push")
	}
	msgs, next := o.Take(nil, 1<<20)
	if len(msgs) != 1 || string(msgs[0]) != "a" || next != DrainMore {
		t.Fatalf("took %q and %d", msgs, next)
	}
	if _, next := o.Take(nil, 1<<20); next != DrainEnd {
		t.Fatalf("gave %d, want DrainEnd", next)
	}
	o.Close()
	if _, next := o.Take(nil, 1<<20); next != DrainClosed {
		t.Fatalf("gave %d, want DrainClosed", next)
	}
}

// Four producers against a writer running on its own goroutines: every
// message arrives once, each producer's in order, and never two writers
// at once.
func TestOutboxConcurrentPushKeepsPerProducerOrder(t *testing.T) {
	d := &drainer{limit: 64}
	d.o = NewOutbox(1<<30, func() { go d.run() }, nil)
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				d.o.Push([]byte{byte(p), byte(i >> 8), byte(i)})
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for len(d.messages()) < 2000 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	got := d.messages()
	last := map[byte]int{0: -1, 1: -1, 2: -1, 3: -1}
	for _, f := range got {
		n := int(f[1])<<8 | int(f[2])
		if n != last[f[0]]+1 {
			t.Fatalf("producer %d: %d after %d", f[0], n, last[f[0]])
		}
		last[f[0]] = n
	}
	if len(got) != 2000 {
		t.Fatalf("delivered %d of 2000", len(got))
	}
	if m := d.maxRun.Load(); m > 1 {
		t.Fatalf("%d writers ran at once", m)
	}
}

// A join's catch-up may be larger than the bound; live frames behind it
// are bounded as before once it has been taken.
func TestOutboxCatchUpIsNotCountedAgainstTheBound(t *testing.T) {
	overflows := 0
	o := NewOutbox(10, func() {}, func() { overflows++ })
	for range 5 {
		if !o.PushCatchUp(make([]byte, 8)) {
			t.Fatal("catch-up refused")
		}
	}
	if !o.Push(make([]byte, 10)) || overflows != 0 {
		t.Fatal("a live frame within the bound, behind a catch-up over it, was refused")
	}
	if msgs, _ := o.Take(nil, 40); len(msgs) != 5 {
		t.Fatalf("took %d", len(msgs))
	}
	if o.Push(make([]byte, 1)) || overflows != 1 {
		t.Fatal("with the catch-up taken, the live backlog over the bound was not cut off")
	}
}
