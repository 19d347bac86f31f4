package ensemblesim

import (
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/diminuendo/diminuendo/adapters/simkit"
)

// Options configure a Sim.
type Options struct {
	// APIKey, when set, must be sent as "Authorization: Bearer <key>" on
	// every route except health, as Ensemble requires.
	APIKey string
}

// Version is what the simulator reports as its version.
const Version = "ensemblesim"

// Sim is one simulated Ensemble. Use Handler with your own server, or Start
// to serve it on a loopback listener of its own.
type Sim struct {
	opts     Options
	started  time.Time
	mux      *http.ServeMux
	srv      simkit.Server
	faults   simkit.Faults
	requests atomic.Int64

	mu        sync.Mutex
	models    []Model
	status    string
	providers map[string]string // health by provider, beyond the default "healthy"
}

// New returns a Sim serving DefaultModels.
func New(opts Options) *Sim {
	s := &Sim{opts: opts, started: time.Now(), srv: simkit.Server{Name: "ensemblesim"}, models: DefaultModels(), status: "healthy", providers: map[string]string{}}
	m := http.NewServeMux()
	m.HandleFunc("GET /api/v1/models", s.listModels)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		simkit.WriteError(w, http.StatusNotFound, "not_found", "no such route")
	})
	s.mux = m
	return s
}

// Handler serves the simulated API.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// Start serves the API on addr, which must be a loopback address
// ("127.0.0.1:0" when empty picks a free port), and returns the base URL.
func (s *Sim) Start(addr string) (string, error) { return s.srv.Start(addr, s.Handler(), &s.faults) }

// URL is the base URL after Start, "" before.
func (s *Sim) URL() string { return s.srv.URL() }

// Close stops the listener started by Start, drops its connections and
// waits for the serving goroutine to end.
func (s *Sim) Close() { s.srv.Close() }

// Requests counts the API requests received, faulted ones included and
// health aside; tests use it to prove an answer came from a cache.
func (s *Sim) Requests() int64 { return s.requests.Load() }

// SetModels replaces the catalog.
func (s *Sim) SetModels(models []Model) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.models = slices.Clone(models)
}

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	health := r.Method == http.MethodGet && r.URL.Path == "/api/v1/health"
	if !health {
		s.requests.Add(1)
	}
	if s.faults.Refusing() {
		simkit.Drop(w, "unavailable")
		return
	}
	if !s.faults.Delay(r) {
		return
	}
	if health {
		s.health(w)
		return
	}
	if s.faults.Fail(w, "unavailable") || !simkit.Admit(w, r, s.opts.APIKey) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Sim) listModels(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	models := slices.Clone(s.models)
	s.mu.Unlock()
	if models == nil {
		models = []Model{}
	}
	simkit.WriteJSON(w, http.StatusOK, map[string]any{"models": models})
}

// HealthBody is the health route's answer, as Ensemble documents it.
type HealthBody struct {
	Status    string            `json:"status"`
	Version   string            `json:"version"`
	Uptime    string            `json:"uptime"`
	Providers map[string]string `json:"providers"`
}

// health needs no key. Injected failures skip it, so a background probe
// cannot consume a burst meant for a test; latency and refusal apply.
func (s *Sim) health(w http.ResponseWriter) {
	s.mu.Lock()
	b := HealthBody{Status: s.status, Version: Version, Uptime: time.Since(s.started).Round(time.Second).String(), Providers: map[string]string{}}
	for _, m := range s.models {
		b.Providers[m.Provider] = "healthy"
	}
	for p, st := range s.providers {
		b.Providers[p] = st
	}
	s.mu.Unlock()
	code := http.StatusOK
	if b.Status != "healthy" && b.Status != "degraded" {
		code = http.StatusServiceUnavailable
	}
	simkit.WriteJSON(w, code, b)
}
