package domain

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// The eight-byte tests agree with the byte tables for every byte value in
// every position, among safe and random neighbours.
func TestWordTestsMatchByteTables(t *testing.T) {
	check := func(w [8]byte) {
		special, unsafe := false, false
		for _, c := range w {
			special = special || !plainByte[c]
			unsafe = unsafe || !htmlSafeByte[c]
		}
		x := binary.LittleEndian.Uint64(w[:])
		if hasSpecial(x) != special || hasUnsafe(x) != unsafe {
			t.Fatalf("%q: hasSpecial %v hasUnsafe %v, want %v %v", w, hasSpecial(x), hasUnsafe(x), special, unsafe)
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
