package domain

import (
	"testing"
	"time"
)

func TestSlidingWindow(t *testing.T) {
	s := NewSlidingWindow(3, 10*time.Second)
	t0 := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		if ok, _ := s.Allow(t0.Add(time.Duration(i) * time.Second)); !ok {
			t.Fatalf("message %d refused", i)
		}
	}
	ok, retry := s.Allow(t0.Add(5 * time.Second))
	if ok || retry != 5*time.Second {
		t.Fatalf("4th within the window: ok %v retry %v", ok, retry)
	}
	// At t0+10 s the first admission leaves the window.
	if ok, _ := s.Allow(t0.Add(10 * time.Second)); !ok {
		t.Fatal("refused after the window slid")
	}
	if ok, _ := s.Allow(t0.Add(10*time.Second + time.Millisecond)); ok {
		t.Fatal("second admission at 1 s is still inside")
	}
}

// A high limit costs nothing until events come: the ring grows with use.
func TestSlidingWindowGrowsWithUse(t *testing.T) {
	s := NewSlidingWindow(10_000_000, time.Minute)
	if cap(s.times) != 0 {
		t.Fatalf("a new limiter holds %d times", cap(s.times))
	}
	now := time.Unix(1000, 0)
	for i := range 5 {
		if ok, _ := s.Allow(now.Add(time.Duration(i))); !ok {
			t.Fatalf("event %d refused under the limit", i)
		}
	}
	if cap(s.times) > 8 {
		t.Fatalf("5 events hold room for %d times", cap(s.times))
	}
	small := NewSlidingWindow(2, time.Second)
	for i, want := range []bool{true, true, false} {
		if ok, _ := small.Allow(now.Add(time.Duration(i) * time.Millisecond)); ok != want {
			t.Fatalf("event %d: allowed %v, want %v", i, ok, want)
		}
	}
	if ok, _ := small.Allow(now.Add(time.Second)); !ok {
		t.Fatal("the oldest event left the window but the next was refused")
	}
	if ok, _ := small.Allow(now.Add(time.Second + 500*time.Microsecond)); ok {
		t.Fatal("two events within the last second, a third admitted")
	}
}
