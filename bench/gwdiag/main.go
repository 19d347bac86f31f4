// Command gwdiag is cmd/diminuendo plus a memory diagnostic, for the load
// tools only: every -gc-every (env DIAG_GC_EVERY, default 1s) it forces a
// garbage collection, returns freed memory to the OS, and prints one line
//
//	DIAG heapInuse=… stackInuse=… sys=… goroutines=…
//
// on stderr. The process RSS then tracks live memory instead of garbage
// awaiting a collection, and the lines break it into heap and stacks.
// bench/conns reads them when the gateway it runs prints them. With
// DIAG_PPROF_ADDR (a loopback address) it also serves net/http/pprof there,
// for profiles taken while a load tool runs. It is not part of the
// product: the gateway itself has no debug endpoint.
//
//	go build -o bin/gwdiag ./bench/gwdiag
//	go run ./bench/conns -gateway bin/gwdiag -n 2000
package main

import (
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // served only on DIAG_PPROF_ADDR
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/diminuendo/diminuendo/app/config"
	"github.com/diminuendo/diminuendo/app/root"
)

func main() {
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gwdiag: configuration:", err)
		os.Exit(2)
	}
	every := time.Second
	if v := os.Getenv("DIAG_GC_EVERY"); v != "" {
		if every, err = time.ParseDuration(v); err != nil || every <= 0 {
			fmt.Fprintln(os.Stderr, "gwdiag: DIAG_GC_EVERY: not a positive duration")
			os.Exit(2)
		}
	}
	if addr := os.Getenv("DIAG_PPROF_ADDR"); addr != "" {
		host, _, err := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			fmt.Fprintln(os.Stderr, "gwdiag: DIAG_PPROF_ADDR must be a loopback host:port")
			os.Exit(2)
		}
		go func() { fmt.Fprintln(os.Stderr, "gwdiag: pprof:", http.ListenAndServe(addr, nil)) }()
	}
	go func() {
		for range time.Tick(every) {
			debug.FreeOSMemory() // runs a full GC first
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			fmt.Fprintf(os.Stderr, "DIAG heapInuse=%d stackInuse=%d sys=%d goroutines=%d\n",
				m.HeapInuse, m.StackInuse, m.Sys, runtime.NumGoroutine())
		}
	}()
	root.New(cfg).Run()
}
