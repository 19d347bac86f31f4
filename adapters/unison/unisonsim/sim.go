package unisonsim

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/diminuendo/diminuendo/adapters/simkit"
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
	srv     simkit.Server

	faults     simkit.Faults
	afterApply simkit.Burst // writes applied, then answered as failed
	unhealthy  atomic.Bool
	requests   atomic.Int64
}

// New returns a Sim with an empty store.
func New(opts Options) *Sim {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Sim{opts: opts, store: newStore(opts.Now), srv: simkit.Server{Name: "unisonsim"}}
	s.handler = http.HandlerFunc(s.serve)
	return s
}

// Handler serves the Unison API.
func (s *Sim) Handler() http.Handler { return s.handler }

// Start serves the API on addr, which must be a loopback address
// ("127.0.0.1:0" when empty), and returns the base URL.
func (s *Sim) Start(addr string) (string, error) { return s.srv.Start(addr, s.handler, &s.faults) }

// URL is the base URL after Start, "" before.
func (s *Sim) URL() string { return s.srv.URL() }

// Close stops the listener started by Start and drops its connections.
func (s *Sim) Close() { s.srv.Close() }

// Requests counts the API requests received, health and ready aside; tests
// use it to prove a call never reached Unison.
func (s *Sim) Requests() int64 { return s.requests.Load() }
