package podiumsim

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/diminuendo/diminuendo/adapters/simkit"
)

// Options configure a Sim.
type Options struct {
	// APIKey, when set, is required on every request as "Authorization: Bearer <key>".
	APIKey string
	// SecretsKey opens the sealed secrets of created instances (Engine.Secrets).
	SecretsKey string
	// StepDelay is the pause between an agent's scripted events.
	StepDelay time.Duration
}

// Sim serves an Engine over Podium's HTTP/WebSocket wire.
type Sim struct {
	opts      Options
	eng       *Engine
	mux       *http.ServeMux
	srv       simkit.Server
	faults    simkit.Faults
	unhealthy atomic.Bool
	requests  atomic.Int64
	started   time.Time

	mu      sync.Mutex
	closed  bool
	conns   map[*websocket.Conn]string // live streams → instance id
	serving sync.WaitGroup             // every stream handler
}

// New returns a Sim over a fresh Engine. Serve it with Start, or mount
// Handler on a server of your own.
func New(opts Options) *Sim {
	s := &Sim{
		opts: opts, eng: NewEngine(EngineOptions{StepDelay: opts.StepDelay}), srv: simkit.Server{Name: "podiumsim"},
		conns: map[*websocket.Conn]string{}, started: time.Now(),
	}
	m := http.NewServeMux()
	m.HandleFunc("GET /api/v1/deployments", s.deployments)
	m.HandleFunc("POST /api/v1/instances", s.createInstance)
	m.HandleFunc("GET /api/v1/instances/{id}", s.getInstance)
	m.HandleFunc("DELETE /api/v1/instances/{id}", s.stopInstance)
	m.HandleFunc("GET /api/v1/instances/{id}/events", s.events)
	m.HandleFunc("GET /api/v1/instances/{id}/files", s.listFiles)
	m.HandleFunc("GET /api/v1/instances/{id}/files/content", s.readFile)
	m.HandleFunc("GET /api/v1/instances/{id}/files/history", s.fileHistory)
	m.HandleFunc("GET /api/v1/instances/{id}/files/at", s.fileAt)
	m.HandleFunc("GET /agent/{id}", s.stream)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		simkit.WriteError(w, http.StatusNotFound, "not_found", "no such route")
	})
	s.mux = m
	return s
}

// Engine is the simulator's engine, for tests that look behind the wire.
func (s *Sim) Engine() *Engine { return s.eng }

// Requests counts the requests that reached the simulator, faulted ones
// included; the health route is left out, so a background probe cannot
// disturb a test's count.
func (s *Sim) Requests() int64 { return s.requests.Load() }

// Secrets returns the opened secrets of an instance (nil when it had none
// or the simulator has no SecretsKey).
func (s *Sim) Secrets(instanceID string) (map[string]string, error) {
	return s.eng.Secrets(instanceID)
}

// Handler is the simulator's HTTP handler.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start serves the simulator on addr, which must be a loopback address
// ("127.0.0.1:0" picks a free port), and returns its base URL. Its listener
// accepts every connection: RefuseConnections cuts requests in the handler.
func (s *Sim) Start(addr string) (string, error) { return s.srv.Start(addr, s.Handler(), nil) }

// URL is the base URL given by Start ("" before).
func (s *Sim) URL() string { return s.srv.URL() }

// Close stops serving, cuts every stream, closes the engine and waits for
// every goroutine of the simulator to end.
func (s *Sim) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.srv.Close()
	s.DropStreams()
	s.eng.Close()
	s.serving.Wait()
}

func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	health := r.Method == http.MethodGet && r.URL.Path == healthPath
	if !health {
		s.requests.Add(1)
	}
	if s.faults.Refusing() {
		// Aborting the handler cuts the connection with no response at all.
		panic(http.ErrAbortHandler)
	}
	if !s.faults.Delay(r) {
		return
	}
	if health {
		s.health(w)
		return
	}
	// Injected failures spare WebSocket upgrades.
	if !strings.HasPrefix(r.URL.Path, "/agent/") && s.faults.Fail(w, "unavailable") {
		return
	}
	if !simkit.Admit(w, r, s.opts.APIKey) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// streams snapshots the live streams of one instance, or of all for "".
func (s *Sim) streams(instanceID string) []*websocket.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*websocket.Conn, 0, len(s.conns))
	for c, id := range s.conns {
		if instanceID == "" || id == instanceID {
			out = append(out, c)
		}
	}
	return out
}

// track registers a stream handler; false once the simulator is closed.
func (s *Sim) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.serving.Add(1)
	return true
}

func (s *Sim) setConn(c *websocket.Conn, instanceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if instanceID == "" {
		delete(s.conns, c)
		return
	}
	s.conns[c] = instanceID
}

// writeEngineError maps an engine error to its status.
func writeEngineError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrFileNotFound):
		simkit.WriteError(w, http.StatusNotFound, "file_not_found", "file not found")
	case errors.Is(err, ErrNotFound):
		simkit.WriteError(w, http.StatusNotFound, "not_found", "not found")
	case errors.Is(err, ErrUnknownAgentType):
		simkit.WriteError(w, http.StatusBadRequest, "unknown_agent_type", "unknown agent type")
	case errors.Is(err, ErrClosed):
		simkit.WriteError(w, http.StatusServiceUnavailable, "unavailable", "shutting down")
	default:
		simkit.WriteError(w, http.StatusInternalServerError, "internal", err.Error())
	}
}
