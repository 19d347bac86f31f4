package domain

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// The eight-byte tests agree with the byte tables for every byte value in
// every position, among safe and random neighbours, and place the first
// special or unsafe byte exactly.
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
		if hasSpecial(x) != (special < 8) || hasUnsafe(x) != (unsafe < 8) {
			t.Fatalf("%q: hasSpecial %v hasUnsafe %v, want %v %v", w, hasSpecial(x), hasUnsafe(x), special < 8, unsafe < 8)
		}
		if first(specialMask(x)) != special || first(unsafeMask(x)) != unsafe {
			t.Fatalf("%q: first special at %d, unsafe at %d, want %d %d", w, first(specialMask(x)), first(unsafeMask(x)), special, unsafe)
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
