package main

import (
	"context"
	"fmt"
	"time"

	"github.com/diminuendo/diminuendo/adapters/auth/idp"
	"github.com/diminuendo/diminuendo/bench/internal/tokens"
)

const audience = idp.DefaultAudience

// issuer is the local identity provider and the tokens it minted: one per
// connection (index i is client i), plus one for the warm-up connection.
type issuer struct {
	p      *idp.IdP
	issuer string
	tokens []string
	minted time.Duration
	ttl    time.Duration
}

// startIdP serves the IdP on loopback and mints every token once, before
// any run: a fresh gateway per run has an empty verified-token cache, so
// each connection still costs one RS256 verification. Tokens outlive the
// command, so no auth_expiring arrives mid-run.
func startIdP(ctx context.Context, o options) (*issuer, error) {
	p, err := idp.New()
	if err != nil {
		return nil, err
	}
	iss, err := p.Start("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	is := &issuer{p: p, issuer: iss, ttl: o.timeout + 10*time.Minute}
	t0 := time.Now()
	is.tokens, err = mint(ctx, p, o, is.ttl)
	if err != nil {
		p.Close()
		return nil, err
	}
	is.minted = time.Since(t0)
	return is, nil
}

func (is *issuer) close() { is.p.Close() }

// tenantOf is the tenant of session s: sessions are dealt round the tenants.
func tenantOf(o options, s int) string { return fmt.Sprintf("budget-tenant-%02d", s%o.tenants) }

// mint signs o.conns+1 tokens with distinct subjects, each of its session's
// tenant, role developer (may create, read and run turns in the tenant's
// sessions, so the second client of a session may join the first's).
func mint(ctx context.Context, p *idp.IdP, o options, ttl time.Duration) ([]string, error) {
	cps := o.conns / o.sessions
	return tokens.Mint(ctx, p, o.conns+1, func(i int) idp.Claims {
		if i == o.conns {
			return idp.Claims{Subject: "budget-warmup", TenantID: tenantOf(o, 0), Role: "developer", ExpiresIn: ttl}
		}
		return idp.Claims{Subject: fmt.Sprintf("budget-user-%05d", i), TenantID: tenantOf(o, i/cps), Role: "developer", ExpiresIn: ttl}
	})
}
