// Package gatewaytest starts a whole Diminuendo gateway inside a test, in
// the spirit of net/http/httptest: one call gives a real listener on
// loopback, the real composition root (app/root), the embedded upstream
// simulators (or in-memory fakes) and a local identity provider, so the
// code under test talks to the gateway exactly as it would in production,
// RS256 tokens included.
//
//	gw := gatewaytest.Start(t)
//	c, err := client.Dial(ctx, client.Options{URL: gw.WSURL, TokenSource: gw.TokenSource()})
//
// Everything stops when the test ends (t.Cleanup).
package gatewaytest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/diminuendo/diminuendo/adapters/auth/idp"
	"github.com/diminuendo/diminuendo/adapters/fake"
	httpadapter "github.com/diminuendo/diminuendo/adapters/http"
	"github.com/diminuendo/diminuendo/adapters/podium/podiumsim"
	"github.com/diminuendo/diminuendo/app/config"
	"github.com/diminuendo/diminuendo/app/root"
	"github.com/diminuendo/diminuendo/ports"
)

// Audience is the API identifier the gateway expects and minted tokens carry.
const Audience = "diminuendo-test"

// Gateway is a running gateway. Its fields are read-only.
type Gateway struct {
	// URL is the HTTP base, e.g. http://127.0.0.1:41234 (no trailing slash).
	URL string
	// WSURL is the WebSocket endpoint, e.g. ws://127.0.0.1:41234/ws.
	WSURL string
	// Config is the configuration the gateway runs with.
	Config config.Config
	// IdP is the local identity provider the gateway trusts; nil in dev mode.
	IdP *idp.IdP

	t testing.TB
}

// Option adjusts how Start builds the gateway.
type Option func(*settings)

type settings struct {
	devMode bool
	fakes   bool
	mutate  []func(*config.Config)
	fx      []fx.Option
	logger  *slog.Logger
}

// WithDevMode runs the gateway in dev mode: no IdP, every connection is the
// fixed identity dev-user-001 of tenant dev with role owner, and Token
// returns an empty string.
func WithDevMode() Option { return func(s *settings) { s.devMode = true } }

// WithFakes swaps the simulated upstreams' session registry, agent runtime,
// workspace and member store for in-memory fakes (adapters/fake): no HTTP
// between the gateway and its upstreams, same agents and behaviour.
func WithFakes() Option { return func(s *settings) { s.fakes = true } }

// WithConfig lets f adjust the configuration after the test defaults are set
// (for example AuthExpiryWarning, SimStepDelay or RateLimitMessages).
func WithConfig(f func(*config.Config)) Option {
	return func(s *settings) { s.mutate = append(s.mutate, f) }
}

// WithFxOptions adds options to the gateway's fx graph, typically
// fx.Replace or fx.Decorate to put a fake of your own behind a port.
func WithFxOptions(opts ...fx.Option) Option {
	return func(s *settings) { s.fx = append(s.fx, opts...) }
}

// WithLogger sends the gateway's log to l instead of discarding it.
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.logger = l } }

// Start boots a gateway on 127.0.0.1 on a free port and returns once it
// accepts connections. It fails t if the gateway cannot start. The scripted
// agents (echo, coding-agent, guarded-agent, asking-agent) step every 1 ms unless
// WithConfig says otherwise.
func Start(t testing.TB, opts ...Option) *Gateway {
	t.Helper()
	var s settings
	for _, o := range opts {
		o(&s)
	}
	cfg, err := config.Parse([]string{"DEV_MODE=true", "HOST=127.0.0.1", "PORT=0", "SIM_STEP_DELAY=1ms",
		"LOG_LEVEL=warn", "SHUTDOWN_DRAIN=2s"})
	if err != nil {
		t.Fatalf("gatewaytest: %v", err)
	}
	cfg.DataDir = t.TempDir()
	g := &Gateway{t: t}
	if !s.devMode {
		p, err := idp.New(idp.WithAudience(Audience))
		if err != nil {
			t.Fatalf("gatewaytest: %v", err)
		}
		issuer, err := p.Start("127.0.0.1:0")
		if err != nil {
			t.Fatalf("gatewaytest: %v", err)
		}
		t.Cleanup(func() { _ = p.Close() })
		g.IdP = p
		cfg.DevMode = false
		cfg.Auth0Domain = issuer
		cfg.Auth0Audience = Audience
		// A generous failed-authentication budget: tests that present bad
		// tokens on purpose should meet the verifier, not the limiter.
		cfg.AuthFailureBurst = 1 << 20
		cfg.AuthFailuresPerMinute = 1 << 20
	}
	for _, f := range s.mutate {
		f(&cfg)
	}
	logger := s.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var srv *httpadapter.Server
	fxOpts := []fx.Option{root.Options(cfg), fx.Populate(&srv), fx.NopLogger,
		fx.Decorate(func() *slog.Logger { return logger })}
	if s.fakes {
		fxOpts = append(fxOpts, fakes(t, cfg))
	}
	app := fxtest.New(t, append(fxOpts, s.fx...)...)
	app.RequireStart()
	t.Cleanup(app.RequireStop)
	g.Config = cfg
	g.URL = "http://" + srv.Addr()
	g.WSURL = "ws://" + srv.Addr() + "/ws"
	return g
}

// fakes replaces the upstream-backed ports with in-memory fakes sharing one
// simulated agent engine, so files written by agents show in the workspace.
func fakes(t testing.TB, cfg config.Config) fx.Option {
	rt := fake.NewAgentRuntime(podiumsim.EngineOptions{StepDelay: cfg.SimStepDelay})
	t.Cleanup(rt.Close)
	return fx.Options(
		fx.Replace(fx.Annotate(fake.NewSessionRegistry(), fx.As(new(ports.SessionRegistry)))),
		fx.Replace(fx.Annotate(rt, fx.As(new(ports.AgentRuntime)))),
		fx.Replace(fx.Annotate(fake.NewWorkspace(rt.Engine()), fx.As(new(ports.Workspace)))),
		fx.Replace(fx.Annotate(fake.NewMemberStore(), fx.As(new(ports.MemberStore)))),
	)
}

// Claims is who a minted token speaks for. The zero value of a field takes
// the default: user "test-user", tenant "test-tenant", role "developer",
// email <user>@example.com, valid for one hour.
type Claims struct {
	User, Tenant, Role, Email string
	// ExpiresIn is the token's lifetime; negative mints an expired token.
	ExpiresIn time.Duration
}

// TokenOption adjusts the claims of a minted token.
type TokenOption func(*Claims)

// User sets the token's subject (the identity's userId).
func User(id string) TokenOption { return func(c *Claims) { c.User = id } }

// Tenant sets the token's tenant (org_id).
func Tenant(id string) TokenOption { return func(c *Claims) { c.Tenant = id } }

// Role sets the token's role: owner, admin, developer, viewer or guest.
func Role(r string) TokenOption { return func(c *Claims) { c.Role = r } }

// Email sets the token's email claim.
func Email(e string) TokenOption { return func(c *Claims) { c.Email = e } }

// ExpiresIn sets the token's lifetime.
func ExpiresIn(d time.Duration) TokenOption { return func(c *Claims) { c.ExpiresIn = d } }

// Token mints an RS256 token the gateway accepts, signed by the local IdP.
// In dev mode it returns "" (the gateway ignores tokens there).
func (g *Gateway) Token(opts ...TokenOption) string {
	g.t.Helper()
	tok, err := g.mint(opts)
	if err != nil {
		g.t.Fatalf("gatewaytest: minting a token: %v", err)
	}
	return tok
}

// TokenSource returns a token source for client.Options that mints a fresh
// token with the same claims on every call, as a real token provider would
// hand out a refreshed token.
func (g *Gateway) TokenSource(opts ...TokenOption) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return g.mint(opts) }
}

func (g *Gateway) mint(opts []TokenOption) (string, error) {
	if g.IdP == nil {
		return "", nil
	}
	c := Claims{User: "test-user", Tenant: "test-tenant", Role: "developer"}
	for _, o := range opts {
		o(&c)
	}
	if c.Email == "" {
		c.Email = c.User + "@example.com"
	}
	return g.IdP.Mint(idp.Claims{Subject: c.User, Email: c.Email, TenantID: c.Tenant, Role: c.Role, ExpiresIn: c.ExpiresIn})
}
