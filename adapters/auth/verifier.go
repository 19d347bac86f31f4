package auth

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/auth0/go-jwt-middleware/v2/jwks"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// MaxTokenBytes bounds what is hashed, decoded and parsed. Auth0 access
// tokens are well under 4 KiB even with many permissions.
const MaxTokenBytes = 16 << 10

// Verifier checks Auth0 (or local IdP) access tokens and derives identities.
//
// A token is parsed once: split, header read, signature checked with the
// issuer's key, then the payload read in one pass for the dozen claims that
// matter (no reflection, no map of every claim), and the identity built
// from them. Signing keys are parsed once per JWKS fetch (keySet).
type Verifier struct {
	cfg    Config
	issuer string
	keys   *keySet
	claims claimKeys
	cache  *tokenCache

	// verifications counts tokens that went through signature verification,
	// which the cache tests watch.
	verifications atomic.Int64
}

var _ ports.TokenVerifier = (*Verifier)(nil)

// NewVerifier checks cfg and builds a Verifier. It makes no network call:
// the JWKS is fetched on the first Verify.
func NewVerifier(cfg Config) (*Verifier, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	iss, err := IssuerURL(cfg.Domain)
	if err != nil {
		return nil, err
	}
	provider := jwks.NewProvider(iss, jwks.WithCustomClient(cfg.HTTPClient))
	cache, err := newTokenCache(cfg.CacheSize)
	if err != nil {
		return nil, err
	}
	return &Verifier{
		cfg:    cfg,
		issuer: iss.String(),
		keys: &keySet{
			fetch:           provider.KeyFunc,
			now:             cfg.Clock.Now,
			ttl:             cfg.JWKSCacheTTL,
			refetchInterval: cfg.JWKSRefetchInterval,
		},
		claims: claimNames{tenant: cfg.TenantClaim, role: cfg.RoleClaim, email: cfg.EmailClaim}.keys(),
		cache:  cache,
	}, nil
}

// Issuer is the issuer tokens must carry.
func (v *Verifier) Issuer() string { return v.issuer }

// Verify returns the identity a token proves and the token's expiry. Errors
// are *domain.Error: TOKEN_EXPIRED for an expired token, UPSTREAM_UNAVAILABLE
// when no signing keys can be fetched, AUTH_FAILED for everything else. No
// error carries the token.
func (v *Verifier) Verify(ctx context.Context, token string) (domain.Identity, time.Time, error) {
	if token == "" {
		return domain.Identity{}, time.Time{}, authFailed("missing token")
	}
	if len(token) > MaxTokenBytes {
		return domain.Identity{}, time.Time{}, authFailed("token too large")
	}
	key := tokenKey(token)
	if id, exp, ok := v.cache.get(key, v.cfg.Clock.Now()); ok {
		return id, exp, nil
	}
	id, exp, err := v.verify(ctx, token)
	if err != nil {
		return domain.Identity{}, time.Time{}, err
	}
	v.cache.put(key, id, exp, v.cfg.Clock.Now())
	return id, exp, nil
}

// verify checks token from scratch: the header, the signature with the
// issuer's key for its kid, issuer, audience and times, then the identity.
func (v *Verifier) verify(ctx context.Context, token string) (domain.Identity, time.Time, error) {
	jws, err := parseCompact(token)
	if err != nil {
		return domain.Identity{}, time.Time{}, err
	}
	v.verifications.Add(1)
	pub, err := v.keys.key(ctx, jws.kid)
	if err != nil {
		return domain.Identity{}, time.Time{}, err
	}
	payload, err := jws.verify(pub)
	if err != nil {
		return domain.Identity{}, time.Time{}, err
	}
	c, err := parseClaims(payload, &v.claims)
	if err != nil {
		return domain.Identity{}, time.Time{}, err
	}
	if !stringIs(c.raw[claimIss], v.issuer) {
		return domain.Identity{}, time.Time{}, authFailed("invalid issuer")
	}
	if !c.hasAudience(v.cfg.Audience) {
		return domain.Identity{}, time.Time{}, authFailed("invalid audience")
	}
	exp, err := v.checkTimes(c, v.cfg.Clock.Now())
	if err != nil {
		return domain.Identity{}, time.Time{}, err
	}
	id, err := identityFrom(c)
	if err != nil {
		return domain.Identity{}, time.Time{}, err
	}
	return id, exp, nil
}

// checkTimes applies the time claims at now with domain.CheckTokenTimes,
// the rule every transport shares (exp required, skew never excusing it).
func (v *Verifier) checkTimes(c *claimSet, now time.Time) (time.Time, error) {
	exp, err := c.date(claimExp)
	if err != nil {
		return time.Time{}, err
	}
	nbf, err := c.date(claimNbf)
	if err != nil {
		return time.Time{}, err
	}
	iat, err := c.date(claimIat)
	if err != nil {
		return time.Time{}, err
	}
	if err := domain.CheckTokenTimes(now, exp, nbf, iat, v.cfg.ClockSkew); err != nil {
		return time.Time{}, err
	}
	return exp, nil
}
