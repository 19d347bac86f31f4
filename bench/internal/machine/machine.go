// Package machine describes the host a load run happened on, for the record.
package machine

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Describe is "N CPUs, <model>, <go version> linux/amd64".
func Describe() string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		_ = f.Close()
	}
	return fmt.Sprintf("%d CPUs (nproc), %s, %s %s/%s", runtime.NumCPU(), model, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// CPUSample is the whole machine's busy CPU time and this process's own
// CPU time at one moment, to tell how much of a run's CPU went to other
// processes on a shared machine.
type CPUSample struct {
	At       time.Time
	Busy     time.Duration // all CPUs, everything but idle and iowait
	Self     time.Duration // this process
	Capacity int           // CPUs
}

// Sample reads /proc/stat and /proc/self/stat.
func Sample() CPUSample {
	s := CPUSample{At: time.Now(), Capacity: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		var busy int64
		for i, v := range f[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
				continue
			}
			busy += n
		}
		s.Busy = time.Duration(busy) * time.Second / 100
	}
	if b, err := os.ReadFile("/proc/self/stat"); err == nil {
		st := string(b)
		if i := strings.LastIndexByte(st, ')'); i >= 0 {
			f := strings.Fields(st[i+1:])
			if len(f) > 12 {
				ut, _ := strconv.ParseInt(f[11], 10, 64)
				stt, _ := strconv.ParseInt(f[12], 10, 64)
				s.Self = time.Duration(ut+stt) * time.Second / 100
			}
		}
	}
	return s
}

// Share describes where the machine's CPU went between a and b, given the
// gateway's own CPU time over the same span.
func Share(a, b CPUSample, gateway time.Duration) string {
	wall := b.At.Sub(a.At)
	capacity := time.Duration(b.Capacity) * wall
	busy := b.Busy - a.Busy
	self := b.Self - a.Self
	other := max(0, busy-self-gateway)
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / capacity.Seconds() }
	return fmt.Sprintf("of %d CPUs × %v: gateway %.0f%%, load tool %.0f%%, rest (other processes, kernel softirq) %.0f%%, idle %.0f%%",
		b.Capacity, wall.Round(time.Millisecond), pct(gateway), pct(self), pct(other), max(0, 100-pct(busy)))
}
