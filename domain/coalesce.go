package domain

import (
	"strings"
	"time"
)

// Coalescer batches streamed text into deltas: it flushes once MaxDelay has
// passed since the first buffered piece, or once MaxBytes are buffered,
// whichever comes first. It runs where the stream is produced (the agent
// runtime), so the coalesced deltas are part of the durable history and
// every replay sees the same events with the same seq; merging in the
// gateway would make seq depend on timing.
type Coalescer struct {
	MaxBytes int
	MaxDelay time.Duration
	buf      strings.Builder
	first    time.Time
}

// DefaultCoalescer flushes at 10 ms or 4 KiB.
func DefaultCoalescer() *Coalescer {
	return &Coalescer{MaxBytes: 4096, MaxDelay: 10 * time.Millisecond}
}

// Add buffers piece, produced at now, and returns a delta when one is due.
func (c *Coalescer) Add(piece string, now time.Time) (string, bool) {
	if c.buf.Len() == 0 {
		c.first = now
	}
	c.buf.WriteString(piece)
	if c.buf.Len() >= c.MaxBytes || now.Sub(c.first) >= c.MaxDelay {
		return c.Flush()
	}
	return "", false
}

// Due returns the buffered delta if MaxDelay has passed since its first piece.
func (c *Coalescer) Due(now time.Time) (string, bool) {
	if c.buf.Len() > 0 && now.Sub(c.first) >= c.MaxDelay {
		return c.Flush()
	}
	return "", false
}

// Flush returns whatever is buffered.
func (c *Coalescer) Flush() (string, bool) {
	if c.buf.Len() == 0 {
		return "", false
	}
	s := c.buf.String()
	c.buf.Reset()
	return s, true
}
