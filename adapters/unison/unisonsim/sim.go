package unisonsim

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Sim.
type Options struct {
	// APIKey, when set, must be sent as "Authorization: Bearer <key>" on
	// every route except health and ready, as Unison requires.
	APIKey string
	// Now stamps updatedAt; time.Now when nil.
	Now func() time.Time
}

// Sim is one simulated Unison. Use Handler with your own server, or Start to
// serve it on a loopback listener of its own.
type Sim struct {
	opts    Options
	store   *store
	handler http.Handler

	faultMu sync.Mutex
	faults  faults

	refusing atomic.Bool
	requests atomic.Int64

	srvMu sync.Mutex
	srv   *http.Server
	url   string
}

// New returns a Sim with an empty store.
func New(opts Options) *Sim {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Sim{opts: opts, store: newStore(opts.Now)}
	s.handler = http.HandlerFunc(s.serve)
	return s
}

// Handler serves the Unison API.
func (s *Sim) Handler() http.Handler { return s.handler }

// Start serves the API on addr, which must be a loopback address
// ("127.0.0.1:0" when empty), and returns the base URL.
func (s *Sim) Start(addr string) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("unisonsim: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("unisonsim: refusing to listen on non-loopback address %q", addr)
	}
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv != nil {
		return "", errors.New("unisonsim: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("unisonsim: %w", err)
	}
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + ln.Addr().String()
	go func(srv *http.Server) {
		_ = srv.Serve(&refusingListener{Listener: ln, refusing: &s.refusing})
	}(s.srv)
	return s.url, nil
}

// URL is the base URL after Start, "" before.
func (s *Sim) URL() string {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	return s.url
}

// Close stops the listener started by Start and drops its connections.
func (s *Sim) Close() {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv != nil {
		_ = s.srv.Close()
	}
}

// Requests counts the API requests received, health and ready aside; tests
// use it to prove a call never reached Unison.
func (s *Sim) Requests() int64 { return s.requests.Load() }
