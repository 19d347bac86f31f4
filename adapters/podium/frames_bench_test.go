package podium

import (
	"log/slog"
	"testing"

	"github.com/diminuendo/diminuendo/internal/cputime"
)

// One streamed event frame read off the agent stream into the event the
// runtime port delivers: the adapter's share of the per-event path.
func BenchmarkDecodeFrame(b *testing.B) {
	a, err := New(Config{BaseURL: "http://127.0.0.1:1", Logger: slog.New(slog.DiscardHandler)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	raw := []byte(`{"seq":42,"ts":1800000000000,"type":"update","event_type":"text_delta","turn_id":"turn_7","content":{"text":"a few words of streamed agent output, "}}`)
	b.ReportAllocs()
	cpu := cputime.Start(b)
	for b.Loop() {
		if ev, ok := a.event("inst_bench", raw); !ok || ev.Seq != 42 {
			b.Fatal("frame refused")
		}
	}
	cpu.Stop()
}
