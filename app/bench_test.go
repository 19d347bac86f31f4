package app

import (
	"fmt"
	"testing"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/internal/cputime"
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
			ls := benchSession()
			for i := 0; i < n; i++ {
				o := NewOutbox(1<<20, func() {}, nil)
				ls.subs[&discard{out: o}] = "bench"
			}
			up := domain.UpstreamEvent{TS: 1, Raw: []byte(`{"event_type":"text_delta","turn_id":"t","content":{"text":"streamed words "}}`)}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				up.Seq = uint64(i + 1)
				ls.apply(ls.gen, up)
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// benchSession is a running session with a full-size window and no
// connections.
func benchSession() *liveSession {
	h := &Hub{limits: DefaultLimits(), clock: &manualClock{}}
	const id = "ses_0123456789abcdef01234567"
	return &liveSession{h: h, id: id, state: domain.StateRunning, enc: domain.NewUpstreamEncoder(id),
		gen: domain.Generation{InstanceID: "inst_bench"},
		win: domain.NewWindow(1000, 1<<20), subs: map[Subscriber]string{}}
}

// One streamed upstream event, as the runtime port delivers it, through the
// hub's per-event step: sequenced, mapped, encoded once, appended to the
// replay window and applied to the derived state (fan-out is
// BenchmarkPublishFanout's).
func BenchmarkApplyUpstream(b *testing.B) {
	ls := benchSession()
	up := domain.UpstreamEvent{TS: 1_800_000_000_000,
		Raw: []byte(`{"seq":1,"ts":1800000000000,"type":"update","event_type":"text_delta","turn_id":"turn_7","content":{"text":"a few words of streamed agent output, "}}`)}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Start(b)
	for i := 0; i < b.N; i++ {
		up.Seq = uint64(i + 1)
		if !ls.apply(ls.gen, up) {
			b.Fatal("event refused")
		}
	}
	cpu.Stop()
	if ls.latest != uint64(b.N) || ls.win.Len() != min(b.N, 1000) {
		b.Fatalf("latest %d, window %d after %d events", ls.latest, ls.win.Len(), b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
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
