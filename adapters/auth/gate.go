package auth

import (
	"context"
	"net/http"
	"time"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// queryTokenParams are the query parameters a token could be smuggled in.
// URLs end up in proxy logs and browser history, so none is accepted.
var queryTokenParams = []string{"token", "access_token", "jwt"}

// QueryToken reports whether r carries a token in its query string, which
// every front door refuses (AUTH_FAILED) whatever the token.
func QueryToken(r *http.Request) bool {
	q := r.URL.Query()
	for _, p := range queryTokenParams {
		if q.Has(p) {
			return true
		}
	}
	return false
}

// Gate is how every front door (REST, /ws, /acp) checks a token: the same
// verifier, and the same per-address budget of failed attempts.
type Gate struct {
	Verifier ports.TokenVerifier
	Limiter  ports.AuthLimiter // nil: no budget
}

// Verify checks token from address ip. An address over its budget is
// refused before any check (AUTH_RATE_LIMITED with a retry hint), and a
// refused token counts against it, unless the verifier could not reach the
// identity provider, which is no fault of the client's.
func (g Gate) Verify(ctx context.Context, ip, token string) (domain.Identity, time.Time, error) {
	if err := g.Admit(ip); err != nil {
		return domain.Identity{}, time.Time{}, err
	}
	id, exp, err := g.Verifier.Verify(ctx, token)
	if err != nil {
		if domain.KindOf(err) != domain.KindUpstreamUnavailable {
			g.Fail(ip)
		}
		return domain.Identity{}, time.Time{}, err
	}
	return id, exp, nil
}

// Admit refuses an address over its budget of failed attempts.
func (g Gate) Admit(ip string) error {
	if g.Limiter == nil {
		return nil
	}
	if ok, retry := g.Limiter.Allow(ip); !ok {
		return &domain.Error{Kind: domain.KindAuthRateLimited, Message: "too many failed authentications; retry later", RetryAfter: retry}
	}
	return nil
}

// Fail counts a refused authentication against ip.
func (g Gate) Fail(ip string) {
	if g.Limiter != nil {
		g.Limiter.Fail(ip)
	}
}
