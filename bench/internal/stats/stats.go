// Package stats has the small order statistics the load tools report.
package stats

import (
	"math"
	"slices"
)

// Median of xs (0 for none).
func Median(xs []float64) float64 { return Percentile(xs, 50) }

// Percentile p (0-100) of xs by the nearest-rank method (0 for none).
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return Sorted(s, p)
}

// Sorted is Percentile on an already sorted slice.
func Sorted(s []float64, p float64) float64 {
	if len(s) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}
