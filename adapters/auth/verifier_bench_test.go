package auth

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/adapters/auth/idp"
)

// benchVerifier is a verifier against a local IdP on a loopback listener
// whose JWKS is already fetched, as on a long-running gateway.
func benchVerifier(b *testing.B) (*idp.IdP, *Verifier) {
	b.Helper()
	p, err := idp.New()
	if err != nil {
		b.Fatal(err)
	}
	iss, err := p.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	v, err := NewVerifier(Config{Domain: iss, Audience: audience})
	if err != nil {
		b.Fatal(err)
	}
	warm, err := p.Mint(idp.Claims{Subject: "warm-up", TenantID: "bench", Role: "developer", ExpiresIn: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := v.Verify(context.Background(), warm); err != nil {
		b.Fatal(err)
	}
	return p, v
}

// mintDistinct signs n tokens with distinct subjects, the shape of a
// connect storm where every client brings its own token.
func mintDistinct(b *testing.B, p *idp.IdP, n int) []string {
	b.Helper()
	out := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, runtime.GOMAXPROCS(0))
	per := (n + cap(errs) - 1) / cap(errs)
	for w := 0; w < cap(errs); w++ {
		wg.Add(1)
		go func(lo int) {
			defer wg.Done()
			for i := lo; i < min(lo+per, n); i++ {
				t, err := p.Mint(idp.Claims{Subject: fmt.Sprintf("auth0|bench-%07d", i), TenantID: "bench", Role: "developer", ExpiresIn: time.Hour})
				if err != nil {
					errs <- err
					return
				}
				out[i] = t
			}
		}(w * per)
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	return out
}

// BenchmarkVerifyDistinctTokens verifies a token never seen before on every
// iteration: one signature check, one claims decode, one identity.
func BenchmarkVerifyDistinctTokens(b *testing.B) {
	p, v := benchVerifier(b)
	tokens := mintDistinct(b, p, b.N)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := v.Verify(ctx, tokens[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRepeatedToken verifies one token again and again, what a
// client calling REST per request with the same token costs.
func BenchmarkVerifyRepeatedToken(b *testing.B) {
	p, v := benchVerifier(b)
	tok := mintDistinct(b, p, 1)[0]
	ctx := context.Background()
	for range 2 { // a token is cached on its second verification
		if _, _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
