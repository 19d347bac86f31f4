package main

import (
	"net/http"
	"net/http/pprof"

	"github.com/diminuendo/diminuendo/adapters/simkit"
)

// serveProfiles serves the runtime's profiles on addr, a loopback address,
// until stop is called. The handlers sit on a mux and a listener of their
// own, so none of them is reachable through the simulators' listeners.
func serveProfiles(addr string) (stop func(), url string, err error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &simkit.Server{Name: "pprof"}
	base, err := srv.Start(addr, mux, nil)
	if err != nil {
		return nil, "", err
	}
	return srv.Close, base + "/debug/pprof/", nil
}
