package domain

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// The eight-byte tests agree with the byte tables for every byte value in
// every position, among safe and random neighbours, place the first
// special or unsafe byte exactly, tell whether the first special byte is a
// quote, and (htmlMask) whether a byte before it is not htmlSafe.
func TestWordTestsMatchByteTables(t *testing.T) {
	first := func(m uint64) int { return bits.TrailingZeros64(m) >> 3 } // 8: none
	check := func(w [8]byte) {
		special, unsafe := 8, 8
		for i, c := range w {
			if !plainByte[c] && special == 8 {
				special = i
			}
			if !htmlSafeByte[c] && unsafe == 8 {
				unsafe = i
			}
		}
		x := binary.LittleEndian.Uint64(w[:])
		m, q := specialMasks(x)
		if (m != 0) != (special < 8) || hasUnsafe(x) != (unsafe < 8) {
			t.Fatalf("%q: special %v unsafe %v, want %v %v", w, m != 0, hasUnsafe(x), special < 8, unsafe < 8)
		}
		if first(m) != special || first(unsafeMask(x)) != unsafe {
			t.Fatalf("%q: first special at %d, unsafe at %d, want %d %d", w, first(m), first(unsafeMask(x)), special, unsafe)
		}
		if isQuote := special < 8 && w[special] == '"'; (m&-m&q != 0) != isQuote {
			t.Fatalf("%q: first special a quote %v, want %v", w, m&-m&q != 0, isQuote)
		}
		// Before the first special byte, htmlMask flags what is not
		// htmlSafe.
		before := uint64(1)<<(8*special) - 1
		if special == 8 {
			before = ^uint64(0)
		}
		if got, want := htmlMask(x)&before != 0, unsafe < special; got != want {
			t.Fatalf("%q: htmlMask flags a byte before the first special %v, want %v", w, got, want)
		}
	}
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			w := [8]byte{'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}
			w[pos] = byte(c)
			check(w)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 50_000 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		check(w)
		for i := range w {
			if r.IntN(2) == 0 {
				w[i] = byte(0x20 + r.IntN(0x60))
			}
		}
		check(w)
	}
}

// shortString takes exactly the strings that close within their first
// word with nothing escaped, and places the quote as the whole scanner
// (scanLongString, which scanString falls back on) does.
func TestShortStringAgreesWithScanString(t *testing.T) {
	alphabet := []byte{'"', '\\', 'a', 'n', 0x00, 0x1f, 0x20, 0x7f, 0x80, 0xe2, 0xff, '!', '#'}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200_000 {
		b := make([]byte, 1+r.IntN(12))
		b[0] = '"'
		for i := 1; i < len(b); i++ {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		k := shortString(b, 1)
		sp, next, ok := scanLongString(b, 0)
		want := -1
		if ok && !sp.esc && sp.end <= 8 && len(b) >= 9 {
			want = sp.end
		}
		if k != want {
			t.Fatalf("%q: shortString %d, want %d (scanLongString %+v %d %v)", b, k, want, sp, next, ok)
		}
		if ok && (sp.kind != kindString || next != sp.end+1) {
			t.Fatalf("%q: scanLongString %+v %d", b, sp, next)
		}
	}
}

// digitRun stops at the first byte that is not a digit, as a byte loop does.
func TestDigitRunMatchesByteLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 100_000 {
		b := make([]byte, r.IntN(24))
		for i := range b {
			if r.IntN(6) == 0 {
				b[i] = byte(r.IntN(256))
			} else {
				b[i] = byte('0' + r.IntN(10))
			}
		}
		i := r.IntN(len(b) + 1)
		want := i
		for want < len(b) && '0' <= b[want] && b[want] <= '9' {
			want++
		}
		if got := digitRun(b, i); got != want {
			t.Fatalf("%q from %d: %d, want %d", b, i, got, want)
		}
	}
	for c := range 256 {
		b := []byte("12345678")
		b[3] = byte(c)
		want := 8
		if c < '0' || c > '9' {
			want = 3
		}
		if got := digitRun(b, 0); got != want {
			t.Fatalf("%q: %d, want %d", b, got, want)
		}
	}
}

// A string scanLongString marks asIs is written by appendQuotedIn as it
// stands, and one it does not mark is not all htmlSafe ASCII.
func TestAsIsStringsAreWrittenAsTheyStand(t *testing.T) {
	alphabet := []byte{'a', 'Z', ' ', '~', '<', '&', '>', '\\', 'n', 'u', '0', 0x7f, 0x80, 0xe2, 0x1f}
	r := rand.New(rand.NewPCG(7, 8))
	for range 100_000 {
		b := make([]byte, 2+r.IntN(30), 40)
		b[0] = '"'
		for i := 1; i < len(b); i++ {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		b[1+r.IntN(len(b)-1)] = '"'
		b = append(b, `,"k":1}`[:r.IntN(8)]...)
		sp, _, ok := scanLongString(b, 0)
		if !ok {
			continue
		}
		text := b[sp.start:sp.end]
		safe := !sp.esc
		for _, c := range text {
			safe = safe && htmlSafeByte[c]
		}
		if sp.asIs != safe {
			t.Fatalf("%q: asIs %v, want %v", text, sp.asIs, safe)
		}
		if want := append(append([]byte{'"'}, text...), '"'); sp.asIs && string(appendQuotedIn(nil, b, sp.start, sp.end)) != string(want) {
			t.Fatalf("%q written as %s", text, appendQuotedIn(nil, b, sp.start, sp.end))
		}
	}
}
