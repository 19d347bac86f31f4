package simkit

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// ErrClosed is what Start answers once the server was closed.
var ErrClosed = errors.New("simulator closed")

// Server serves one simulator on a listener of its own, like httptest's,
// but only ever on loopback: a simulator lets in any caller with its key,
// and often without one.
type Server struct {
	// Name prefixes errors, e.g. "unisonsim".
	Name string

	mu      sync.Mutex
	srv     *http.Server
	url     string
	closed  bool
	serving sync.WaitGroup
}

// Start serves h on addr, which must be a loopback address ("" or
// "127.0.0.1:0" picks a free port), and returns the base URL. With faults,
// the listener resets every new connection while they are refused.
func (s *Server) Start(addr string, h http.Handler, faults *Faults) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%s: %w", s.Name, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("%s: refusing to listen on non-loopback address %q", s.Name, addr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return "", fmt.Errorf("%s: %w", s.Name, ErrClosed)
	case s.srv != nil:
		return "", fmt.Errorf("%s: already started", s.Name)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("%s: %w", s.Name, err)
	}
	if faults != nil {
		ln = &refusingListener{Listener: ln, faults: faults}
	}
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + ln.Addr().String()
	s.serving.Add(1)
	go func(srv *http.Server) {
		defer s.serving.Done()
		_ = srv.Serve(ln) // ErrServerClosed on Close
	}(s.srv)
	return s.url, nil
}

// URL is the base URL after Start, "" before.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops the listener, drops its connections and waits for the
// serving goroutine to end. The server does not start again.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	srv := s.srv
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
	s.serving.Wait()
}

type refusingListener struct {
	net.Listener
	faults *Faults
}

func (l *refusingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || !l.faults.Refusing() {
			return c, err
		}
		reset(c)
	}
}

// Drop ends a request with no answer at all, as a dead peer would: the
// connection is reset. Without a connection to take over, it answers 503
// with code.
func Drop(w http.ResponseWriter, code string) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		WriteError(w, http.StatusServiceUnavailable, code, "connection refused")
		return
	}
	if c, _, err := hj.Hijack(); err == nil {
		reset(c)
	}
}

// reset closes c with a TCP RST, so the client sees a failed connection
// rather than a clean end of stream.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
