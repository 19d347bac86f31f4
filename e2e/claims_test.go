package e2e

import (
	"net/http"
	"testing"

	"github.com/diminuendo/diminuendo/adapters/auth/idp"
	"github.com/diminuendo/diminuendo/app/config"
)

// AUTH0_TENANT_CLAIM and AUTH0_ROLE_CLAIM name the claims identity comes
// from, for tenants that do not use Auth0 Organizations.
func TestConfiguredTenantAndRoleClaims(t *testing.T) {
	g, p := startAuthGateway(t, func(cfg *config.Config) {
		cfg.Auth0TenantClaim = "https://example.com/tenant"
		cfg.Auth0RoleClaim = "https://example.com/role"
	})
	tok := mint(t, p, idp.Claims{Subject: "u-claims", Email: "c@example.com", Extra: map[string]any{
		"org_id": nil, idp.RoleClaim: nil,
		"https://example.com/tenant": "acme-corp", "https://example.com/role": "admin",
	}})
	r := g.rest(t, http.MethodGet, "/api/me", tok, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /api/me: %d %s", r.status, r.body)
	}
	var me struct {
		TenantID string `json:"tenantId"`
		Role     string `json:"role"`
	}
	mustUnmarshal(t, r.body, &me)
	if me.TenantID != "acme-corp" || me.Role != "admin" {
		t.Fatalf("identity from configured claims: %+v", me)
	}
	// Without either tenant claim the token is refused.
	none := mint(t, p, idp.Claims{Subject: "u-none", Extra: map[string]any{"org_id": nil}})
	if r := g.rest(t, http.MethodGet, "/api/me", none, nil); r.status != http.StatusUnauthorized || r.errCode() != "AUTH_FAILED" {
		t.Fatalf("no tenant claim: %d %s", r.status, r.body)
	}
}
