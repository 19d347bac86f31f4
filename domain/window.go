package domain

// Encoded is a sequenced event as its JSON bytes: what the window holds and
// what every connection is sent. The bytes are shared and never modified.
type Encoded struct {
	Seq  uint64
	Type string
	JSON []byte
}

// Window is a session's replay window: the most recent sequenced events,
// bounded in count and in bytes, so a hot reconnect is served without an
// upstream call. It keeps events encoded — the bytes the live delivery
// already made — so its memory is what its byte bound says, and a replay
// costs no encoding. Events must be appended in seq order without gaps.
// Window is not safe for concurrent use; its owner serialises access.
type Window struct {
	maxEvents int
	maxBytes  int
	buf       []Encoded // ring
	head      int       // index of the oldest entry
	n         int
	bytes     int
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
	return &Window{maxEvents: maxEvents, maxBytes: maxBytes, buf: make([]Encoded, 0, min(maxEvents, 64))}
}

// Append adds an encoded event and evicts the oldest events past either
// bound. An event out of order resets the window, since a window with a gap
// could serve a partial replay.
func (w *Window) Append(e Encoded) {
	if w.n > 0 && e.Seq != w.Last()+1 {
		w.Reset()
	}
	size := len(e.JSON)
	for w.n > 0 && (w.n >= w.maxEvents || w.bytes+size > w.maxBytes) {
		w.evict()
	}
	if len(w.buf) < w.maxEvents && w.n == len(w.buf) && w.head == 0 {
		w.buf = append(w.buf, e)
	} else {
		w.buf[(w.head+w.n)%len(w.buf)] = e
	}
	w.n++
	w.bytes += size
}

func (w *Window) evict() {
	w.bytes -= len(w.buf[w.head].JSON)
	w.buf[w.head] = Encoded{}
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
	return w.buf[w.head].Seq
}

// Last is the newest seq held (0 when empty).
func (w *Window) Last() uint64 {
	if w.n == 0 {
		return 0
	}
	return w.buf[(w.head+w.n-1)%len(w.buf)].Seq
}

// Since returns the events with seq > after, up to limit (≤0: all), and
// whether the window covers the range completely (after+1 is held, or
// nothing newer than after exists).
func (w *Window) Since(after uint64, limit int) ([]Encoded, bool) {
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
	out := make([]Encoded, cnt)
	for i := 0; i < cnt; i++ {
		out[i] = w.buf[(w.head+start+i)%len(w.buf)]
	}
	return out, true
}
