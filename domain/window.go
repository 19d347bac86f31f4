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
	// The ring grows as events come: a session that streams little holds
	// little, whatever the bound.
	return &Window{maxEvents: maxEvents, maxBytes: maxBytes}
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
		if w.n == len(w.buf) && w.bytes-len(w.buf[w.head].JSON)+size <= w.maxBytes {
			// A full ring evicting its last event: the new one takes the
			// freed slot, so it is written once rather than cleared first
			// (each write of its pointers costs a barrier while the GC
			// marks).
			w.bytes -= len(w.buf[w.head].JSON)
			w.buf[w.head].set(e)
			w.head = w.at(1)
			w.bytes += size
			return
		}
		w.evict()
	}
	switch {
	case w.n < len(w.buf):
		w.buf[w.at(w.n)].set(e)
	case w.head == 0:
		w.buf = append(w.buf, e) // n < maxEvents after the evictions above
	default:
		// The ring is full but below its event bound, and byte evictions
		// moved its oldest entry off the start: grow it unrolled, since
		// writing at head would overwrite the oldest event.
		grown := make([]Encoded, w.n, min(w.maxEvents, 2*w.n))
		copy(grown, w.buf[w.head:])
		copy(grown[len(w.buf)-w.head:], w.buf[:w.head])
		w.buf, w.head = append(grown, e), 0
	}
	w.n++
	w.bytes += size
}

// set stores e field by field: a struct copy into the heap goes through
// the runtime's bulk barrier while the GC marks, which walks the type's
// pointer map, where fields get one inline barrier per pointer.
func (slot *Encoded) set(e Encoded) {
	slot.Seq, slot.Type, slot.JSON = e.Seq, e.Type, e.JSON
}

func (w *Window) evict() {
	w.bytes -= len(w.buf[w.head].JSON)
	w.buf[w.head] = Encoded{}
	w.head = w.at(1)
	w.n--
}

// at is the ring index of the i-th oldest entry (i < len(buf)); a compare
// instead of a division, as it runs for every event.
func (w *Window) at(i int) int {
	j := w.head + i
	if j >= len(w.buf) {
		j -= len(w.buf)
	}
	return j
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
	return w.buf[w.at(w.n-1)].Seq
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
		out[i] = w.buf[w.at(start+i)]
	}
	return out, true
}
