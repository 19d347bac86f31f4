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
