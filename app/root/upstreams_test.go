package root

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/adapters/telemetry"
)

// Unison's client opens at most unisonConns connections however many
// requests are in flight: a burst of lookups (every client of a restarted
// gateway rejoining at once) queues on the pool instead of opening a
// socket per request, which overflows the upstream's listen backlog.
func TestUnisonClientCapsConnections(t *testing.T) {
	var open, peak, inFlight atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight.Add(1)
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		_, _ = w.Write([]byte("{}"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			n := open.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	defer srv.Close()
	tr, err := telemetry.NewTracing("", "test", "0")
	if err != nil {
		t.Fatal(err)
	}
	c := upstreamClient(tr, unisonConns)

	const requests = 4 * unisonConns
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := 0; i < requests; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(srv.URL)
			if err != nil {
				failed.Add(1)
				return
			}
			_ = resp.Body.Close()
		}()
	}
	// Wait until the pool is full, then give any extra connection time to open.
	deadline := time.Now().Add(5 * time.Second)
	for inFlight.Load() < unisonConns && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	got := peak.Load()
	close(release)
	wg.Wait()
	if got > unisonConns {
		t.Fatalf("%d requests opened %d connections at once, want at most %d", requests, got, unisonConns)
	}
	if f := failed.Load(); f > 0 {
		t.Fatalf("%d of %d requests failed", f, requests)
	}
}
