package auth

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/domain"
)

type stubVerifier struct{ err error }

func (v stubVerifier) Verify(context.Context, string) (domain.Identity, time.Time, error) {
	return domain.Identity{UserID: "u"}, time.Time{}, v.err
}

type countingLimiter struct{ fails map[string]int }

func (l *countingLimiter) Allow(ip string) (bool, time.Duration) { return l.fails[ip] < 2, time.Second }
func (l *countingLimiter) Fail(ip string)                        { l.fails[ip]++ }

func TestGateCountsRefusalsButNotOutages(t *testing.T) {
	lim := &countingLimiter{fails: map[string]int{}}
	ctx := context.Background()
	down := Gate{Verifier: stubVerifier{domain.ErrUpstream("idp", nil)}, Limiter: lim}
	for i := 0; i < 3; i++ {
		if _, _, err := down.Verify(ctx, "a", "tok"); domain.KindOf(err) != domain.KindUpstreamUnavailable {
			t.Fatalf("outage: %v", err)
		}
	}
	bad := Gate{Verifier: stubVerifier{domain.E(domain.KindAuthFailed, "bad signature")}, Limiter: lim}
	for i := 0; i < 2; i++ {
		if _, _, err := bad.Verify(ctx, "a", "tok"); domain.KindOf(err) != domain.KindAuthFailed {
			t.Fatalf("refusal %d: %v", i, err)
		}
	}
	if _, _, err := bad.Verify(ctx, "a", "tok"); domain.KindOf(err) != domain.KindAuthRateLimited || domain.As(err).RetryAfter == 0 {
		t.Fatalf("over the budget: %v", err)
	}
	good := Gate{Verifier: stubVerifier{}, Limiter: lim}
	if id, _, err := good.Verify(ctx, "b", "tok"); err != nil || id.UserID != "u" {
		t.Fatalf("another address: %v", err)
	}
	if id, _, err := (Gate{Verifier: stubVerifier{}}).Verify(ctx, "a", "tok"); err != nil || id.UserID != "u" {
		t.Fatalf("no limiter: %v", err)
	}
}

func TestQueryToken(t *testing.T) {
	for url, want := range map[string]bool{"/ws": false, "/ws?token=x": true, "/acp?access_token=": true, "/api/me?jwt=1": true, "/ws?tenant=a": false} {
		if got := QueryToken(httptest.NewRequest("GET", url, nil)); got != want {
			t.Errorf("%s: %v", url, got)
		}
	}
}
