package telemetry

import (
	"bytes"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
)

// ProcessMemory reads the goroutine count, the live heap and the resident
// set size. The heap comes from runtime/metrics, which does not stop the
// world as runtime.ReadMemStats does; RSS from /proc (0 where there is none).
func ProcessMemory() (goroutines int, heapBytes, rssBytes int64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		heapBytes = int64(s[0].Value.Uint64())
	}
	return runtime.NumGoroutine(), heapBytes, rss()
}

// rss is the second field of /proc/self/statm (pages) in bytes.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
