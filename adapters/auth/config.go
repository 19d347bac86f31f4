package auth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/diminuendo/diminuendo/ports"
)

// Defaults and bounds of Config.
const (
	DefaultTenantClaim         = "org_id"
	DefaultRoleClaim           = "https://diminuendo.dev/role"
	DefaultEmailClaim          = "https://diminuendo.dev/email"
	DefaultClockSkew           = 30 * time.Second
	MaxClockSkew               = 5 * time.Minute
	DefaultJWKSCacheTTL        = 5 * time.Minute
	DefaultJWKSRefetchInterval = 10 * time.Second
	DefaultCacheSize           = 10_000
	// MaxCachedFor caps how long a verified token is served from the cache,
	// so a revoked signing key stops working within this bound.
	MaxCachedFor = 5 * time.Minute
)

// Config configures a Verifier.
type Config struct {
	// Domain is AUTH0_DOMAIN. A bare host ("acme.eu.auth0.com") means the
	// issuer "https://acme.eu.auth0.com/". A full URL is used as the issuer
	// as written, plus a trailing "/" when it has no path; it must be https,
	// or http on a loopback host (the local IdP in tests and dev runs).
	Domain string
	// Audience is the Auth0 API identifier tokens must carry in aud.
	Audience string
	// ClientID is kept for the web client's login flow; access tokens are
	// not checked against it (Auth0 puts the client in azp, not aud).
	ClientID string
	// TenantClaim names a claim holding the tenant besides org_id, e.g.
	// "https://diminuendo.dev/tenant". Default org_id.
	TenantClaim string
	// RoleClaim names the claim holding the role. Default DefaultRoleClaim.
	RoleClaim string
	// EmailClaim names the namespaced email claim read when "email" is
	// absent. Default DefaultEmailClaim.
	EmailClaim string
	// ClockSkew is the leeway on exp, nbf and iat. Default 30 s, at most 5 min.
	ClockSkew time.Duration
	// JWKSCacheTTL is how long fetched signing keys are used before a refresh.
	JWKSCacheTTL time.Duration
	// JWKSRefetchInterval is the least time between two JWKS fetches caused
	// by unknown key ids, so a flood of made-up kids costs one fetch.
	JWKSRefetchInterval time.Duration
	// CacheSize bounds the verified-token cache. Default 10,000.
	CacheSize int
	// HTTPClient fetches discovery and the JWKS. Default: a client with a
	// 10 s timeout.
	HTTPClient *http.Client
	// Clock is the time source of the cache and the time claims. Default:
	// the wall clock.
	Clock ports.Clock
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (c Config) withDefaults() (Config, error) {
	if strings.TrimSpace(c.Audience) == "" {
		return c, errors.New("auth: Audience is required")
	}
	if c.TenantClaim == "" {
		c.TenantClaim = DefaultTenantClaim
	}
	if c.RoleClaim == "" {
		c.RoleClaim = DefaultRoleClaim
	}
	if c.EmailClaim == "" {
		c.EmailClaim = DefaultEmailClaim
	}
	switch {
	case c.ClockSkew == 0:
		c.ClockSkew = DefaultClockSkew
	case c.ClockSkew < 0 || c.ClockSkew > MaxClockSkew:
		return c, fmt.Errorf("auth: ClockSkew %v is outside (0, %v]", c.ClockSkew, MaxClockSkew)
	}
	switch {
	case c.JWKSCacheTTL == 0:
		c.JWKSCacheTTL = DefaultJWKSCacheTTL
	case c.JWKSCacheTTL < 0:
		return c, errors.New("auth: JWKSCacheTTL must be positive")
	}
	switch {
	case c.JWKSRefetchInterval == 0:
		c.JWKSRefetchInterval = DefaultJWKSRefetchInterval
	case c.JWKSRefetchInterval < 0:
		return c, errors.New("auth: JWKSRefetchInterval must be positive")
	}
	switch {
	case c.CacheSize == 0:
		c.CacheSize = DefaultCacheSize
	case c.CacheSize < 0:
		return c, errors.New("auth: CacheSize must be positive")
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Clock == nil {
		c.Clock = wallClock{}
	}
	return c, nil
}

// IssuerURL applies the Domain rule of Config and returns the issuer tokens
// must carry.
func IssuerURL(domain string) (*url.URL, error) {
	d := strings.TrimSpace(domain)
	if d == "" {
		return nil, errors.New("auth: Domain is required")
	}
	if !strings.Contains(d, "://") {
		u, err := url.Parse("https://" + d + "/")
		if err != nil || u.Host != d || u.Hostname() == "" {
			return nil, fmt.Errorf("auth: Domain %q is not a host name", domain)
		}
		return u, nil
	}
	u, err := url.Parse(d)
	if err != nil {
		return nil, fmt.Errorf("auth: Domain %q: %w", domain, err)
	}
	switch {
	case u.Hostname() == "":
		return nil, fmt.Errorf("auth: Domain %q has no host", domain)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("auth: Domain %q must not carry credentials, a query or a fragment", domain)
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		// Plain HTTP lets anyone on the path swap the signing keys, so it is
		// only accepted where there is no path: the local IdP.
	default:
		return nil, fmt.Errorf("auth: Domain %q must be https (http only on a loopback host)", domain)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
