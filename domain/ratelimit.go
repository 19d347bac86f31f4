package domain

import "time"

// SlidingWindow admits at most limit events in any window of the given
// length. It keeps the last limit admission times in a ring, so checking is
// O(1) and memory is bounded. The ring grows as events come, so a limiter
// that sees few events (an idle connection's) holds few times, whatever the
// limit. Not safe for concurrent use.
type SlidingWindow struct {
	window time.Duration
	limit  int
	times  []int64 // Unix ns of admitted events; a ring once limit long
	next   int     // the oldest time, once the ring is full
}

// NewSlidingWindow returns a limiter of limit events per window.
func NewSlidingWindow(limit int, window time.Duration) *SlidingWindow {
	return &SlidingWindow{window: window, limit: max(limit, 1)}
}

// Allow admits one event at now, or reports false and how long until the
// oldest admission leaves the window.
func (s *SlidingWindow) Allow(now time.Time) (bool, time.Duration) {
	t := now.UnixNano()
	if len(s.times) < s.limit {
		s.times = append(s.times, t)
		return true, 0
	}
	if age := time.Duration(t - s.times[s.next]); age < s.window {
		return false, s.window - age
	}
	s.times[s.next] = t
	s.next = (s.next + 1) % s.limit
	return true, 0
}
