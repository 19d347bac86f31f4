package domain

import "time"

// SlidingWindow admits at most limit events in any window of the given
// length. It keeps the last limit admission times in a ring, so checking is
// O(1) and memory is bounded. Not safe for concurrent use.
type SlidingWindow struct {
	window time.Duration
	times  []int64 // Unix ns of admitted events, ring
	next   int
	n      int
}

// NewSlidingWindow returns a limiter of limit events per window.
func NewSlidingWindow(limit int, window time.Duration) *SlidingWindow {
	if limit < 1 {
		limit = 1
	}
	return &SlidingWindow{window: window, times: make([]int64, limit)}
}

// Allow admits one event at now, or reports false and how long until the
// oldest admission leaves the window.
func (s *SlidingWindow) Allow(now time.Time) (bool, time.Duration) {
	t := now.UnixNano()
	if s.n == len(s.times) {
		oldest := s.times[s.next]
		if age := time.Duration(t - oldest); age < s.window {
			return false, s.window - age
		}
	} else {
		s.n++
	}
	s.times[s.next] = t
	s.next = (s.next + 1) % len(s.times)
	return true, 0
}
