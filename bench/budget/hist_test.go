package main

import "testing"

func TestHistPercentilesByNearestRank(t *testing.T) {
	h := new(hist)
	// 1000 latencies: 1.0, 2.0, ..., 1000.0 ms.
	for i := 1; i <= 1000; i++ {
		h.add(int64(i) * 1000)
	}
	h.add(-5000) // a receive stamped before the ts (clock step): counted as 0
	s := h.summary()
	if s.count != 1001 {
		t.Fatalf("count %d, want 1001", s.count)
	}
	// Nearest rank over 1001 samples (0, 1, ..., 1000 ms); each reported as
	// its bucket's upper edge, 0.1 ms above the sample.
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"p50", s.p50, 500.1}, {"p95", s.p95, 950.1}, {"p99", s.p99, 990.1}, {"max", s.max, 1000}} {
		if c.got < c.want-1e-9 || c.got > c.want+1e-9 {
			t.Errorf("%s = %v ms, want %v", c.name, c.got, c.want)
		}
	}
}

func TestHistCapsPercentilesAtTheMaximum(t *testing.T) {
	h := new(hist)
	h.add(1234) // 1.234 ms: bucket edge 1.3 ms, but nothing was slower than 1.234
	if s := h.summary(); s.p99 != 1.234 || s.max != 1.234 {
		t.Fatalf("p99 %v max %v, want 1.234 both", s.p99, s.max)
	}
}

func TestHistEmpty(t *testing.T) {
	if s := new(hist).summary(); s != (summary{}) {
		t.Fatalf("empty histogram: %+v", s)
	}
}
