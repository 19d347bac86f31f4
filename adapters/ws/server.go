// Package ws is the WebSocket front door: Melody connections speaking the
// client protocol of PROTOCOL.md, decoded and limited here, then handed to
// the same app use cases as REST.
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
	"github.com/olahol/melody"
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

// DefaultConfig is PROTOCOL.md's policy.
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

// Server owns the Melody instance and the live connections.
type Server struct {
	cfg        Config
	hub        *app.Hub
	verifier   ports.TokenVerifier // nil in dev mode
	limiter    ports.AuthLimiter   // may be nil
	log        *slog.Logger
	schemas    messageSchemas
	quotas     *app.ConnectionQuotas // nil: none
	m          *melody.Melody
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
}

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
	m := melody.New()
	m.Config.MaxMessageSize = cfg.HardReadLimit
	// The outbox hands Melody at most outboxInflight frames at a time, so
	// Melody's own queue (which drops silently when full) never fills.
	m.Config.MessageBufferSize = outboxInflight + 8
	m.Config.PingPeriod = 25 * time.Second
	m.Config.PongWait = 60 * time.Second
	m.Config.WriteWait = 10 * time.Second
	m.Upgrader = &websocket.Upgrader{
		ReadBufferSize:  1024,
		WriteBufferSize: 1024,
		WriteBufferPool: &sync.Pool{},
		Subprotocols:    []string{BatchProtocol},
		// Origins were checked before the upgrade, with our own error body.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	m.HandleConnect(s.onConnect)
	m.HandleDisconnect(s.onDisconnect)
	m.HandleMessage(s.onMessage)
	m.HandleMessageBinary(s.onBinary)
	m.HandleClose(s.onClose)
	m.HandleSentMessage(func(ms *melody.Session, b []byte) {
		if c := connOf(ms); c != nil {
			c.noteOut(b)
			c.out.Sent()
		}
	})
	m.HandleError(s.onError)
	s.m = m
	s.handlers = s.routes()
	return s
}

const outboxInflight = 16

// BatchProtocol is the WebSocket subprotocol a client names in
// Sec-WebSocket-Protocol to receive batched frames: every message queued
// for it while a frame is being written goes into the next frame, joined
// by '\n'. A client that does not name it gets one message per frame.
const BatchProtocol = "diminuendo.v1.batch"

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
	_ = s.m.CloseWithMsg(melody.FormatCloseMessage(CloseServiceRestart, "service restart"))
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for s.count.Load() > 0 {
		select {
		case <-ctx.Done():
			_ = s.m.Close()
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
	ip := clientIP(r)
	keys := map[string]any{"ip": ip, "tenantHint": hint}
	if ident != nil {
		keys["ident"] = *ident
		keys["exp"] = exp
	}
	cut := new(atomic.Int64)
	keys["cut"] = cut
	gw := guardWriter{ResponseWriter: w, limit: uint64(s.cfg.MaxMessageBytes), cut: cut}
	if err := s.m.HandleRequestWithKeys(gw, r, keys); err != nil {
		s.log.Debug("websocket upgrade failed", "err", err)
	}
	// The upgrade wrote its own response; returning an error would write again.
	return nil
}

func (s *Server) originAllowed(origin string) bool { return s.origins.Allowed(origin) }

func connOf(ms *melody.Session) *conn {
	v, ok := ms.Get("conn")
	if !ok {
		return nil
	}
	return v.(*conn)
}

func (s *Server) onConnect(ms *melody.Session) {
	n := s.count.Add(1)
	s.stats.Accepted.Add(1)
	ipv, _ := ms.Get("ip")
	ip, _ := ipv.(string)
	cutv, _ := ms.Get("cut")
	cut, _ := cutv.(*atomic.Int64)
	c := &conn{connLog: connLog{opened: time.Now()}, srv: s, ms: ms, id: newClientID(), ip: ip, joined: map[string]struct{}{},
		rate: domain.NewSlidingWindow(s.cfg.RateLimit, s.cfg.RateWindow), cut: cut}
	overflow := func() {
		s.log.Info("slow consumer cut off", "client", c.id)
		s.stats.SlowConsumers.Add(1)
		c.closeWith(CloseSlowConsumer, "slow consumer")
	}
	if ms.WebsocketConnection().Subprotocol() == BatchProtocol {
		c.out = app.NewBatchOutbox(s.cfg.OutboxBytes, batchFrameBytes, ms.Write, overflow)
	} else {
		c.out = app.NewOutbox(s.cfg.OutboxBytes, outboxInflight, ms.Write, overflow)
	}
	ms.Set("conn", c)
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
	default:
		if v, ok := ms.Get("ident"); ok {
			expv, _ := ms.Get("exp")
			exp, _ := expv.(time.Time)
			s.authenticated(c, v.(domain.Identity), exp, "")
			return
		}
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

func (s *Server) onDisconnect(ms *melody.Session) {
	s.count.Add(-1)
	if c := connOf(ms); c != nil {
		c.release()
		s.logClosed(c)
	}
}

func (s *Server) onError(ms *melody.Session, err error) {
	if errors.Is(err, melody.ErrMessageBufferFull) {
		// Cannot happen while the outbox bounds what Melody holds; if it
		// does, the client must not silently miss a frame.
		s.log.Error("melody buffer full; closing connection")
		_ = ms.WebsocketConnection().Close()
		return
	}
	if errors.Is(err, websocket.ErrReadLimit) {
		if c := connOf(ms); c != nil {
			c.noteClose(CloseTooBig)
		}
		s.log.Info("frame over the hard read limit; closed with 1009")
	}
}

// onBinary refuses binary frames, after the checks every frame gets, so a
// flood of them is rate limited like text.
func (s *Server) onBinary(ms *melody.Session, raw []byte) {
	if c := connOf(ms); c != nil && s.admit(c, raw) {
		c.push(s.errorFrame(CodeInvalidMessage, "binary frames are not part of the protocol; send JSON text frames", ""))
	}
}

func (s *Server) heartbeat() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			b := encode(api.Heartbeat{Type: api.HeartbeatTypeHeartbeat, Ts: nowMs()})
			sessions, err := s.m.Sessions()
			if err != nil {
				continue
			}
			for _, ms := range sessions {
				if c := connOf(ms); c != nil {
					if _, ok := c.identity(); ok {
						c.push(b)
					}
				}
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
