package domain

import "testing"

// ev is an encoded event of seq with size bytes.
func ev(seq uint64, size int) Encoded { return Encoded{Seq: seq, JSON: make([]byte, size)} }

func TestWindowBoundsAndCoverage(t *testing.T) {
	w := NewWindow(3, 1000)
	if evs, ok := w.Since(0, 0); !ok || evs != nil {
		t.Fatal("empty window covers nothing newer")
	}
	for s := uint64(1); s <= 5; s++ {
		w.Append(ev(s, 10))
	}
	if w.Len() != 3 || w.First() != 3 || w.Last() != 5 || w.Bytes() != 30 {
		t.Fatalf("len %d first %d last %d bytes %d", w.Len(), w.First(), w.Last(), w.Bytes())
	}
	if _, ok := w.Since(1, 0); ok {
		t.Fatal("seq 2 was evicted: a replay after 1 must not claim completeness")
	}
	evs, ok := w.Since(2, 0)
	if !ok || len(evs) != 3 || evs[0].Seq != 3 {
		t.Fatalf("since 2: %v %v", evs, ok)
	}
	evs, ok = w.Since(3, 1)
	if !ok || len(evs) != 1 || evs[0].Seq != 4 {
		t.Fatalf("limit: %v", evs)
	}
	if evs, ok := w.Since(5, 0); !ok || len(evs) != 0 {
		t.Fatal("nothing after the last")
	}
}

func TestWindowByteBound(t *testing.T) {
	w := NewWindow(100, 25)
	for s := uint64(1); s <= 4; s++ {
		w.Append(ev(s, 10))
	}
	if w.Len() != 2 || w.First() != 3 || w.Bytes() != 20 {
		t.Fatalf("len %d first %d bytes %d", w.Len(), w.First(), w.Bytes())
	}
	// One event larger than the bound still fits alone.
	w.Append(ev(5, 40))
	if w.Len() != 1 || w.First() != 5 {
		t.Fatalf("oversized: len %d first %d", w.Len(), w.First())
	}
}

func TestWindowResetsOnGap(t *testing.T) {
	w := NewWindow(10, 1000)
	w.Append(ev(1, 1))
	w.Append(ev(2, 1))
	w.Append(ev(4, 1))
	if w.Len() != 1 || w.First() != 4 {
		t.Fatalf("a gap must reset: len %d first %d", w.Len(), w.First())
	}
	if _, ok := w.Since(2, 0); ok {
		t.Fatal("after a reset, older cursors are not covered")
	}
}

func TestWindowWrapsManyTimes(t *testing.T) {
	w := NewWindow(7, 1<<20)
	for s := uint64(1); s <= 1000; s++ {
		w.Append(ev(s, 3))
		evs, ok := w.Since(w.First()-1, 0)
		if !ok || uint64(len(evs)) != w.Last()-w.First()+1 {
			t.Fatalf("at %d: %d events, ok %v", s, len(evs), ok)
		}
		for i, e := range evs {
			if e.Seq != w.First()+uint64(i) {
				t.Fatalf("at %d: order broken", s)
			}
		}
	}
}

// A window whose ring has not yet grown to its event bound, after byte
// evictions moved its oldest entry off the ring's start, must grow instead
// of overwriting that oldest entry once the ring is full again.
func TestWindowGrowsAfterByteEvictions(t *testing.T) {
	w := NewWindow(10, 100)
	for s := uint64(1); s <= 4; s++ {
		w.Append(ev(s, 30)) // the fourth evicts the first
	}
	w.Append(ev(5, 5))
	if w.Len() != 4 || w.First() != 2 || w.Last() != 5 || w.Bytes() != 95 {
		t.Fatalf("len %d first %d last %d bytes %d", w.Len(), w.First(), w.Last(), w.Bytes())
	}
	requireHeld(t, w)
}

// requireHeld checks a window against what it says it holds: First..Last,
// in order, of Bytes bytes.
func requireHeld(t *testing.T, w *Window) {
	t.Helper()
	if w.Len() == 0 {
		return
	}
	if w.Last()-w.First()+1 != uint64(w.Len()) {
		t.Fatalf("len %d but first %d last %d", w.Len(), w.First(), w.Last())
	}
	evs, ok := w.Since(w.First()-1, 0)
	if !ok || len(evs) != w.Len() {
		t.Fatalf("since first-1: %d events, whole %v, len %d", len(evs), ok, w.Len())
	}
	size := 0
	for i, e := range evs {
		if e.Seq != w.First()+uint64(i) {
			t.Fatalf("event %d has seq %d, first %d", i, e.Seq, w.First())
		}
		size += len(e.JSON)
	}
	if size != w.Bytes() {
		t.Fatalf("events hold %d bytes, window says %d", size, w.Bytes())
	}
}

func FuzzWindow(f *testing.F) {
	f.Add(uint8(5), uint16(100), []byte{1, 2, 3, 200, 4})
	f.Add(uint8(10), uint16(100), []byte{30, 30, 30, 30, 5, 5, 5, 60, 1, 1, 1, 1, 1, 1, 1})
	f.Fuzz(func(t *testing.T, maxEv uint8, maxBytes uint16, sizes []byte) {
		w := NewWindow(int(maxEv), int(maxBytes))
		for i, sz := range sizes {
			w.Append(ev(uint64(i+1), int(sz)))
			// NewWindow raises a bound below 1 to 1; the oracle must too.
			if w.Len() > max(1, int(maxEv)) || (w.Len() > 1 && w.Bytes() > max(1, int(maxBytes))) {
				t.Fatalf("bounds broken: len %d bytes %d", w.Len(), w.Bytes())
			}
			if w.Last() != uint64(i+1) {
				t.Fatal("last")
			}
			requireHeld(t, w)
		}
	})
}
