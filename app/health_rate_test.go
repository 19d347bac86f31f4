package app

import (
	"testing"
	"time"
)

// Rates are per second over the interval since the last sample a second or
// more before; the first sample averages since the start.
func TestEventRates(t *testing.T) {
	var r rate
	t0 := time.Unix(1000, 0)
	if in, out := r.sample(t0, t0.Add(2*time.Second), 10, 40); in != 5 || out != 20 {
		t.Fatalf("first sample: %v %v, want 5 20", in, out)
	}
	// Under a second later: the last rates stand.
	if in, out := r.sample(t0, t0.Add(2500*time.Millisecond), 1000, 1000); in != 5 || out != 20 {
		t.Fatalf("sample within a second: %v %v", in, out)
	}
	if in, out := r.sample(t0, t0.Add(4*time.Second), 30, 40); in != 10 || out != 0 {
		t.Fatalf("second sample: %v %v, want 10 0", in, out)
	}
}
