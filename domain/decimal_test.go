package domain

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// A decimal's text is strconv's for every number it is given: steps of one
// across every carry, repeats, small and large steps, steps down, and the
// ends of the range.
func TestDecimalTextMatchesStrconv(t *testing.T) {
	var d decimal
	check := func(n uint64) {
		t.Helper()
		if got, want := string(d.text(n)), strconv.FormatUint(n, 10); got != want {
			t.Fatalf("after %d: %s, want %s", d.n, got, want)
		}
	}
	for _, start := range []uint64{0, 1, 8, 95, 990, 99_990, 1_799_999_999_990, math.MaxUint64 - 20} {
		for n := start; n <= start+20 && n >= start; n++ {
			check(n)
			check(n) // a repeat
		}
	}
	r := rand.New(rand.NewPCG(11, 12))
	n := uint64(1_800_000_000_000)
	for range 100_000 {
		switch r.IntN(10) {
		case 0:
			n = r.Uint64() >> r.IntN(64) // anywhere
		case 1:
			n -= min(n, uint64(r.IntN(1000))) // back
		case 2:
			n += uint64(r.IntN(2 * maxDecimalStep)) // past the step
		default:
			n += uint64(r.IntN(20))
		}
		check(n)
	}
	for _, n := range []uint64{9, 10, 99_999, 100_000, 100_000 + maxDecimalStep, math.MaxUint64} {
		check(n)
	}
}
