package domain

// Window is a session's replay window: the most recent sequenced events,
// bounded in count and in bytes, so a hot reconnect is served without an
// upstream call. Events must be appended in seq order without gaps.
// Window is not safe for concurrent use; its owner serialises access.
type Window struct {
	maxEvents int
	maxBytes  int
	buf       []windowEntry // ring
	head      int           // index of the oldest entry
	n         int
	bytes     int
}

type windowEntry struct {
	ev   Event
	size int
}

// NewWindow returns a window holding at most maxEvents events and maxBytes
// of their encoded size (both at least 1).
func NewWindow(maxEvents, maxBytes int) *Window {
	if maxEvents < 1 {
		maxEvents = 1
	}
	if maxBytes < 1 {
		maxBytes = 1
	}
	return &Window{maxEvents: maxEvents, maxBytes: maxBytes, buf: make([]windowEntry, 0, min(maxEvents, 64))}
}

// Append adds ev (size = its encoded length) and evicts the oldest events
// past either bound. An event out of order resets the window, since a
// window with a gap could serve a partial replay.
func (w *Window) Append(ev Event, size int) {
	if w.n > 0 && ev.Seq != w.Last()+1 {
		w.Reset()
	}
	for w.n > 0 && (w.n >= w.maxEvents || w.bytes+size > w.maxBytes) {
		w.evict()
	}
	if len(w.buf) < w.maxEvents && w.n == len(w.buf) && w.head == 0 {
		w.buf = append(w.buf, windowEntry{ev, size})
	} else {
		w.buf[(w.head+w.n)%len(w.buf)] = windowEntry{ev, size}
	}
	w.n++
	w.bytes += size
}

func (w *Window) evict() {
	w.bytes -= w.buf[w.head].size
	w.buf[w.head] = windowEntry{}
	w.head = (w.head + 1) % len(w.buf)
	w.n--
}

// Reset empties the window.
func (w *Window) Reset() {
	w.buf = w.buf[:0]
	w.head, w.n, w.bytes = 0, 0, 0
}

// Len is the number of events held.
func (w *Window) Len() int { return w.n }

// Bytes is the encoded size of the events held.
func (w *Window) Bytes() int { return w.bytes }

// First is the oldest seq held (0 when empty).
func (w *Window) First() uint64 {
	if w.n == 0 {
		return 0
	}
	return w.buf[w.head].ev.Seq
}

// Last is the newest seq held (0 when empty).
func (w *Window) Last() uint64 {
	if w.n == 0 {
		return 0
	}
	return w.buf[(w.head+w.n-1)%len(w.buf)].ev.Seq
}

// Since returns the events with seq > after, up to limit (≤0: all), and
// whether the window covers the range completely (after+1 is held, or
// nothing newer than after exists).
func (w *Window) Since(after uint64, limit int) ([]Event, bool) {
	if w.n == 0 || after >= w.Last() {
		return nil, true
	}
	if after+1 < w.First() {
		return nil, false
	}
	start := int(after + 1 - w.First())
	cnt := w.n - start
	if limit > 0 && cnt > limit {
		cnt = limit
	}
	out := make([]Event, cnt)
	for i := 0; i < cnt; i++ {
		out[i] = w.buf[(w.head+start+i)%len(w.buf)].ev
	}
	return out, true
}
