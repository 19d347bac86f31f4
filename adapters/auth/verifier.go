package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/auth0/go-jwt-middleware/v2/jwks"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	"gopkg.in/go-jose/go-jose.v2"
	"gopkg.in/go-jose/go-jose.v2/jwt"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// MaxTokenBytes bounds what is hashed, decoded and parsed. Auth0 access
// tokens are well under 4 KiB even with many permissions.
const MaxTokenBytes = 16 << 10

// Verifier checks Auth0 (or local IdP) access tokens and derives identities.
type Verifier struct {
	cfg       Config
	issuer    string
	names     claimNames
	validator *validator.Validator
	cache     *tokenCache

	// verifications counts tokens that went through signature verification,
	// which the cache tests watch.
	verifications atomic.Int64
}

var _ ports.TokenVerifier = (*Verifier)(nil)

type kidKey struct{}

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
	ks := &keySet{
		fetch:           provider.KeyFunc,
		now:             cfg.Clock.Now,
		ttl:             cfg.JWKSCacheTTL,
		refetchInterval: cfg.JWKSRefetchInterval,
	}
	// The validator's key function sees only a context, so the kid read from
	// the header travels in it; returning the one matching key (not the set)
	// is what lets an unknown kid be told apart and refetched.
	keyFunc := func(ctx context.Context) (any, error) {
		kid, _ := ctx.Value(kidKey{}).(string)
		return ks.key(ctx, kid)
	}
	val, err := validator.New(keyFunc, validator.RS256, iss.String(), []string{cfg.Audience},
		validator.WithCustomClaims(func() validator.CustomClaims { return &tokenClaims{} }),
		validator.WithAllowedClockSkew(cfg.ClockSkew),
	)
	if err != nil {
		return nil, err
	}
	cache, err := newTokenCache(cfg.CacheSize)
	if err != nil {
		return nil, err
	}
	return &Verifier{
		cfg:       cfg,
		issuer:    iss.String(),
		names:     claimNames{tenant: cfg.TenantClaim, role: cfg.RoleClaim, email: cfg.EmailClaim},
		validator: val,
		cache:     cache,
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

	kid, err := headerKeyID(token)
	if err != nil {
		return domain.Identity{}, time.Time{}, err
	}
	v.verifications.Add(1)
	res, err := v.validator.ValidateToken(context.WithValue(ctx, kidKey{}, kid), token)
	if err != nil {
		return domain.Identity{}, time.Time{}, classify(err)
	}
	vc, ok := res.(*validator.ValidatedClaims)
	if !ok {
		return domain.Identity{}, time.Time{}, authFailed("invalid token")
	}
	now := v.cfg.Clock.Now()
	exp, err := v.checkTimes(vc.RegisteredClaims, now)
	if err != nil {
		return domain.Identity{}, time.Time{}, err
	}
	claims, _ := vc.CustomClaims.(*tokenClaims)
	if claims == nil {
		claims = &tokenClaims{}
	}
	id, err := identityFrom(vc.RegisteredClaims.Subject, claims, v.names)
	if err != nil {
		return domain.Identity{}, time.Time{}, err
	}
	v.cache.put(key, id, exp, now)
	return id, exp, nil
}

// checkTimes applies the time claims against the configured clock (the
// validator checks them against the wall clock, the same in production;
// this makes the injected clock rule in tests) with domain.CheckTokenTimes,
// which also enforces exp, optional to the validator.
func (v *Verifier) checkTimes(rc validator.RegisteredClaims, now time.Time) (time.Time, error) {
	unix := func(s int64) time.Time {
		if s == 0 {
			return time.Time{}
		}
		return time.Unix(s, 0)
	}
	exp := unix(rc.Expiry)
	if err := domain.CheckTokenTimes(now, exp, unix(rc.NotBefore), unix(rc.IssuedAt), v.cfg.ClockSkew); err != nil {
		return time.Time{}, err
	}
	return exp, nil
}

// headerKeyID reads the JOSE header before the validator does, to refuse
// anything but RS256 without touching the JWKS and to learn the kid.
func headerKeyID(token string) (string, error) {
	if strings.Count(token, ".") != 2 {
		return "", authFailed("malformed token")
	}
	raw, err := base64.RawURLEncoding.DecodeString(token[:strings.IndexByte(token, '.')])
	if err != nil {
		return "", authFailed("malformed token")
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", authFailed("malformed token")
	}
	if h.Alg != string(validator.RS256) {
		return "", authFailed("unsupported signing algorithm")
	}
	if h.Kid == "" {
		return "", authFailed("missing key id")
	}
	return h.Kid, nil
}

// classify maps a validator error to a domain error with a fixed message,
// keeping the library's error (which never quotes the token) as the cause.
func classify(err error) *domain.Error {
	var de *domain.Error
	switch {
	case errors.As(err, &de):
		return de
	case errors.Is(err, jwt.ErrExpired):
		return domain.Wrap(domain.KindTokenExpired, "token expired", err)
	case errors.Is(err, jwt.ErrNotValidYet):
		return domain.Wrap(domain.KindAuthFailed, "token not yet valid", err)
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return domain.Wrap(domain.KindAuthFailed, "token issued in the future", err)
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return domain.Wrap(domain.KindAuthFailed, "invalid issuer", err)
	case errors.Is(err, jwt.ErrInvalidAudience):
		return domain.Wrap(domain.KindAuthFailed, "invalid audience", err)
	case errors.Is(err, jose.ErrCryptoFailure):
		return domain.Wrap(domain.KindAuthFailed, "invalid signature", err)
	default:
		return domain.Wrap(domain.KindAuthFailed, "invalid token", err)
	}
}
