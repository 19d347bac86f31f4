// Package http is the REST front door: Echo serving the strict handlers
// generated from openapi.yaml, plus the WebSocket route, health and probes.
package http

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	oapimw "github.com/oapi-codegen/echo-middleware"

	"github.com/diminuendo/diminuendo/adapters/auth"
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// Config is the REST transport's policy.
type Config struct {
	Addr           string
	DevMode        bool
	AllowedOrigins []string
	Version        string
	BodyLimit      string
	// ReadTimeout bounds reading a request (default 30s).
	ReadTimeout time.Duration
}

// Server is the HTTP listener shared by REST and WebSocket.
type Server struct {
	cfg      Config
	hub      *app.Hub
	health   *app.Health
	verifier ports.TokenVerifier
	limiter  ports.AuthLimiter
	log      *slog.Logger
	e        *echo.Echo
	srv      *http.Server
	ln       net.Listener
	ready    atomic.Bool
	wrap     func(http.Handler) http.Handler
	public   map[string]bool // written only before Start
	ext      extensions      // set by the With* setters
}

// New builds the Echo instance with every route. wsHandler serves GET /ws.
func New(cfg Config, hub *app.Hub, health *app.Health, verifier ports.TokenVerifier, limiter ports.AuthLimiter, wsHandler echo.HandlerFunc, log *slog.Logger) (*Server, error) {
	if cfg.BodyLimit == "" {
		cfg.BodyLimit = "1MiB" // docs/protocol.md's 1 MiB; Echo reads "1M" as 1,000,000 bytes
	}
	s := &Server{cfg: cfg, hub: hub, health: health, verifier: verifier, limiter: limiter, log: log, public: publicPaths()}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// The peer address, not X-Forwarded-For: per-address limits must not be
	// dodged by a header. Behind a proxy, configure it to pass the address.
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = s.errorHandler
	e.Use(s.observe)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: !cfg.DevMode}))
	e.Use(requestID)
	e.Use(securityHeaders)
	e.Use(s.cors())
	e.Use(middleware.BodyLimit(cfg.BodyLimit))
	// Who is calling comes before what they sent: an unauthenticated caller
	// gets 401, never a validation message describing the API.
	e.Use(s.authenticate)
	e.Use(s.rateLimit)

	spec, err := api.GetSpec()
	if err != nil {
		return nil, err
	}
	spec.Servers = nil // validating the Host header would 404 every request
	e.Use(oapimw.OapiRequestValidatorWithOptions(spec, &oapimw.Options{
		SilenceServersWarning: true,
		Skipper: func(c echo.Context) bool {
			p := c.Request().URL.Path
			return p == "/ws" || p == "/metrics" || !strings.HasPrefix(p, "/api/") && p != "/livez" && p != "/readyz"
		},
		// Authentication is the auth middleware's job; the validator checks shapes.
		Options: openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		ErrorHandler: func(c echo.Context, err *echo.HTTPError) error {
			// A chunked body running over the limit fails while the
			// validator reads it, and the validator reports that as a
			// failed security check (403); it is a 413.
			if errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request bodies are limited to "+cfg.BodyLimit)
			}
			return echo.NewHTTPError(err.Code, validationMessage(err))
		},
	}))
	e.Use(exactKeys(requestSchemas(spec)))

	api.RegisterHandlers(e, api.NewStrictHandler(&handlers{s: s}, nil))
	e.GET("/ws", wsHandler)
	s.e = e
	return s, nil
}

// WithACP serves the Agent Client Protocol on GET /acp; like /ws, the
// handler authenticates the upgrade itself.
func (s *Server) WithACP(h echo.HandlerFunc) *Server {
	s.public["/acp"] = true
	s.e.GET("/acp", h)
	return s
}

// Echo exposes the router (tests and extra routes).
func (s *Server) Echo() *echo.Echo { return s.e }

// Start listens synchronously, so a taken port fails startup, then serves.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	s.ln = ln
	var h http.Handler = s.e
	if s.wrap != nil {
		h = s.wrap(h)
	}
	read := s.cfg.ReadTimeout
	if read <= 0 {
		read = 30 * time.Second
	}
	s.srv = &http.Server{
		Handler: h,
		// Every read of a request is bounded, so a slow or idle client
		// holds a connection for a bounded time: headers within 10 s, the
		// whole request within ReadTimeout. No WriteTimeout: the event
		// stream bounds each of its writes itself, and hijacked
		// WebSockets have their own deadlines.
		ReadHeaderTimeout: min(10*time.Second, read),
		ReadTimeout:       read,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "err", err)
		}
	}()
	s.ready.Store(true)
	return nil
}

// Addr is the bound address (useful with port 0).
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.cfg.Addr
	}
	return s.ln.Addr().String()
}

// Drain marks the instance not ready, so load balancers stop sending traffic.
func (s *Server) Drain() { s.ready.Store(false) }

// Stop ends the event streams and shuts the listener down; hijacked
// WebSocket connections are the WebSocket server's to close.
func (s *Server) Stop(ctx context.Context) error {
	s.ready.Store(false)
	s.endStreams()
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		r := c.Request()
		if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		return next(c)
	}
}

// cors grants cross-origin REST access by the policy /ws applies
// (domain.Origins: ALLOWED_ORIGINS, and loopback origins in dev mode).
// Echo's CORS middleware reads an empty AllowOrigins as "*", so the list is
// never handed to it directly: with no origins configured, none is granted.
func (s *Server) cors() echo.MiddlewareFunc {
	origins := domain.NewOrigins(s.cfg.AllowedOrigins, s.cfg.DevMode)
	return middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOriginFunc: func(origin string) (bool, error) {
			return origin != "" && origins.Allowed(origin), nil
		},
		AllowHeaders:  []string{"Authorization", "Content-Type", "Last-Event-ID", "X-Request-Id"},
		ExposeHeaders: []string{"X-Request-Id", "Retry-After"},
	})
}

type identityKey struct{}

// publicPaths need no identity; neither do the web client's (webClientRoute).
func publicPaths() map[string]bool {
	return map[string]bool{"/api/health": true, "/livez": true, "/readyz": true, "/metrics": true, "/ws": true, authConfigPath: true}
}

// authenticate resolves the caller's identity from the bearer token (or
// the developer identity in dev mode) for every non-public route.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if s.public[r.URL.Path] || c.Path() == webClientRoute {
			return next(c)
		}
		id, exp, err := s.identify(c)
		if err != nil {
			// The client-safe message, never the token nor the cause.
			de := domain.As(err)
			s.log.Info("authentication failed", "transport", "rest", "client", c.RealIP(),
				"code", string(kindStatus[de.Kind].code), "reason", de.Message)
			return err
		}
		if err := domain.CheckTenantHint(id, auth.TenantHint(r)); err != nil {
			return err
		}
		ctx := context.WithValue(r.Context(), identityKey{}, id)
		if !exp.IsZero() {
			ctx = context.WithValue(ctx, expiryKey{}, exp)
		}
		c.SetRequest(r.WithContext(ctx))
		return next(c)
	}
}

// identify verifies the request's bearer token through the gate every
// front door shares.
func (s *Server) identify(c echo.Context) (domain.Identity, time.Time, error) {
	if s.cfg.DevMode {
		return domain.DevIdentity(), time.Time{}, nil
	}
	r := c.Request()
	if auth.QueryToken(r) {
		return domain.Identity{}, time.Time{}, domain.E(domain.KindAuthFailed, "tokens in the query string are refused; use the Authorization header")
	}
	tok, ok := auth.BearerToken(r.Header.Get("Authorization"))
	if !ok {
		return domain.Identity{}, time.Time{}, domain.E(domain.KindAuthRequired, "a bearer token is required")
	}
	return auth.Gate{Verifier: s.verifier, Limiter: s.limiter}.Verify(r.Context(), c.RealIP(), tok)
}

func identityFrom(ctx context.Context) (domain.Identity, error) {
	id, ok := ctx.Value(identityKey{}).(domain.Identity)
	if !ok {
		return domain.Identity{}, domain.E(domain.KindAuthRequired, "a bearer token is required")
	}
	return id, nil
}

// validationMessage trims the validator's message to its first line; the
// full text can echo schema internals.
func validationMessage(err *echo.HTTPError) string {
	msg, _ := err.Message.(string)
	if i := strings.IndexByte(msg, '\n'); i > 0 {
		msg = msg[:i]
	}
	if msg == "" {
		msg = http.StatusText(err.Code)
	}
	return msg
}
