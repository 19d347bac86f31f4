package cputime

import (
	"testing"
	"time"
)

// Meter reports a benchmark's CPU time per operation as "cpu-ns/op".
type Meter struct {
	b     *testing.B
	start time.Duration
}

// Start begins measuring; call it where the timed loop starts.
func Start(b *testing.B) *Meter { return &Meter{b: b, start: Used()} }

// Stop reports the CPU time per operation since Start.
func (m *Meter) Stop() {
	if m.b.N > 0 {
		m.b.ReportMetric(float64(Used()-m.start)/float64(m.b.N), "cpu-ns/op")
	}
}
