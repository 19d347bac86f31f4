package simkit

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Faults are the failures a test can inject into a simulator's wire,
// beside its state, so the state stays a faithful service. The zero value
// injects nothing.
type Faults struct {
	latency  atomic.Int64 // time.Duration
	fail     Burst
	refusing atomic.Bool
}

// SetLatency delays answers by d.
func (f *Faults) SetLatency(d time.Duration) { f.latency.Store(int64(d)) }

// FailNext makes the next n requests answer status with an error body;
// n <= 0 cancels what is left.
func (f *Faults) FailNext(n, status int) { f.fail.Set(n, status) }

// RefuseConnections makes the simulator unreachable until called with false.
func (f *Faults) RefuseConnections(on bool) { f.refusing.Store(on) }

// Refusing reports whether connections are being refused.
func (f *Faults) Refusing() bool { return f.refusing.Load() }

// Fail answers w with the next injected failure, an error body of code,
// and reports whether there was one left to answer with.
func (f *Faults) Fail(w http.ResponseWriter, code string) bool {
	status := f.fail.Take()
	if status == 0 {
		return false
	}
	WriteError(w, status, code, "injected failure")
	return true
}

// Delay waits out the latency. It reports false when the request ended
// first, and then nothing should be answered.
func (f *Faults) Delay(r *http.Request) bool {
	d := time.Duration(f.latency.Load())
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// Burst is n more answers of one status, taken one at a time. The zero
// Burst is empty.
type Burst struct {
	mu        sync.Mutex
	n, status int
}

// Set replaces what is left with n answers of status; n <= 0 empties it.
func (b *Burst) Set(n, status int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n, b.status = max(n, 0), status
}

// Take consumes one answer and returns its status, or 0 when none is left.
func (b *Burst) Take() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n == 0 {
		return 0
	}
	b.n--
	return b.status
}
