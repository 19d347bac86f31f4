package cputime

import (
	"testing"
	"time"
)

// Spinning for a while shows up as CPU time used.
func TestUsedGrowsWithWork(t *testing.T) {
	before := Used()
	deadline := time.Now().Add(50 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	if Used()-before <= 0 {
		t.Fatalf("no CPU time counted after %d spins", x)
	}
}
