package ensemblesim

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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
	opts    Options
	started time.Time
	mux     *http.ServeMux

	mu        sync.Mutex
	models    []Model
	faults    faults
	status    string
	providers map[string]string // health by provider, beyond the default "healthy"

	refusing atomic.Bool
	requests atomic.Int64

	srvMu   sync.Mutex
	srv     *http.Server
	url     string
	serving sync.WaitGroup
}

// New returns a Sim serving DefaultModels.
func New(opts Options) *Sim {
	s := &Sim{opts: opts, started: time.Now(), models: DefaultModels(), status: "healthy", providers: map[string]string{}}
	m := http.NewServeMux()
	m.HandleFunc("GET /api/v1/models", s.listModels)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such route")
	})
	s.mux = m
	return s
}

// Handler serves the simulated API.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// Start serves the API on addr, which must be a loopback address
// ("127.0.0.1:0" when empty picks a free port), and returns the base URL.
func (s *Sim) Start(addr string) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("ensemblesim: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("ensemblesim: refusing to listen on non-loopback address %q", addr)
	}
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv != nil {
		return "", errors.New("ensemblesim: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("ensemblesim: %w", err)
	}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + ln.Addr().String()
	s.serving.Add(1)
	go func(srv *http.Server) {
		defer s.serving.Done()
		_ = srv.Serve(&refusingListener{Listener: ln, refusing: &s.refusing}) // ErrServerClosed on Close
	}(s.srv)
	return s.url, nil
}

// URL is the base URL after Start, "" before.
func (s *Sim) URL() string {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	return s.url
}

// Close stops the listener started by Start, drops its connections and
// waits for the serving goroutine to end.
func (s *Sim) Close() {
	s.srvMu.Lock()
	srv := s.srv
	s.srvMu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
	s.serving.Wait()
}

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
	if s.refusing.Load() {
		drop(w)
		return
	}
	if d := s.latency(); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if health {
		s.health(w)
		return
	}
	if status := s.takeFailure(); status != 0 {
		writeError(w, status, "unavailable", "injected failure")
		return
	}
	if !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong API key")
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Sim) authorized(r *http.Request) bool {
	if s.opts.APIKey == "" {
		return true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.APIKey)) == 1
}

func (s *Sim) listModels(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	models := slices.Clone(s.models)
	s.mu.Unlock()
	if models == nil {
		models = []Model{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": models})
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
	writeJSON(w, code, b)
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
