package client

import (
	"math/rand/v2"
	"time"
)

// backoff is the delay before reconnection attempt n (from 0): it doubles
// from MinBackoff up to MaxBackoff, is at least floor, and is jittered
// between half and all of it so that clients dropped together do not come
// back together.
func (o *Options) backoff(n int, floor time.Duration) time.Duration {
	d := o.MinBackoff
	for i := 0; i < n && d < o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, o.MaxBackoff)
	d = max(d, floor)
	return d/2 + rand.N(d/2+1)
}
