package auth

import (
	"context"
	"encoding/json"
	"unicode"

	"github.com/diminuendo/diminuendo/domain"
)

const (
	orgIDClaim       = "org_id"
	emailClaim       = "email"
	permissionsClaim = "permissions"
	maxSubjectLen    = 255
	maxTenantLen     = 128
)

// tokenClaims receives the payload for the claims whose names are only known
// from Config (tenant, role, email), hence a map rather than struct tags.
type tokenClaims struct {
	raw map[string]json.RawMessage
}

// UnmarshalJSON is found by go-jose's JSON fork through its own, identically
// shaped Unmarshaler interface.
func (c *tokenClaims) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &c.raw) }

// Validate is required by validator.CustomClaims. The checks need Config, so
// they run in identityFrom after the signature and registered claims pass.
func (c *tokenClaims) Validate(context.Context) error { return nil }

// claimNames are the configured names of the claims read besides the
// registered ones.
type claimNames struct {
	tenant, role, email string
}

func authFailed(msg string) *domain.Error { return domain.E(domain.KindAuthFailed, msg) }

// identityFrom derives the identity from a verified token's claims. The rules
// are in docs/auth.md.
func identityFrom(sub string, c *tokenClaims, n claimNames) (domain.Identity, error) {
	if sub == "" {
		return domain.Identity{}, authFailed("missing subject claim")
	}
	if len(sub) > maxSubjectLen || hasControl(sub) {
		return domain.Identity{}, authFailed("invalid subject claim")
	}
	email, err := c.email(n.email)
	if err != nil {
		return domain.Identity{}, err
	}
	tenant, err := c.tenant(n.tenant)
	if err != nil {
		return domain.Identity{}, err
	}
	role, err := c.role(n.role)
	if err != nil {
		return domain.Identity{}, err
	}
	perms, err := c.permissions(role)
	if err != nil {
		return domain.Identity{}, err
	}
	return domain.Identity{UserID: sub, Email: email, TenantID: tenant, Role: role, Permissions: perms}, nil
}

// str reads a string claim; present is false for an absent or null claim.
func (c *tokenClaims) str(name string) (v string, present bool, ok bool) {
	raw, exists := c.raw[name]
	if !exists || string(raw) == "null" {
		return "", false, true
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", true, false
	}
	return v, true, true
}

func (c *tokenClaims) email(namespaced string) (string, error) {
	for _, name := range []string{emailClaim, namespaced} {
		v, _, ok := c.str(name)
		if !ok || hasControl(v) {
			return "", authFailed("invalid email claim")
		}
		if v != "" {
			return v, nil
		}
	}
	return "", nil
}

// tenant reads org_id and the configured tenant claim. When both are set they
// must agree: a token naming two tenants is refused rather than guessed at.
func (c *tokenClaims) tenant(configured string) (string, error) {
	var tenant string
	for _, name := range []string{orgIDClaim, configured} {
		v, _, ok := c.str(name)
		if !ok || (v != "" && !validTenant(v)) {
			return "", authFailed("invalid tenant claim")
		}
		switch {
		case v == "":
		case tenant == "":
			tenant = v
		case v != tenant:
			return "", authFailed("conflicting tenant claims")
		}
	}
	if tenant == "" {
		return "", authFailed("missing tenant claim")
	}
	return tenant, nil
}

// validTenant keeps tenant ids to the characters of Auth0 organisation ids
// and slugs. Tenant ids become parts of upstream keys and routing hashes
// ("tenant:{id}/..."), where a "/" or ":" could reach another tenant's names.
func validTenant(s string) bool {
	if len(s) > maxTenantLen {
		return false
	}
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '_', r == '-', r == '.':
		default:
			return false
		}
	}
	return true
}

// role reads the role claim: a string naming one of the five roles, or an
// array (what an Auth0 Action copying event.authorization.roles writes), of
// which the highest of the five wins and other names are ignored. A token
// without the claim gets guest, the least privilege: a tenant member whose
// role was never assigned sees only what is shared with them.
func (c *tokenClaims) role(name string) (domain.Role, error) {
	raw, exists := c.raw[name]
	if !exists || string(raw) == "null" {
		return domain.RoleGuest, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		if r := domain.Role(one); r.Valid() {
			return r, nil
		}
		return "", authFailed("invalid role claim")
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return "", authFailed("invalid role claim")
	}
	for _, r := range domain.AllRoles { // highest first
		for _, m := range many {
			if domain.Role(m) == r {
				return r, nil
			}
		}
	}
	return "", authFailed("invalid role claim")
}

// permissions narrows the role's permissions to the token's Auth0 RBAC
// "permissions" array when there is one: a token may give up permissions its
// role holds, never gain one it does not. Names outside the thirteen (other
// APIs' scopes) are ignored.
func (c *tokenClaims) permissions(role domain.Role) ([]domain.Permission, error) {
	raw, exists := c.raw[permissionsClaim]
	if !exists || string(raw) == "null" {
		return role.Permissions(), nil
	}
	var listed []string
	if err := json.Unmarshal(raw, &listed); err != nil {
		return nil, authFailed("invalid permissions claim")
	}
	in := make(map[domain.Permission]bool, len(listed))
	for _, p := range listed {
		in[domain.Permission(p)] = true
	}
	out := []domain.Permission{} // an empty set is "[]" on the wire, not null
	for _, p := range role.Permissions() {
		if in[p] {
			out = append(out, p)
		}
	}
	return out, nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}
