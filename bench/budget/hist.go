package main

import "sync/atomic"

// histStep is the width of one latency bucket. Event ts are whole
// milliseconds, so finer buckets would only describe the truncation.
const histStep = 100 // µs

// histBuckets cover 0 to 120 s; anything longer lands in the last one.
const histBuckets = 120 * 1_000_000 / histStep

// hist counts latencies in fixed buckets shared by every reader goroutine:
// at tens of thousands of deliveries a second, one atomic add per delivery
// costs less than keeping millions of samples per run.
type hist struct {
	n   [histBuckets]atomic.Uint32
	max atomic.Int64 // µs
}

func (h *hist) add(us int64) {
	us = max(us, 0)
	h.n[min(us/histStep, histBuckets-1)].Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// summary is a histogram's count and percentiles, in milliseconds: the
// upper edge of the bucket holding the nearest-rank sample.
type summary struct {
	count              int64
	p50, p95, p99, max float64
}

func (h *hist) summary() summary {
	var total int64
	for i := range h.n {
		total += int64(h.n[i].Load())
	}
	s := summary{count: total, max: float64(h.max.Load()) / 1000}
	if total == 0 {
		return s
	}
	ranks := []struct {
		p   float64
		out *float64
	}{{50, &s.p50}, {95, &s.p95}, {99, &s.p99}}
	var seen int64
	k := 0
	for i := range h.n {
		seen += int64(h.n[i].Load())
		for k < len(ranks) && float64(seen) >= ranks[k].p/100*float64(total) {
			*ranks[k].out = min(float64((i+1)*histStep)/1000, s.max)
			k++
		}
		if k == len(ranks) {
			break
		}
	}
	return s
}
