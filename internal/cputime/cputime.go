//go:build unix

// Package cputime reads the CPU time the process has used. Benchmarks report
// it per operation beside ns/op: on a machine whose cores other work shares,
// the wall-clock figure counts time the benchmark spent waiting for a core,
// the CPU time does not.
package cputime

import (
	"syscall"
	"time"
)

// Used is the user and system CPU time of the whole process so far,
// garbage collection included.
func Used() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
