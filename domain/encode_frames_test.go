package domain

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
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
