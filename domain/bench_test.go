package domain

import (
	"encoding/json"
	"runtime"
	"testing"

	"github.com/diminuendo/diminuendo/internal/cputime"
)

var sampleUpstream = UpstreamEvent{Seq: 42, TS: 1_800_000_000_000, Fields: map[string]any{
	"type": "update", "event_type": "text_delta", "turn_id": "turn_7", "seq": 42.0,
	"content": map[string]any{"text": "a few words of streamed agent output, "},
}}

// sampleRaw is sampleUpstream as the runtime port delivers it: the frame's
// JSON as received.
var sampleRaw = UpstreamEvent{Seq: 42, TS: 1_800_000_000_000,
	Raw: []byte(`{"seq":42,"ts":1800000000000,"type":"update","event_type":"text_delta","turn_id":"turn_7","content":{"text":"a few words of streamed agent output, "}}`)}

// Mapping plus the one encoding every subscriber shares: the hub's per-event
// CPU cost before fan-out, from the event as the runtime port delivers it,
// through the session's encoder as the hub keeps it.
func BenchmarkMapAndEncode(b *testing.B) {
	enc := NewUpstreamEncoder("ses_0123456789abcdef01234567")
	b.ReportAllocs()
	cpu := cputime.Start(b)
	for i := 0; i < b.N; i++ {
		if _, _, err := enc.Encode(42, sampleRaw); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Stop()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// The generic path the other event types take, from a decoded frame.
func BenchmarkMapAndEncodeGeneric(b *testing.B) {
	b.ReportAllocs()
	cpu := cputime.Start(b)
	for i := 0; i < b.N; i++ {
		ev := MapUpstream("ses_0123456789abcdef01234567", 42, sampleUpstream)
		if _, err := json.Marshal(ev); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Stop()
}

// The same event encoded as a plain map, for comparison with the
// deterministic envelope-first encoder.
func BenchmarkEncodeAsMap(b *testing.B) {
	ev := MapUpstream("ses_0123456789abcdef01234567", 42, sampleUpstream)
	m := map[string]any{"type": ev.Type, "sessionId": ev.SessionID, "turnId": ev.TurnID, "seq": ev.Seq, "ts": ev.TS}
	for k, v := range ev.Data {
		m[k] = v
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := json.Marshal(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWindowAppend(b *testing.B) {
	w := NewWindow(1000, 1<<20)
	raw := make([]byte, 120)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.Append(Encoded{Seq: uint64(i + 1), JSON: raw})
	}
}

// What a full replay window keeps in memory: 1000 text_delta events held
// encoded, as the hub keeps them, against the encoded bytes its byte budget
// counts. Reported per event, measured once after the timed loop.
func BenchmarkWindowRetained(b *testing.B) {
	const n = 1000
	fill := func() (*Window, int) {
		w := NewWindow(n, 1<<20)
		encoded := 0
		for i := 1; i <= n; i++ {
			up := sampleUpstream
			up.Seq = uint64(i)
			ev := MapUpstream("ses_0123456789abcdef01234567", uint64(i), up)
			raw, err := json.Marshal(ev)
			if err != nil {
				b.Fatal(err)
			}
			w.Append(Encoded{Seq: ev.Seq, JSON: raw})
			encoded += len(raw)
		}
		return w, encoded
	}
	b.ReportAllocs()
	for b.Loop() {
		fill()
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	w, encoded := fill()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if w.Len() != n {
		b.Fatalf("window holds %d events", w.Len())
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heapB/event")
	b.ReportMetric(float64(encoded)/n, "encodedB/event")
	runtime.KeepAlive(w)
}
