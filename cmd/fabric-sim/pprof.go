package main

import (
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// serveProfiles serves the runtime's profiles on addr (already checked to be
// loopback) until stop is called. The handlers sit on a mux of their own, so
// none of them is reachable through the simulators' listeners.
func serveProfiles(addr string) (stop func(), url string, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = ln.Close()
		}
	}()
	return func() { _ = srv.Close(); <-done }, "http://" + ln.Addr().String() + "/debug/pprof/", nil
}
