package domain

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// Frames of one encoder share blocks: every frame keeps its bytes while
// later frames are written, whether it fit its block, outgrew its estimate
// (text that escapes to six times its size) or was too big for a block, and
// appending to a frame never writes into the next one.
func TestUpstreamEncoderFramesStayIntact(t *testing.T) {
	enc := NewUpstreamEncoder("ses_1")
	var frames, wants [][]byte
	for i := range 600 {
		var text string
		switch i % 5 {
		case 0:
			text = strings.Repeat("w", i%40)
		case 1:
			text = strings.Repeat("<", i%70) // \u003c each
		case 2:
			text = strings.Repeat("long text ", 30+i%300) // past a quarter block
		default:
			text = fmt.Sprintf("delta %d é", i)
		}
		raw := fmt.Appendf(nil, `{"event_type":"text_delta","turn_id":"turn_%d","content":{"text":%q}}`, i/50, text)
		_, want, ok := reference(t, "ses_1", uint64(i+1), 9, raw)
		if !ok {
			t.Fatalf("reference refused %s", raw)
		}
		_, got, err := enc.Encode(uint64(i+1), UpstreamEvent{Seq: uint64(i + 1), TS: 9, Raw: raw})
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: %s, %v; want %s", i, got, err, want)
		}
		if cap(got) != len(got) {
			t.Fatalf("frame %d has room to append into: len %d cap %d", i, len(got), cap(got))
		}
		frames, wants = append(frames, got), append(wants, want)
	}
	for i, f := range frames {
		_ = append(f, "appended"...)
		if !bytes.Equal(f, wants[i]) {
			t.Fatalf("frame %d changed to %s, want %s", i, f, wants[i])
		}
	}
}

// The encoder keeps the start of the last frame: a frame that changes its
// type, its turn id, or has none, is encoded as a fresh encoder does.
func TestUpstreamEncoderHeadFollowsTypeAndTurn(t *testing.T) {
	frames := []string{
		`{"event_type":"text_delta","turn_id":"t1","content":{"text":"a"}}`,
		`{"event_type":"text_delta","turn_id":"t1","content":{"text":"b"}}`,
		`{"event_type":"thinking_update","turn_id":"t1","content":{"text":"c"}}`,
		`{"event_type":"thinking_update","content":{"text":"d"}}`,
		`{"event_type":"thinking_update","turn_id":"","content":{"text":"e"}}`,
		`{"event_type":"thinking_update","turn_id":"t1","content":{"text":"f"}}`,
		`{"event_type":"thinking_update","turn_id":"t\u0031","content":{"text":"g"}}`,
		`{"event_type":"thinking_update","turn_id":"t<2>","content":{"text":"h"}}`,
		`{"event_type":"text_delta","turn_id":"t<2>","content":{"text":"i"}}`,
		`{"event_type":"text_delta","content":{"turnId":"t3","text":"j"}}`,
		`{"event_type":"usage","content":{"turnId":"t3","input_tokens":1}}`,
		`{"event_type":"text_delta","turn_id":"t1","content":{"text":"k"}}`,
	}
	enc := NewUpstreamEncoder("ses_1")
	for i, f := range frames {
		up := UpstreamEvent{Seq: uint64(i + 1), TS: 9, Raw: []byte(f)}
		want, wantB, _ := EncodeUpstream("ses_1", uint64(i+1), up)
		got, gotB, err := enc.Encode(uint64(i+1), up)
		if err != nil || !bytes.Equal(gotB, wantB) || got.TurnID != want.TurnID || got.Type != want.Type {
			t.Fatalf("frame %s: %s (turn %q), %v; a fresh encoder gives %s (turn %q)", f, gotB, got.TurnID, err, wantB, want.TurnID)
		}
		if ref, refB, _ := reference(t, "ses_1", uint64(i+1), 9, []byte(f)); !bytes.Equal(gotB, refB) || got.TurnID != ref.TurnID {
			t.Fatalf("frame %s: %s, want %s", f, gotB, refB)
		}
	}
}

// The seq of a typed frame is written as strconv writes it whether it
// follows the last one, repeats it or jumps, across every carry.
func TestUpstreamEncoderCountsSeqUp(t *testing.T) {
	enc := NewUpstreamEncoder("ses_1")
	raw := []byte(`{"event_type":"text_delta","content":{"text":"x"}}`)
	var seqs []uint64
	for _, start := range []uint64{1, 8, 98, 999, 99_998, 9_999_999_990, 1<<64 - 3} {
		for s := start; s <= start+12 && s >= start; s++ {
			seqs = append(seqs, s)
		}
	}
	seqs = append(seqs, 5, 5, 4, 100, 1<<64-1, 0, 1, 1, 10)
	for _, seq := range seqs {
		_, got, err := enc.Encode(seq, UpstreamEvent{Seq: 1, TS: 3, Raw: raw})
		_, want, _ := reference(t, "ses_1", seq, 3, raw)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("seq %d: %s, %v; want %s", seq, got, err, want)
		}
	}
}

// A frame encoded after another by the same encoder, which then reads it
// through the first one's shape and head where they fit, gives the
// reference's bytes. Only frames the typed path takes are compared: the
// generic path is the reference's own (and keeps one of two content keys
// that camelCase alike at random).
func FuzzUpstreamEncoderPair(f *testing.F) {
	frames := corpus()
	for i := 0; i+1 < len(frames); i += 97 {
		f.Add(frames[i], frames[i+1])
		f.Add(frames[i], frames[i])
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		enc := NewUpstreamEncoder("ses_<&>\u2028")
		enc.Encode(7, UpstreamEvent{Seq: 1, TS: 1_800_000_000_000, Raw: a})
		_, want, ok := reference(t, "ses_<&>\u2028", 8, 1_800_000_000_001, b)
		if !ok {
			return
		}
		got, gotB, err := enc.Encode(8, UpstreamEvent{Seq: 1, TS: 1_800_000_000_001, Raw: b})
		if err == nil && got.Data != nil {
			return // the generic path
		}
		if err != nil || !bytes.Equal(gotB, want) {
			t.Fatalf("after %s, frame %s\n got %s (%v)\nwant %s", a, b, gotB, err, want)
		}
		if ref, _, _ := reference(t, "ses_<&>\u2028", 8, 1_800_000_000_001, b); got.TurnID != ref.TurnID || got.Type != ref.Type {
			t.Fatalf("after %s, frame %s: event %+v, want %+v", a, b, got, ref)
		}
	})
}

// A turn's events share one turn id string, whatever their types.
func TestUpstreamEncoderSharesTheTurnString(t *testing.T) {
	enc := NewUpstreamEncoder("ses_1")
	var first string
	for i, f := range []string{
		`{"event_type":"text_delta","turn_id":"turn_9","content":{"text":"a"}}`,
		`{"event_type":"thinking_update","turn_id":"turn_9","content":{"text":"b"}}`,
		`{"event_type":"usage","turn_id":"turn_9","content":{"input_tokens":1}}`,
		`{"event_type":"text_delta","content":{"turnId":"turn_9","text":"c"}}`,
	} {
		ev, _, err := enc.Encode(uint64(i+1), UpstreamEvent{Seq: uint64(i + 1), Raw: []byte(f)})
		if err != nil || ev.TurnID != "turn_9" {
			t.Fatalf("frame %s: turn %q, %v", f, ev.TurnID, err)
		}
		if i == 0 {
			first = ev.TurnID
		} else if unsafe.StringData(ev.TurnID) != unsafe.StringData(first) {
			t.Fatalf("frame %s: a new turn id string", f)
		}
	}
}
