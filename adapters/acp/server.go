package acp

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"github.com/diminuendo/diminuendo/adapters/auth"
	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// Config is the ACP transport's policy.
type Config struct {
	DevMode        bool
	AllowedOrigins []string
	Version        string
	// MaxMessageBytes bounds one JSON-RPC message (1 MiB, as on /ws).
	MaxMessageBytes int64
	RateLimit       int
	RateWindow      time.Duration
	// QueueFrames bounds the session events waiting to be translated for
	// one connection before it is cut off as a slow consumer.
	QueueFrames int
	// DefaultAgentType is the agent of a session/new that names none.
	DefaultAgentType string
}

// DefaultConfig is the policy /ws applies, translated.
func DefaultConfig() Config {
	return Config{Version: "0.1.0", MaxMessageBytes: 1 << 20, RateLimit: 60, RateWindow: 10 * time.Second,
		QueueFrames: 8192, DefaultAgentType: "coding-agent"}
}

// Server accepts ACP connections.
type Server struct {
	cfg        Config
	hub        *app.Hub
	agentTypes *app.AgentTypes
	verifier   ports.TokenVerifier // nil in dev mode
	limiter    ports.AuthLimiter   // may be nil
	quotas     *app.ConnectionQuotas
	origins    domain.Origins
	log        *slog.Logger
	upgrader   websocket.Upgrader

	mu       sync.Mutex
	conns    map[*conn]struct{}
	draining atomic.Bool
}

// New builds the ACP server.
func New(cfg Config, hub *app.Hub, agentTypes *app.AgentTypes, verifier ports.TokenVerifier, limiter ports.AuthLimiter, quotas *app.ConnectionQuotas, log *slog.Logger) *Server {
	return &Server{cfg: cfg, hub: hub, agentTypes: agentTypes, verifier: verifier, limiter: limiter, quotas: quotas,
		origins: domain.NewOrigins(cfg.AllowedOrigins, cfg.DevMode), log: log, conns: map[*conn]struct{}{},
		upgrader: websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096,
			// Origins were checked before the upgrade, with our own error body.
			CheckOrigin: func(*http.Request) bool { return true }}}
}

// Handle is the GET /acp handler. The identity comes from the upgrade's
// Authorization header alone: ACP's authenticate carries no token, so
// outside dev mode there is no socket without a valid one.
func (s *Server) Handle(c echo.Context) error {
	r := c.Request()
	if s.draining.Load() {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "draining")
	}
	if !s.origins.Allowed(r.Header.Get("Origin")) {
		return echo.NewHTTPError(http.StatusForbidden, "origin not allowed")
	}
	id, exp, err := s.authenticate(r)
	if err != nil {
		return err // a *domain.Error: the HTTP error handler gives it its status and code
	}
	release := func() {}
	if s.quotas != nil && !s.cfg.DevMode {
		if release, err = s.quotas.Acquire(id); err != nil {
			return err
		}
	}
	ws, err := s.upgrader.Upgrade(c.Response(), r, nil)
	if err != nil {
		release()
		s.log.Debug("acp upgrade failed", "err", err)
		return nil // the upgrader wrote its own response
	}
	cn := newConn(s, ws, id, release)
	s.mu.Lock()
	s.conns[cn] = struct{}{}
	s.mu.Unlock()
	if !exp.IsZero() {
		// The socket lives no longer than its token; a client reconnects
		// with a fresh one and reloads its sessions.
		cn.expiry = time.AfterFunc(max(0, time.Until(exp)), func() { cn.closeWith(4001, "token expired") })
	}
	go cn.run()
	return nil
}

func (s *Server) forget(cn *conn) {
	s.mu.Lock()
	delete(s.conns, cn)
	s.mu.Unlock()
}

// Connections is the number of open ACP connections.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Shutdown closes every connection with 1012 (service restart): the client
// reconnects to any instance and loads its sessions there.
func (s *Server) Shutdown(ctx context.Context) {
	s.draining.Store(true)
	s.mu.Lock()
	all := make([]*conn, 0, len(s.conns))
	for cn := range s.conns {
		all = append(all, cn)
	}
	s.mu.Unlock()
	for _, cn := range all {
		cn.closeWith(websocket.CloseServiceRestart, "service restart")
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for s.Connections() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// authenticate resolves the identity of an upgrade request exactly as /ws
// does for a bearer header: the same verifier, the same failure limiter.
func (s *Server) authenticate(r *http.Request) (domain.Identity, time.Time, error) {
	if auth.QueryToken(r) {
		return domain.Identity{}, time.Time{}, domain.E(domain.KindAuthFailed, "tokens in the query string are refused; use the Authorization header")
	}
	if s.cfg.DevMode {
		return domain.DevIdentity(), time.Time{}, nil
	}
	tok, ok := auth.BearerToken(r.Header.Get("Authorization"))
	if !ok {
		return domain.Identity{}, time.Time{}, domain.E(domain.KindAuthRequired, "a bearer token on the Authorization header is required")
	}
	return auth.Gate{Verifier: s.verifier, Limiter: s.limiter}.Verify(r.Context(), peerIP(r), tok)
}

// peerIP is the peer address; X-Forwarded-For is ignored as on /ws.
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
