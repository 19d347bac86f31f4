package app

import (
	"fmt"
	"testing"

	"github.com/diminuendo/diminuendo/domain"
)

type discard struct {
	out  *Outbox
	msgs [][]byte
}

// Send queues the frame and takes it at once, as a writer keeping up would.
func (d *discard) Send(f Frame) bool {
	ok := d.out.Push(f.Data)
	d.msgs, _ = d.out.Take(d.msgs[:0], 64<<10)
	return ok
}

// One upstream event through the hub: sequencing, window, derived state and
// fan-out into n connections' outboxes (whose writer completes at once).
func BenchmarkPublishFanout(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			h := &Hub{limits: DefaultLimits(), clock: &manualClock{}}
			ls := &liveSession{h: h, id: "ses_bench", state: domain.StateRunning,
				win: domain.NewWindow(1000, 1<<20), subs: map[Subscriber]string{}}
			for i := 0; i < n; i++ {
				o := NewOutbox(1<<20, func() {}, nil)
				ls.subs[&discard{out: o}] = "bench"
			}
			up := domain.UpstreamEvent{TS: 1, Fields: map[string]any{"event_type": "text_delta", "turn_id": "t", "content": map[string]any{"text": "streamed words "}}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				up.Seq = uint64(i + 1)
				ls.publish(domain.MapUpstream(ls.id, up.Seq, up))
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// A frame through a connection's outbox when the writer keeps up: queued,
// then taken by the writer.
func BenchmarkOutboxPush(b *testing.B) {
	o := NewOutbox(1<<20, func() {}, nil)
	frame := make([]byte, 200)
	var msgs [][]byte
	b.ReportAllocs()
	for b.Loop() {
		o.Push(frame)
		msgs, _ = o.Take(msgs[:0], 64<<10)
	}
}

// Bursts of 64 frames queued, then taken by the writer in one go: the
// outbox's path when a burst outruns the socket.
func BenchmarkOutboxBurst(b *testing.B) {
	o := NewOutbox(1<<20, func() {}, nil)
	frame := make([]byte, 200)
	var msgs [][]byte
	b.ReportAllocs()
	for b.Loop() {
		for range 64 {
			o.Push(frame)
		}
		msgs, _ = o.Take(msgs[:0], 64<<10)
	}
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "frames/s")
}
