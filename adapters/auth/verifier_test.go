package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/auth/idp"
	"github.com/diminuendo/diminuendo/domain"
)

const audience = "diminuendo"

type fixture struct {
	idp   *idp.IdP
	clock *testClock
	v     *Verifier
}

// newFixture runs a local IdP on a real loopback listener and a verifier
// fetching its JWKS over HTTP.
func newFixture(t *testing.T, edit func(*Config)) *fixture {
	t.Helper()
	p, err := idp.New()
	require.NoError(t, err)
	iss, err := p.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	clock := newTestClock()
	cfg := Config{Domain: iss, Audience: audience, Clock: clock}
	if edit != nil {
		edit(&cfg)
	}
	v, err := NewVerifier(cfg)
	require.NoError(t, err)
	return &fixture{idp: p, clock: clock, v: v}
}

func (f *fixture) mint(t *testing.T, c idp.Claims) string {
	t.Helper()
	if c.Subject == "" {
		c.Subject = "auth0|u1"
	}
	if c.TenantID == "" {
		c.TenantID = "acme"
	}
	tok, err := f.idp.Mint(c)
	require.NoError(t, err)
	return tok
}

func (f *fixture) mintWith(t *testing.T, header map[string]any, c idp.Claims, s idp.Signer) string {
	t.Helper()
	if c.Subject == "" {
		c.Subject = "auth0|u1"
	}
	if c.TenantID == "" {
		c.TenantID = "acme"
	}
	tok, err := f.idp.MintWith(header, f.idp.Payload(c), s)
	require.NoError(t, err)
	return tok
}

// requireRejected checks kind and message, and that neither the token nor
// its signature leaks into the error.
func requireRejected(t *testing.T, err error, kind domain.Kind, msg, token string) {
	t.Helper()
	require.Error(t, err)
	var de *domain.Error
	require.True(t, errors.As(err, &de), "error %v is not a *domain.Error", err)
	require.Equal(t, kind, de.Kind, "error: %v", err)
	require.Equal(t, msg, de.Message)
	parts := strings.Split(token, ".")
	for _, s := range []string{token, parts[len(parts)-1], parts[0]} {
		if len(s) > 8 {
			require.NotContains(t, err.Error(), s, "the error quotes the token")
		}
	}
}

func TestValidTokenGivesIdentity(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.mint(t, idp.Claims{Subject: "auth0|u1", Email: "a@b.example", TenantID: "acme", Role: "developer", ExpiresIn: time.Hour})

	id, exp, err := f.v.Verify(context.Background(), tok)
	require.NoError(t, err)
	require.Equal(t, domain.Identity{
		UserID:   "auth0|u1",
		Email:    "a@b.example",
		TenantID: "acme",
		Role:     domain.RoleDeveloper,
		Permissions: []domain.Permission{
			domain.PermSessionsCreate, domain.PermSessionsRead, domain.PermSessionsWrite, domain.PermProjectsCreate, domain.PermMembersRead,
		},
	}, id)
	require.WithinDuration(t, time.Now().Add(time.Hour), exp, 5*time.Second)
	require.EqualValues(t, 1, f.idp.JWKSFetches())
}

func TestNamespacedEmailAndTenantClaims(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.TenantClaim = "https://diminuendo.dev/tenant" })
	tok, err := f.idp.Mint(idp.Claims{Subject: "u2", Role: "viewer", Extra: map[string]any{
		idp.EmailClaim:                  "ns@b.example",
		"https://diminuendo.dev/tenant": "globex",
	}})
	require.NoError(t, err)
	id, _, err := f.v.Verify(context.Background(), tok)
	require.NoError(t, err)
	require.Equal(t, "ns@b.example", id.Email)
	require.Equal(t, "globex", id.TenantID)

	// org_id is read too, and must agree with the configured claim.
	tok = f.mint(t, idp.Claims{TenantID: "globex", Extra: map[string]any{"https://diminuendo.dev/tenant": "globex"}})
	id, _, err = f.v.Verify(context.Background(), tok)
	require.NoError(t, err)
	require.Equal(t, "globex", id.TenantID)

	tok = f.mint(t, idp.Claims{TenantID: "acme", Extra: map[string]any{"https://diminuendo.dev/tenant": "globex"}})
	_, _, err = f.v.Verify(context.Background(), tok)
	requireRejected(t, err, domain.KindAuthFailed, "conflicting tenant claims", tok)
}

func TestTimeClaims(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()

	tok := f.mint(t, idp.Claims{ExpiresIn: -time.Hour})
	_, _, err := f.v.Verify(ctx, tok)
	requireRejected(t, err, domain.KindTokenExpired, "token expired", tok)

	// Skew never excuses exp: ten seconds past it, inside the 30 s skew,
	// the token is expired (on REST as on a socket).
	tok = f.mint(t, idp.Claims{ExpiresIn: -10 * time.Second})
	_, _, err = f.v.Verify(ctx, tok)
	requireRejected(t, err, domain.KindTokenExpired, "token expired", tok)

	tok = f.mint(t, idp.Claims{NotBefore: time.Now().Add(time.Hour)})
	_, _, err = f.v.Verify(ctx, tok)
	requireRejected(t, err, domain.KindAuthFailed, "token not yet valid", tok)

	tok = f.mint(t, idp.Claims{NotBefore: time.Now().Add(10 * time.Second)})
	_, _, err = f.v.Verify(ctx, tok)
	require.NoError(t, err, "nbf within the skew")

	tok = f.mint(t, idp.Claims{Extra: map[string]any{"iat": time.Now().Add(time.Hour).Unix()}})
	_, _, err = f.v.Verify(ctx, tok)
	requireRejected(t, err, domain.KindAuthFailed, "token issued in the future", tok)

	tok = f.mint(t, idp.Claims{Extra: map[string]any{"exp": nil}})
	_, _, err = f.v.Verify(ctx, tok)
	requireRejected(t, err, domain.KindAuthFailed, "missing exp claim", tok)
}

func TestIssuerAndAudience(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()

	tok := f.mint(t, idp.Claims{Extra: map[string]any{"iss": "https://evil.example/"}})
	_, _, err := f.v.Verify(ctx, tok)
	requireRejected(t, err, domain.KindAuthFailed, "invalid issuer", tok)

	// The issuer is compared exactly: Auth0's trailing slash matters.
	tok = f.mint(t, idp.Claims{Extra: map[string]any{"iss": strings.TrimSuffix(f.idp.Issuer(), "/")}})
	_, _, err = f.v.Verify(ctx, tok)
	requireRejected(t, err, domain.KindAuthFailed, "invalid issuer", tok)

	tok = f.mint(t, idp.Claims{Audience: "someone-else"})
	_, _, err = f.v.Verify(ctx, tok)
	requireRejected(t, err, domain.KindAuthFailed, "invalid audience", tok)

	// Auth0 adds its userinfo audience; one matching entry is enough.
	tok = f.mint(t, idp.Claims{Extra: map[string]any{"aud": []string{"https://acme.auth0.com/userinfo", audience}}})
	_, _, err = f.v.Verify(ctx, tok)
	require.NoError(t, err)
}

func TestHostileAlgorithms(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()

	none := f.mintWith(t, nil, idp.Claims{Role: "owner"}, idp.SignNone)
	require.True(t, strings.HasSuffix(none, "."), "alg none carries an empty signature")
	_, _, err := f.v.Verify(ctx, none)
	requireRejected(t, err, domain.KindAuthFailed, "unsupported signing algorithm", none)

	hs := f.mintWith(t, nil, idp.Claims{Role: "owner"}, idp.SignHS256PublicKey)
	_, _, err = f.v.Verify(ctx, hs)
	requireRejected(t, err, domain.KindAuthFailed, "unsupported signing algorithm", hs)

	// A header claiming RS256 over an HMAC signature fails as a signature.
	lying := f.mintWith(t, map[string]any{"alg": "RS256"}, idp.Claims{Role: "owner"}, idp.SignHS256PublicKey)
	_, _, err = f.v.Verify(ctx, lying)
	requireRejected(t, err, domain.KindAuthFailed, "invalid signature", lying)

	ps := f.mintWith(t, map[string]any{"alg": "PS256"}, idp.Claims{}, idp.SignRS256)
	_, _, err = f.v.Verify(ctx, ps)
	requireRejected(t, err, domain.KindAuthFailed, "unsupported signing algorithm", ps)

	require.EqualValues(t, 1, f.idp.JWKSFetches(), "only the RS256-labelled token reaches the JWKS")

	// The header check is not the only guard: the signature check alone,
	// handed the real key, refuses both.
	pub, err := f.v.keys.key(ctx, f.idp.KeyID())
	require.NoError(t, err)
	for _, tok := range []string{none, hs} {
		parts := strings.Split(tok, ".")
		jws := compactJWS{signed: parts[0] + "." + parts[1], payload: parts[1], signature: parts[2], kid: f.idp.KeyID()}
		_, err := jws.verify(pub)
		requireRejected(t, err, domain.KindAuthFailed, "invalid signature", tok)
	}
}

func TestMalformedTokens(t *testing.T) {
	f := newFixture(t, nil)
	good := f.mint(t, idp.Claims{})
	cases := map[string]struct{ token, msg string }{
		"empty":         {"", "missing token"},
		"two parts":     {"abc.def", "malformed token"},
		"jwe-like":      {"a.b.c.d.e", "malformed token"},
		"bad base64":    {"!!!." + strings.SplitN(good, ".", 2)[1], "malformed token"},
		"header no kid": {f.mintWith(t, map[string]any{"kid": nil}, idp.Claims{}, idp.SignRS256), "missing key id"},
		"huge":          {strings.Repeat("a", MaxTokenBytes+1), "token too large"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := f.v.Verify(context.Background(), c.token)
			require.Error(t, err)
			require.Equal(t, domain.KindAuthFailed, domain.KindOf(err))
			require.Equal(t, c.msg, domain.As(err).Message)
		})
	}
}

func TestTamperedPayload(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.mint(t, idp.Claims{Role: "viewer"})
	forged, err := idp.Tamper(tok, func(p map[string]any) { p[idp.RoleClaim] = "owner" })
	require.NoError(t, err)
	_, _, err = f.v.Verify(context.Background(), forged)
	requireRejected(t, err, domain.KindAuthFailed, "invalid signature", forged)

	// The genuine token still works; the forgery did not poison the cache.
	id, _, err := f.v.Verify(context.Background(), tok)
	require.NoError(t, err)
	require.Equal(t, domain.RoleViewer, id.Role)
}

func TestUnknownKidRefetchesOnceThenRejects(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	_, _, err := f.v.Verify(ctx, f.mint(t, idp.Claims{}))
	require.NoError(t, err)
	require.EqualValues(t, 1, f.idp.JWKSFetches())

	foreign := f.mintWith(t, nil, idp.Claims{}, idp.SignForeignRS256)
	_, _, err = f.v.Verify(ctx, foreign)
	requireRejected(t, err, domain.KindAuthFailed, "unknown signing key", foreign)
	require.EqualValues(t, 2, f.idp.JWKSFetches(), "one refetch for the unknown kid")

	_, _, err = f.v.Verify(ctx, foreign)
	requireRejected(t, err, domain.KindAuthFailed, "unknown signing key", foreign)
	require.EqualValues(t, 2, f.idp.JWKSFetches(), "no second refetch within the interval")

	// A storm of made-up kids, all at once, costs nothing more.
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			tok, err := f.idp.MintWith(map[string]any{"kid": fmt.Sprintf("made-up-%d", i)}, f.idp.Payload(idp.Claims{Subject: "u", TenantID: "acme"}), idp.SignRS256)
			assert.NoError(t, err)
			_, _, err = f.v.Verify(ctx, tok)
			assert.Equal(t, domain.KindAuthFailed, domain.KindOf(err))
		})
	}
	wg.Wait()
	require.EqualValues(t, 2, f.idp.JWKSFetches())

	// After the interval an unknown kid may look again, once, however many ask.
	f.clock.Advance(DefaultJWKSRefetchInterval + time.Second)
	for i := range 50 {
		wg.Go(func() {
			tok, err := f.idp.MintWith(map[string]any{"kid": fmt.Sprintf("other-%d", i)}, f.idp.Payload(idp.Claims{Subject: "u", TenantID: "acme"}), idp.SignRS256)
			assert.NoError(t, err)
			_, _, err = f.v.Verify(ctx, tok)
			assert.Equal(t, domain.KindAuthFailed, domain.KindOf(err))
		})
	}
	wg.Wait()
	require.EqualValues(t, 3, f.idp.JWKSFetches())
}

func TestRotatedKeyAcceptedAfterRefetch(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	before := f.mint(t, idp.Claims{Subject: "before"})
	oldUnused := f.mint(t, idp.Claims{Subject: "never-verified"})
	_, _, err := f.v.Verify(ctx, before)
	require.NoError(t, err)

	require.NoError(t, f.idp.RotateKey())
	after := f.mint(t, idp.Claims{Subject: "after"})
	id, _, err := f.v.Verify(ctx, after)
	require.NoError(t, err)
	require.Equal(t, "after", id.UserID)
	require.EqualValues(t, 2, f.idp.JWKSFetches())

	// The old kid is retired: a token it signed that was never verified
	// before is refused, without another fetch.
	_, _, err = f.v.Verify(ctx, oldUnused)
	requireRejected(t, err, domain.KindAuthFailed, "unknown signing key", oldUnused)
	require.EqualValues(t, 2, f.idp.JWKSFetches())
}

func TestTenantClaim(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	tok := f.mint(t, idp.Claims{Extra: map[string]any{idp.TenantClaim: nil}})
	_, _, err := f.v.Verify(ctx, tok)
	requireRejected(t, err, domain.KindAuthFailed, "missing tenant claim", tok)

	for _, bad := range []any{"acme/../globex", "tenant:x", strings.Repeat("a", 129), 42} {
		tok := f.mint(t, idp.Claims{Extra: map[string]any{idp.TenantClaim: bad}})
		_, _, err := f.v.Verify(ctx, tok)
		requireRejected(t, err, domain.KindAuthFailed, "invalid tenant claim", tok)
	}

	tok = f.mint(t, idp.Claims{Extra: map[string]any{"sub": nil}})
	_, _, err = f.v.Verify(ctx, tok)
	requireRejected(t, err, domain.KindAuthFailed, "missing subject claim", tok)
}

func TestRoleClaim(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	cases := []struct {
		name string
		role any // nil: no claim
		want domain.Role
		err  string
	}{
		{"each of the five", "owner", domain.RoleOwner, ""},
		{"admin", "admin", domain.RoleAdmin, ""},
		{"viewer", "viewer", domain.RoleViewer, ""},
		{"guest", "guest", domain.RoleGuest, ""},
		{"missing is guest", nil, domain.RoleGuest, ""},
		{"array takes the highest known", []string{"Billing Admin", "developer", "admin"}, domain.RoleAdmin, ""},
		{"unknown", "superuser", "", "invalid role claim"},
		{"case matters", "Owner", "", "invalid role claim"},
		{"array of unknowns", []string{"superuser"}, "", "invalid role claim"},
		{"not a string", 5, "", "invalid role claim"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			extra := map[string]any{}
			if c.role != nil {
				extra[idp.RoleClaim] = c.role
			}
			tok := f.mint(t, idp.Claims{Extra: extra})
			id, _, err := f.v.Verify(ctx, tok)
			if c.err != "" {
				requireRejected(t, err, domain.KindAuthFailed, c.err, tok)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, id.Role)
			require.Equal(t, c.want.Permissions(), id.Permissions)
		})
	}
}

func TestPermissionsNarrowNeverWiden(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	cases := []struct {
		name  string
		role  string
		perms any
		want  []domain.Permission
	}{
		{"narrowed", "developer", []string{"sessions.read", "sessions.write"},
			[]domain.Permission{domain.PermSessionsRead, domain.PermSessionsWrite}},
		{"cannot widen", "developer", []string{"sessions.read", "billing.manage", "members.manage", "read:other-api"},
			[]domain.Permission{domain.PermSessionsRead}},
		{"empty means none", "owner", []string{}, []domain.Permission{}},
		{"all listed is the role's", "admin", []string{
			"sessions.create", "sessions.read", "sessions.write", "sessions.delete", "projects.create", "projects.manage",
			"members.read", "members.manage", "integrations.manage", "config.manage", "deployments.manage", "audit.read", "billing.manage",
		}, domain.RoleAdmin.Permissions()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := f.mint(t, idp.Claims{Role: c.role, Extra: map[string]any{"permissions": c.perms}})
			id, _, err := f.v.Verify(ctx, tok)
			require.NoError(t, err)
			require.Equal(t, c.want, id.Permissions)
			require.NotNil(t, id.Permissions)
		})
	}
	tok := f.mint(t, idp.Claims{Role: "owner", Extra: map[string]any{"permissions": "sessions.read"}})
	_, _, err := f.v.Verify(ctx, tok)
	requireRejected(t, err, domain.KindAuthFailed, "invalid permissions claim", tok)
}

func TestCacheHitSkipsVerificationAndNeverOutlivesExp(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.ClockSkew = time.Millisecond })
	ctx := context.Background()
	tok := f.mint(t, idp.Claims{Role: "developer", ExpiresIn: 2 * time.Minute})

	_, _, err := f.v.Verify(ctx, tok)
	require.NoError(t, err)
	require.EqualValues(t, 1, f.v.verifications.Load())
	require.Zero(t, f.v.cache.lru.Len(), "a token seen once is not cached")

	id1, exp, err := f.v.Verify(ctx, tok)
	require.NoError(t, err)
	require.EqualValues(t, 2, f.v.verifications.Load(), "the second sight verifies and caches")
	require.Equal(t, 1, f.v.cache.lru.Len())

	id1.Permissions[0] = domain.PermBillingManage // a caller scribbling on its copy
	id2, exp2, err := f.v.Verify(ctx, tok)
	require.NoError(t, err)
	require.Equal(t, exp, exp2)
	require.Equal(t, domain.RoleDeveloper.Permissions(), id2.Permissions)
	require.EqualValues(t, 2, f.v.verifications.Load(), "a hit is not verified again")
	require.EqualValues(t, 1, f.idp.JWKSFetches(), "a hit does not fetch")

	f.clock.Advance(exp.Sub(f.clock.Now()) - time.Second)
	_, _, err = f.v.Verify(ctx, tok)
	require.NoError(t, err)
	require.EqualValues(t, 2, f.v.verifications.Load(), "still cached a second before exp")

	f.clock.Advance(2 * time.Second)
	_, _, err = f.v.Verify(ctx, tok)
	requireRejected(t, err, domain.KindTokenExpired, "token expired", tok)
	require.EqualValues(t, 3, f.v.verifications.Load(), "past exp the entry is gone and the token re-checked")
}

func TestSingleUseTokensLeaveNoCacheEntry(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	for i := range 20 {
		_, _, err := f.v.Verify(ctx, f.mint(t, idp.Claims{Subject: fmt.Sprintf("once-%d", i)}))
		require.NoError(t, err)
	}
	require.Zero(t, f.v.cache.lru.Len())
	require.EqualValues(t, 20, f.v.verifications.Load())
}

func TestCacheEntryLivesAtMostFiveMinutes(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	tok := f.mint(t, idp.Claims{ExpiresIn: time.Hour})
	for range 2 { // the second sight caches
		_, _, err := f.v.Verify(ctx, tok)
		require.NoError(t, err)
	}
	f.clock.Advance(MaxCachedFor - time.Second)
	_, _, err := f.v.Verify(ctx, tok)
	require.NoError(t, err)
	require.EqualValues(t, 2, f.v.verifications.Load())
	f.clock.Advance(time.Second)
	_, _, err = f.v.Verify(ctx, tok)
	require.NoError(t, err)
	require.EqualValues(t, 3, f.v.verifications.Load())
	// The JWKS went stale at the same moment (both 5 min) and was refreshed.
	require.EqualValues(t, 2, f.idp.JWKSFetches())
}

func TestCacheIsBounded(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CacheSize = 2 })
	ctx := context.Background()
	toks := []string{f.mint(t, idp.Claims{Subject: "a"}), f.mint(t, idp.Claims{Subject: "b"}), f.mint(t, idp.Claims{Subject: "c"})}
	for _, tok := range toks {
		for range 2 { // the second sight caches
			_, _, err := f.v.Verify(ctx, tok)
			require.NoError(t, err)
		}
	}
	require.Equal(t, 2, f.v.cache.lru.Len())
	_, _, err := f.v.Verify(ctx, toks[0]) // evicted, verified again
	require.NoError(t, err)
	require.EqualValues(t, 7, f.v.verifications.Load())
}

// flakyIdP serves an IdP's handler but can be switched off.
type flakyIdP struct {
	idp  *idp.IdP
	down atomic.Bool
	hits atomic.Int64
}

func (s *flakyIdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	if s.down.Load() {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	s.idp.Handler().ServeHTTP(w, r)
}

func TestIdPOutage(t *testing.T) {
	flaky := &flakyIdP{}
	srv := httptest.NewServer(flaky)
	t.Cleanup(srv.Close)
	p, err := idp.New(idp.WithIssuer(srv.URL + "/"))
	require.NoError(t, err)
	flaky.idp = p
	clock := newTestClock()
	v, err := NewVerifier(Config{Domain: srv.URL, Audience: audience, Clock: clock})
	require.NoError(t, err)
	ctx := context.Background()
	tok, err := p.Mint(idp.Claims{Subject: "u", TenantID: "acme"})
	require.NoError(t, err)

	flaky.down.Store(true)
	_, _, err = v.Verify(ctx, tok)
	requireRejected(t, err, domain.KindUpstreamUnavailable, "identity provider unavailable", tok)
	hits := flaky.hits.Load()
	_, _, err = v.Verify(ctx, tok)
	require.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))
	require.Equal(t, hits, flaky.hits.Load(), "a failed fetch is not retried at once")

	flaky.down.Store(false)
	clock.Advance(DefaultJWKSRefetchInterval)
	_, _, err = v.Verify(ctx, tok)
	require.NoError(t, err)

	// Once keys are held, an outage at refresh time keeps them in use.
	flaky.down.Store(true)
	clock.Advance(DefaultJWKSCacheTTL + time.Second)
	tok2, err := p.Mint(idp.Claims{Subject: "u2", TenantID: "acme"})
	require.NoError(t, err)
	id, _, err := v.Verify(ctx, tok2)
	require.NoError(t, err)
	require.Equal(t, "u2", id.UserID)
}

func TestNewVerifierConfig(t *testing.T) {
	_, err := NewVerifier(Config{Domain: "acme.auth0.com"})
	require.ErrorContains(t, err, "Audience")
	_, err = NewVerifier(Config{Domain: "acme.auth0.com", Audience: "a", ClockSkew: 6 * time.Minute})
	require.ErrorContains(t, err, "ClockSkew")
	_, err = NewVerifier(Config{Domain: "http://acme.auth0.com", Audience: "a"})
	require.ErrorContains(t, err, "https")
	v, err := NewVerifier(Config{Domain: "acme.auth0.com", Audience: "a"})
	require.NoError(t, err)
	require.Equal(t, "https://acme.auth0.com/", v.Issuer())
	require.Equal(t, DefaultClockSkew, v.cfg.ClockSkew)
	require.Equal(t, DefaultTenantClaim, v.cfg.TenantClaim)
	require.Equal(t, DefaultRoleClaim, v.cfg.RoleClaim)
	require.Equal(t, DefaultCacheSize, v.cfg.CacheSize)
}

func TestIssuerURL(t *testing.T) {
	ok := map[string]string{
		"acme.eu.auth0.com":               "https://acme.eu.auth0.com/",
		" acme.auth0.com ":                "https://acme.auth0.com/",
		"login.acme.example:8443":         "https://login.acme.example:8443/",
		"https://acme.auth0.com":          "https://acme.auth0.com/",
		"https://acme.auth0.com/":         "https://acme.auth0.com/",
		"https://sso.acme.example/realms": "https://sso.acme.example/realms",
		"http://127.0.0.1:8081":           "http://127.0.0.1:8081/",
		"http://127.0.0.1:8081/":          "http://127.0.0.1:8081/",
		"http://localhost:8081/":          "http://localhost:8081/",
		"http://[::1]:8081/":              "http://[::1]:8081/",
	}
	for in, want := range ok {
		u, err := IssuerURL(in)
		require.NoError(t, err, in)
		require.Equal(t, want, u.String(), in)
	}
	for _, bad := range []string{
		"", "acme.auth0.com/x", "user@acme.auth0.com", "http://acme.auth0.com/", "http://10.0.0.1/",
		"ftp://acme.auth0.com/", "https://u:p@acme.auth0.com/", "https://acme.auth0.com/?q=1", "https:///",
	} {
		_, err := IssuerURL(bad)
		require.Error(t, err, "%q should be refused", bad)
	}
}

func TestHeaderAndClaimShapes(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()

	// A critical extension (here the unencoded payload of RFC 7797) is not
	// understood, so the token is refused whatever its signature.
	crit := f.mintWith(t, map[string]any{"crit": []string{"b64"}, "b64": false}, idp.Claims{}, idp.SignRS256)
	_, _, err := f.v.Verify(ctx, crit)
	requireRejected(t, err, domain.KindAuthFailed, "unsupported critical header", crit)

	// A key in the header is never used: the JWKS's key for the kid is.
	foreignKey := f.mintWith(t, map[string]any{"jwk": map[string]any{"kty": "RSA", "n": "AQAB", "e": "AQAB"}}, idp.Claims{}, idp.SignForeignRS256)
	_, _, err = f.v.Verify(ctx, foreignKey)
	require.Equal(t, domain.KindAuthFailed, domain.KindOf(err))

	for name, extra := range map[string]map[string]any{
		"exp as a string":    {"exp": fmt.Sprint(time.Now().Add(time.Hour).Unix())},
		"iat as a bool":      {"iat": true},
		"sub as a number":    {"sub": 42},
		"nbf out of range":   {"nbf": 1e300},
		"aud as an object":   {"aud": map[string]any{"aud": audience}},
		"iss as an array":    {"iss": []string{f.idp.Issuer()}},
		"email as a number":  {"email": 7},
		"role as an object":  {idp.RoleClaim: map[string]any{}},
		"permissions mixed":  {"permissions": []any{"sessions.read", 1}},
		"tenant as an array": {idp.TenantClaim: []string{"acme"}},
	} {
		t.Run(name, func(t *testing.T) {
			tok := f.mint(t, idp.Claims{Extra: extra})
			_, _, err := f.v.Verify(ctx, tok)
			require.Error(t, err)
			require.Equal(t, domain.KindAuthFailed, domain.KindOf(err), "%v", err)
		})
	}

	// Escaped strings read as any JSON reader reads them.
	tok := f.mint(t, idp.Claims{Subject: "auth0|é\"x", Email: "a\\b@c.example"})
	id, _, err := f.v.Verify(ctx, tok)
	require.NoError(t, err)
	require.Equal(t, "auth0|é\"x", id.UserID)
	require.Equal(t, "a\\b@c.example", id.Email)
}
