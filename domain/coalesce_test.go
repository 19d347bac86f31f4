package domain

import (
	"strings"
	"testing"
	"time"
)

func TestCoalescerFlushesAtDelayOrSize(t *testing.T) {
	c := DefaultCoalescer()
	t0 := time.Unix(0, 0)
	var out []string
	for i := 0; i < 30; i++ { // a piece every 2 ms
		if s, ok := c.Add("ab", t0.Add(time.Duration(i)*2*time.Millisecond)); ok {
			out = append(out, s)
		}
	}
	if s, ok := c.Flush(); ok {
		out = append(out, s)
	}
	if strings.Join(out, "") != strings.Repeat("ab", 30) {
		t.Fatal("text lost or reordered")
	}
	// Pieces at 0,2,…,10 ms make the first delta: flushed when 10 ms passed.
	if len(out) != 5 || out[0] != strings.Repeat("ab", 6) {
		t.Fatalf("deltas %q", out)
	}

	big := DefaultCoalescer()
	s, ok := big.Add(strings.Repeat("x", 5000), t0)
	if !ok || len(s) != 5000 {
		t.Fatal("4 KiB bound not honoured")
	}
	if _, ok := big.Due(t0.Add(time.Hour)); ok {
		t.Fatal("nothing buffered, nothing due")
	}
	big.Add("y", t0)
	if s, ok := big.Due(t0.Add(10 * time.Millisecond)); !ok || s != "y" {
		t.Fatal("due after the delay")
	}
}
