// Package idp is a local OpenID provider for tests and local runs. It holds
// one RSA signing key, publishes the public half as a JWKS behind OIDC
// discovery, and mints tokens shaped like Auth0 access tokens, so the
// gateway's real verifier can be exercised over real HTTP without Auth0.
// It also signs people in to single-page applications as Auth0's Universal
// Login does (Authorization Code with PKCE, see authorize.go), so a browser
// using Auth0's SPA SDK can be tested against it.
// It also mints hostile tokens (alg none, HS256 keyed with the public key,
// tampered payloads, foreign keys) for the verifier's tests.
package idp

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultAudience is the audience minted tokens carry unless told otherwise.
const DefaultAudience = "diminuendo"

// IdP is a local identity provider. Its methods are safe for concurrent use.
type IdP struct {
	audience string
	now      func() time.Time

	mu      sync.RWMutex
	key     *rsa.PrivateKey
	kid     string
	issuer  string
	foreign *rsa.PrivateKey // made on first use: generating RSA keys is slow
	srv     *http.Server

	// The Authorization Code flow (authorize.go); clients and autoUser
	// are set by options and read-only afterwards.
	clients  map[string]Client
	autoUser *Claims
	codes    *grantStore
	refresh  *grantStore

	jwksFetches      atomic.Int64
	discoveryFetches atomic.Int64
}

// Option configures an IdP.
type Option func(*IdP)

// WithKey makes the IdP sign with key instead of a freshly generated one,
// which lets a minting process and a serving process share a key file.
func WithKey(key *rsa.PrivateKey) Option { return func(p *IdP) { p.key = key } }

// WithIssuer sets the issuer for an IdP that mints without serving. Start
// replaces it with the URL it actually listens on.
func WithIssuer(issuer string) Option { return func(p *IdP) { p.issuer = issuer } }

// WithAudience sets the audience used when Claims.Audience is empty.
func WithAudience(aud string) Option { return func(p *IdP) { p.audience = aud } }

// WithClock sets the time source for iat and exp.
func WithClock(now func() time.Time) Option { return func(p *IdP) { p.now = now } }

// New returns an IdP signing with a new RSA-2048 key unless WithKey is given.
// The key id is the key's RFC 7638 thumbprint: unpredictable for a generated
// key, and identical in every process that loads the same key file.
func New(opts ...Option) (*IdP, error) {
	p := &IdP{audience: DefaultAudience, now: time.Now,
		codes: newGrantStore(MaxPendingCodes), refresh: newGrantStore(MaxRefreshTokens)}
	for _, o := range opts {
		o(p)
	}
	if p.key == nil {
		k, err := GenerateKey()
		if err != nil {
			return nil, err
		}
		p.key = k
	}
	if err := checkKey(p.key); err != nil {
		return nil, err
	}
	p.kid = Thumbprint(&p.key.PublicKey)
	return p, nil
}

// Issuer is the issuer URL put in minted tokens and served by discovery.
func (p *IdP) Issuer() string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.issuer
}

// KeyID is the kid of the current signing key.
func (p *IdP) KeyID() string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.kid
}

// PublicKey is the public half of the current signing key.
func (p *IdP) PublicKey() *rsa.PublicKey {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return &p.key.PublicKey
}

// JWKSFetches counts requests for the JWKS document, so tests can see
// exactly when a verifier went back to the IdP.
func (p *IdP) JWKSFetches() int64 { return p.jwksFetches.Load() }

// DiscoveryFetches counts requests for the OIDC discovery document.
func (p *IdP) DiscoveryFetches() int64 { return p.discoveryFetches.Load() }

// RotateKey replaces the signing key with a new one. The old kid is no longer
// published, so tokens it signed stop verifying once a verifier refetches.
func (p *IdP) RotateKey() error {
	k, err := GenerateKey()
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.key, p.kid = k, Thumbprint(&k.PublicKey)
	return nil
}

// Handler serves OIDC discovery, the JWKS and the Authorization Code flow
// with PKCE for the registered clients (see authorize.go). The flow signs
// its tokens with Issuer, so it needs Start or WithIssuer. Mounted without Start, the
// issuer is derived from the request's Host.
func (p *IdP) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.discoveryFetches.Add(1)
		iss := p.Issuer()
		if iss == "" {
			iss = "http://" + r.Host + "/"
		}
		base := strings.TrimSuffix(iss, "/")
		writeJSON(w, map[string]any{
			"issuer":                                iss,
			"jwks_uri":                              base + "/.well-known/jwks.json",
			"authorization_endpoint":                base + "/authorize",
			"token_endpoint":                        base + "/oauth/token",
			"end_session_endpoint":                  base + "/oidc/logout",
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported":              []string{"code"},
			"response_modes_supported":              []string{"query"},
			"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
			"code_challenge_methods_supported":      []string{"S256"},
			"token_endpoint_auth_methods_supported": []string{"none"},
			"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
			"subject_types_supported":               []string{"public"},
		})
	})
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		p.jwksFetches.Add(1)
		p.mu.RLock()
		jwk := publicJWK(&p.key.PublicKey, p.kid)
		p.mu.RUnlock()
		writeJSON(w, map[string]any{"keys": []any{jwk}})
	})
	p.mountAuthorize(mux)
	return mux
}

// Start serves Handler on addr, which must be a loopback address (":0" style
// ports are fine; "" means 127.0.0.1 on a free port). The IdP only publishes
// public keys, but a gateway trusting it accepts anything its key file signs,
// so it is kept off the network. It returns the issuer URL, which is the
// bound address with a trailing slash, as Auth0 writes its issuers.
func (p *IdP) Start(addr string) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("idp: bad listen address %q: %w", addr, err)
	}
	if !isLoopback(host) {
		return "", fmt.Errorf("idp: refusing to listen on non-loopback address %q", addr)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		return "", errors.New("idp: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("idp: %w", err)
	}
	p.issuer = "http://" + ln.Addr().String() + "/"
	// Every phase of a request is bounded: the IdP serves small pages and JSON.
	p.srv = &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	go func(srv *http.Server) { _ = srv.Serve(ln) }(p.srv)
	return p.issuer, nil
}

// Close stops the server started by Start. It is safe to call more than once.
func (p *IdP) Close() error {
	p.mu.Lock()
	srv := p.srv
	p.srv = nil
	p.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}
