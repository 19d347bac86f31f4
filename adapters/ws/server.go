// Package ws is the WebSocket front door: connections speaking the client
// protocol, read with gorilla/websocket and written by the connection's own
// writer, decoded and limited here, then handed to the same app use cases
// as REST.
package ws

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/diminuendo/diminuendo/adapters/auth"
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// Config is the transport's policy.
type Config struct {
	DevMode        bool
	AllowedOrigins []string
	ServerVersion  string
	// MaxMessageBytes is the protocol's message limit (1 MiB): a message
	// over it, of any size, is read to its end without being held (see
	// frameGuard) and refused with MESSAGE_TOO_LARGE, then close 1009.
	// HardReadLimit is the WebSocket library's own bound, a backstop the
	// frame guard keeps every message under.
	MaxMessageBytes int64
	HardReadLimit   int64
	RateLimit       int
	RateWindow      time.Duration
	Heartbeat       time.Duration
	AuthTimeout     time.Duration
	MaxConnections  int
	// OutboxBytes bounds each connection's queue before it is cut off (4008).
	OutboxBytes int
	// ExpiryWarning is how long before token expiry auth_expiring is sent.
	ExpiryWarning time.Duration
}

// DefaultConfig is docs/protocol.md's policy.
func DefaultConfig() Config {
	return Config{
		ServerVersion:   "0.1.0",
		MaxMessageBytes: 1 << 20,
		HardReadLimit:   4 << 20,
		RateLimit:       60,
		RateWindow:      10 * time.Second,
		Heartbeat:       30 * time.Second,
		AuthTimeout:     10 * time.Second,
		MaxConnections:  10000,
		OutboxBytes:     1 << 20,
		ExpiryWarning:   60 * time.Second,
	}
}

// Server owns the live connections.
type Server struct {
	cfg        Config
	hub        *app.Hub
	verifier   ports.TokenVerifier // nil in dev mode
	limiter    ports.AuthLimiter   // may be nil
	log        *slog.Logger
	schemas    messageSchemas
	quotas     *app.ConnectionQuotas // nil: none
	upgrader   websocket.Upgrader
	origins    domain.Origins
	handlers   map[string]handler
	members    *app.Members
	files      *app.Files
	agentTypes *app.AgentTypes

	count    atomic.Int64
	stats    *Stats
	tracer   trace.Tracer
	dump     FrameDump // nil: no dumps
	draining atomic.Bool
	stop     chan struct{}
	wg       sync.WaitGroup

	connsMu sync.Mutex
	conns   [tickSlots]map[*conn]struct{} // by the connection's slot
	opened  atomic.Uint64                 // connections upgraded, for round-robin slots
}

// tickSlots spreads the periodic work over connections (heartbeats, pings)
// across its period: each tick serves one slot, so 10,000 connections are
// not all written to in the same instant, which would delay the events
// being streamed to them by the length of that burst.
const tickSlots = 16

// New builds the WebSocket server.
func New(cfg Config, hub *app.Hub, verifier ports.TokenVerifier, limiter ports.AuthLimiter, log *slog.Logger) *Server {
	s := &Server{cfg: cfg, hub: hub, verifier: verifier, limiter: limiter, log: log, origins: domain.NewOrigins(cfg.AllowedOrigins, cfg.DevMode), stop: make(chan struct{}), stats: newStats(),
		tracer: noop.NewTracerProvider().Tracer("github.com/diminuendo/diminuendo/ws")}
	schemas, err := loadMessageSchemas()
	if err != nil {
		// The spec is compiled into the binary and the api package's tests
		// check it, so this is a broken build, not a runtime condition.
		panic("ws: " + err.Error())
	}
	s.schemas = schemas
	for i := range s.conns {
		s.conns[i] = map[*conn]struct{}{}
	}
	s.upgrader = websocket.Upgrader{
		// The reader's buffer; the writer frames into pooled buffers of
		// its own, held only while it writes.
		ReadBufferSize:  1024,
		WriteBufferPool: &sync.Pool{},
		// Never the token protocol: the client's token is not echoed.
		Subprotocols: []string{BatchProtocol, PlainProtocol},
		// Origins were checked before the upgrade, with our own error body.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	s.handlers = s.routes()
	return s
}

// BatchProtocol is the WebSocket subprotocol a client names in
// Sec-WebSocket-Protocol to receive batched frames: every message queued
// for it while a frame is being written goes into the next frame, joined
// by '\n'. A client that does not name it gets one message per frame.
const BatchProtocol = "diminuendo.v1.batch"

// PlainProtocol is the subprotocol of one message per frame, for a client
// that names a subprotocol only because it sends its token as one (a
// browser fails an upgrade whose response selects none of those it named).
const PlainProtocol = "diminuendo.v1"

// TokenProtocolPrefix starts the subprotocol that carries a bearer token
// on the upgrade, "diminuendo.v1.bearer.<jwt>": a browser cannot set
// Authorization on a WebSocket, but it can name subprotocols, and a token
// verified before the upgrade saves the authenticate message's round trip.
// A JWT's characters (base64url and '.') are all valid in the header.
const TokenProtocolPrefix = "diminuendo.v1.bearer."

// batchFrameBytes bounds a batched frame, so one frame never holds a
// connection's whole backlog.
const batchFrameBytes = 64 << 10

// Start runs the heartbeat.
func (s *Server) Start() {
	s.wg.Add(1)
	go s.heartbeat()
}

// Shutdown stops intake, tells every client to reconnect and resume (1012),
// and waits for the connections to close or ctx to end.
func (s *Server) Shutdown(ctx context.Context) {
	if s.draining.Swap(true) {
		return
	}
	close(s.stop)
	for _, c := range s.snapshot() {
		c.closeWith(CloseServiceRestart, "service restart")
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for s.count.Load() > 0 {
		select {
		case <-ctx.Done():
			for _, c := range s.snapshot() {
				_ = c.raw.Close()
			}
			s.wg.Wait()
			return
		case <-t.C:
		}
	}
	s.wg.Wait()
}

// Connections is the number of open connections.
func (s *Server) Connections() int { return int(s.count.Load()) }

// Handle is the GET /ws handler.
func (s *Server) Handle(c echo.Context) error {
	r := c.Request()
	w := c.Response()
	if s.draining.Load() {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "draining")
	}
	if !s.originAllowed(r.Header.Get("Origin")) {
		return echo.NewHTTPError(http.StatusForbidden, "origin not allowed")
	}
	ident, exp, err := s.authenticateUpgrade(r)
	if err != nil {
		s.logAuthFailure(clientIP(r), err)
		// A *domain.Error: the HTTP error handler gives it its status and
		// wire code (AUTH_FAILED, TOKEN_EXPIRED, AUTH_RATE_LIMITED ...).
		return err
	}
	hint := auth.TenantHint(r)
	if ident != nil {
		if err := domain.CheckTenantHint(*ident, hint); err != nil {
			return err
		}
	}
	cn := &conn{connLog: connLog{opened: time.Now()}, srv: s, id: newClientID(), ip: clientIP(r), tenantHint: hint,
		slot:   int(s.opened.Add(1) % tickSlots),
		joined: map[string]struct{}{}, rate: domain.NewSlidingWindow(s.cfg.RateLimit, s.cfg.RateWindow), cut: new(atomic.Int64)}
	ws, err := s.upgrader.Upgrade(guardWriter{ResponseWriter: w, limit: uint64(s.cfg.MaxMessageBytes), conn: cn}, r, nil)
	if err != nil {
		// The upgrade wrote its own response; returning an error would write again.
		s.log.Debug("websocket upgrade failed", "err", err)
		return nil
	}
	cn.ws = ws
	s.open(cn, ident, exp)
	// The reader starts afresh: the HTTP server's goroutine, with its
	// buffers and the upgrade request, ends when this handler returns.
	go cn.readLoop()
	return nil
}

func (s *Server) originAllowed(origin string) bool { return s.origins.Allowed(origin) }

// open sets a freshly upgraded connection up: its limits, its outbox and
// writer, its place in the server, and the protocol's first frames.
func (s *Server) open(c *conn, ident *domain.Identity, exp time.Time) {
	c.batch = c.ws.Subprotocol() == BatchProtocol
	c.ws.SetReadLimit(s.cfg.HardReadLimit)
	c.ws.SetPingHandler(c.onPing)
	c.ws.SetPongHandler(c.onPong)
	c.ws.SetCloseHandler(c.onClose)
	_ = c.raw.SetReadDeadline(time.Now().Add(pongWait))
	c.out = app.NewOutbox(s.cfg.OutboxBytes, func() { go c.drain() }, func() {
		s.log.Info("slow consumer cut off", "client", c.id)
		s.stats.SlowConsumers.Add(1)
		c.closeWith(CloseSlowConsumer, "slow consumer")
	})
	s.register(c)
	n := s.count.Add(1)
	s.stats.Accepted.Add(1)
	// The server speaks first, even to a connection it is about to refuse.
	c.push(encode(api.Welcome{Type: api.WelcomeTypeWelcome, ProtocolVersion: ProtocolVersion,
		RequiresAuth: !s.cfg.DevMode, ServerVersion: s.cfg.ServerVersion}))
	if int(n) > s.cfg.MaxConnections || s.draining.Load() {
		c.push(s.errorFrame(CodeCapacityExceeded, "this gateway instance is at its connection limit; retry later", ""))
		c.closeWith(CloseTryAgainLater, "over capacity")
		return
	}
	c.push(encode(api.Connected{Type: api.ConnectedTypeConnected, ClientId: c.id,
		HeartbeatIntervalMs: s.cfg.Heartbeat.Milliseconds(), Ts: nowMs()}))
	switch {
	case s.cfg.DevMode:
		s.authenticated(c, domain.DevIdentity(), time.Time{}, "")
	case ident != nil:
		s.authenticated(c, *ident, exp, "")
	default:
		c.mu.Lock()
		c.authTime = time.AfterFunc(s.cfg.AuthTimeout, func() {
			if _, ok := c.identity(); !ok {
				c.push(s.errorFrame(CodeAuthRequired, "no authentication within the deadline", ""))
				c.closeWith(CloseAuth, "authentication timeout")
			}
		})
		c.mu.Unlock()
	}
}

func (s *Server) register(c *conn) {
	s.connsMu.Lock()
	s.conns[c.slot][c] = struct{}{}
	s.connsMu.Unlock()
}

func (s *Server) unregister(c *conn) {
	s.connsMu.Lock()
	delete(s.conns[c.slot], c)
	s.connsMu.Unlock()
}

// snapshot is the open connections at one moment.
func (s *Server) snapshot() []*conn {
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	n := 0
	for _, m := range s.conns {
		n += len(m)
	}
	out := make([]*conn, 0, n)
	for _, m := range s.conns {
		for c := range m {
			out = append(out, c)
		}
	}
	return out
}

// slotSnapshot is the open connections of one slot.
func (s *Server) slotSnapshot(slot int) []*conn {
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	out := make([]*conn, 0, len(s.conns[slot]))
	for c := range s.conns[slot] {
		out = append(out, c)
	}
	return out
}

// readFailed notes why reading ended: a message over the library's hard
// limit is a 1009 close.
func (s *Server) readFailed(c *conn, err error) {
	if errors.Is(err, websocket.ErrReadLimit) {
		c.noteClose(CloseTooBig)
		s.log.Info("frame over the hard read limit; closed with 1009")
	}
}

// onBinary refuses binary frames, after the checks every frame gets, so a
// flood of them is rate limited like text.
func (s *Server) onBinary(c *conn, raw []byte) {
	if s.admit(c, raw) {
		c.push(s.errorFrame(CodeInvalidMessage, "binary frames are not part of the protocol; send JSON text frames", ""))
	}
}

func (s *Server) heartbeat() {
	defer s.wg.Done()
	// Each connection hears a heartbeat once per Heartbeat and a ping once
	// per pingPeriod, its slot's turn coming round once per period.
	t := time.NewTicker(max(s.cfg.Heartbeat/tickSlots, time.Millisecond))
	defer t.Stop()
	ping := time.NewTicker(pingPeriod / tickSlots)
	defer ping.Stop()
	beat, pinged := 0, 0
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			beat = (beat + 1) % tickSlots
			b := encode(api.Heartbeat{Type: api.HeartbeatTypeHeartbeat, Ts: nowMs()})
			for _, c := range s.slotSnapshot(beat) {
				if _, ok := c.identity(); ok {
					c.push(b)
				}
			}
		case <-ping.C:
			pinged = (pinged + 1) % tickSlots
			for _, c := range s.slotSnapshot(pinged) {
				c.pingDue.Store(true)
				c.out.Kick()
			}
		}
	}
}

// logAuthFailure records a refused authentication: the client's address,
// the code and the client-safe message, never the token nor the cause.
func (s *Server) logAuthFailure(ip string, err error) {
	s.log.Info("authentication failed", "transport", "ws", "client", ip, "code", codeOf(err), "reason", domain.As(err).Message)
}

func newClientID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// clientIP is the peer address. X-Forwarded-For is deliberately ignored:
// behind a proxy, configure the proxy to set the real address.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// WithQuotas applies per-tenant and per-user connection quotas.
func (s *Server) WithQuotas(q *app.ConnectionQuotas) *Server {
	s.quotas = q
	return s
}
