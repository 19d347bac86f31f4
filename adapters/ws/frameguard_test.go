package ws

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
)

// chunked is a connection whose reads return at most size bytes, so a
// header or payload can be split anywhere.
type chunked struct {
	net.Conn
	r    *bytes.Reader
	size int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(p) > c.size {
		p = p[:c.size]
	}
	return c.r.Read(p)
}

// frame builds one masked client frame.
func frame(fin bool, opcode byte, payload []byte) []byte {
	b0 := opcode
	if fin {
		b0 |= 0x80
	}
	f := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n <= 0xffff:
		f = append(f, 0x80|126, byte(n>>8), byte(n))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	mask := []byte{1, 2, 3, 4}
	f = append(f, mask...)
	for i, c := range payload {
		f = append(f, c^mask[i%4])
	}
	return f
}

type seen struct {
	fin     bool
	opcode  byte
	payload string
}

// frames parses the guard's output back into frames, unmasked.
func frames(t *testing.T, b []byte) []seen {
	t.Helper()
	var out []seen
	for len(b) > 0 {
		hlen, plen, ok := parseHeader(b)
		if !ok || uint64(len(b)-hlen) < plen {
			t.Fatalf("a cut frame at the end of the output: % x", b)
		}
		mask := b[hlen-4 : hlen]
		p := make([]byte, plen)
		for i := range p {
			p[i] = b[hlen+i] ^ mask[i%4]
		}
		out = append(out, seen{b[0]&0x80 != 0, b[0] & 0x0f, string(p)})
		b = b[hlen+int(plen):]
	}
	return out
}

func TestFrameGuardReplacesOversizedMessagesWhateverTheReads(t *testing.T) {
	const limit = 100
	big := bytes.Repeat([]byte("x"), 300)
	var in []byte
	in = append(in, frame(true, 1, []byte(`{"type":"ping"}`))...)
	in = append(in, frame(true, 1, big)...)                            // one oversized frame
	in = append(in, frame(true, 9, []byte("ping"))...)                 // a control frame
	in = append(in, frame(false, 1, bytes.Repeat([]byte("a"), 60))...) // a message crossing the limit in its second fragment
	in = append(in, frame(false, 0, bytes.Repeat([]byte("b"), 60))...)
	in = append(in, frame(true, 10, []byte("pong"))...) // control amid the dropped fragments
	in = append(in, frame(false, 0, bytes.Repeat([]byte("c"), 60))...)
	in = append(in, frame(true, 0, bytes.Repeat([]byte("d"), 10))...)
	in = append(in, frame(false, 2, bytes.Repeat([]byte("e"), 50))...) // fragmented, within the limit
	in = append(in, frame(true, 0, bytes.Repeat([]byte("f"), 50))...)
	in = append(in, frame(true, 1, bytes.Repeat([]byte("g"), 70000))...) // 16-bit length, oversized
	in = append(in, frame(true, 1, []byte("last"))...)

	want := []seen{
		{true, 1, `{"type":"ping"}`},
		{true, 1, string(tooLarge)},
		{true, 9, "ping"},
		{false, 1, string(bytes.Repeat([]byte("a"), 60))},
		{true, 10, "pong"},
		{true, 0, string(tooLarge)},
		{false, 2, string(bytes.Repeat([]byte("e"), 50))},
		{true, 0, string(bytes.Repeat([]byte("f"), 50))},
		{true, 1, string(tooLarge)},
		{true, 1, "last"},
	}
	for _, size := range []int{1, 2, 3, 5, 7, 13, 64, 1024, 1 << 20} {
		g := &frameGuard{Conn: &chunked{r: bytes.NewReader(in), size: size}, limit: limit}
		out, err := io.ReadAll(g)
		if err != nil {
			t.Fatalf("reads of %d: %v", size, err)
		}
		got := frames(t, out)
		if len(got) != len(want) {
			t.Fatalf("reads of %d: %d frames, want %d: %+v", size, len(got), len(want), got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("reads of %d: frame %d is %+v, want %+v", size, i, got[i], want[i])
			}
		}
	}
}

// Whatever the client sends, valid frames or not, the guard never panics
// and yields the same bytes however the reads split them.
func FuzzFrameGuard(f *testing.F) {
	f.Add(frame(true, 1, []byte(`{"type":"ping"}`)), uint8(3))
	f.Add(append(frame(false, 1, bytes.Repeat([]byte("a"), 90)), frame(true, 0, bytes.Repeat([]byte("b"), 90))...), uint8(1))
	f.Add(append(frame(true, 1, bytes.Repeat([]byte("x"), 200)), frame(true, 9, nil)...), uint8(7))
	f.Add([]byte{0x81, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0}, uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, size uint8) {
		read := func(n int) ([]byte, error) {
			g := &frameGuard{Conn: &chunked{r: bytes.NewReader(in), size: n}, limit: 100}
			return io.ReadAll(g)
		}
		whole, err1 := read(1 << 20)
		split, err2 := read(int(size%32) + 1)
		if !bytes.Equal(whole, split) || (err1 == nil) != (err2 == nil) {
			t.Fatalf("reads of %d give %x (%v), one read gives %x (%v)", size%32+1, split, err2, whole, err1)
		}
	})
}
