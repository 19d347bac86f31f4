// Package machine describes the host a load run happened on, for the record.
package machine

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
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
	IRQ      time.Duration // of Busy: hard and soft interrupts (loopback TCP is mostly softirq); tick accounting also charges it to the process it interrupted
	Self     time.Duration // this process
	Capacity int           // CPUs
}

// Sample reads /proc/stat and /proc/self/stat.
func Sample() CPUSample {
	s := CPUSample{At: time.Now(), Capacity: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		var busy, irq int64
		for i, v := range f[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
				continue
			}
			if i == 5 || i == 6 {
				irq += n
			}
			busy += n
		}
		s.Busy = time.Duration(busy) * time.Second / 100
		s.IRQ = time.Duration(irq) * time.Second / 100
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
	return Split(a, b, Part{Name: "gateway", CPU: gateway})
}

// Part is one process's CPU time over a span, for Split.
type Part struct {
	Name string
	CPU  time.Duration
}

// Split is Share for any number of named processes besides the load tool:
// each part's share, the load tool's, the rest (other processes, and
// interrupt work outside these) and idle, as percentages of the machine's
// capacity; then the kernel's interrupt work on its own, which overlaps
// the processes' shares (a tick in softirq counts for both).
func Split(a, b CPUSample, parts ...Part) string {
	wall := b.At.Sub(a.At)
	capacity := time.Duration(b.Capacity) * wall
	busy := b.Busy - a.Busy
	self := b.Self - a.Self
	irq := b.IRQ - a.IRQ
	other := busy - self
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / capacity.Seconds() }
	var sb strings.Builder
	fmt.Fprintf(&sb, "of %d CPUs × %v: ", b.Capacity, wall.Round(time.Millisecond))
	for _, p := range parts {
		fmt.Fprintf(&sb, "%s %.0f%%, ", p.Name, pct(p.CPU))
		other -= p.CPU
	}
	fmt.Fprintf(&sb, "load tool %.0f%%, rest (other processes, kernel softirq) %.0f%%, idle %.0f%%; kernel irq+softirq in all %.0f%%",
		pct(self), pct(max(0, other)), max(0, 100-pct(busy)), pct(irq))
	return sb.String()
}

// LoadAvg is the 1, 5 and 15 minute load averages from /proc/loadavg.
func LoadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// RaiseFDLimit lifts this process's soft open-file limit to the hard one,
// since every client of a load run holds a socket, and warns when that is
// still below need. A Go child (the gateway) raises its own at start.
func RaiseFDLimit(need int) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
	if l.Cur < uint64(need) {
		fmt.Printf("warning: open-file limit %d is below the %d this run needs (ulimit -n)\n", l.Cur, need)
	}
}
