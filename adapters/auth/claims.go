package auth

import (
	"slices"
	"time"
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

// The claims a token's payload is read for, as indexes into claimSet.
const (
	claimIss = iota
	claimSub
	claimAud
	claimExp
	claimNbf
	claimIat
	claimOrgID
	claimEmail
	claimPermissions
	claimTenant  // configured, org_id by default
	claimRole    // configured
	claimEmailNS // configured
	numClaims
)

// claimSet holds the raw JSON values of the claims read, found in one pass
// over the payload (eachMember). The configured names may repeat a fixed
// one (the tenant claim is org_id by default), so one member can fill two
// slots. A nil slot is an absent claim.
type claimSet struct {
	raw [numClaims][]byte
}

// claimKeys are the member names of the claimSet slots.
type claimKeys [numClaims]string

func (n claimNames) keys() claimKeys {
	return claimKeys{
		claimIss: "iss", claimSub: "sub", claimAud: "aud", claimExp: "exp", claimNbf: "nbf", claimIat: "iat",
		claimOrgID: orgIDClaim, claimEmail: emailClaim, claimPermissions: permissionsClaim,
		claimTenant: n.tenant, claimRole: n.role, claimEmailNS: n.email,
	}
}

// parseClaims reads payload, a JSON object, into a claimSet. A repeated
// member keeps its last value, as encoding/json would.
func parseClaims(payload []byte, keys *claimKeys) (*claimSet, error) {
	c := &claimSet{}
	err := eachMember(payload, func(key string, raw []byte) {
		for i := range keys {
			if keys[i] == key {
				c.raw[i] = raw
			}
		}
	})
	if err != nil {
		return nil, authFailed("invalid token")
	}
	return c, nil
}

// str reads a string claim; present is false for an absent or null claim.
func (c *claimSet) str(slot int) (v string, present bool, ok bool) {
	raw := c.raw[slot]
	if raw == nil || isNull(raw) {
		return "", false, true
	}
	v, ok = decodeString(raw)
	return v, true, ok
}

// date reads a NumericDate claim; zero for an absent or null one.
func (c *claimSet) date(slot int) (time.Time, error) {
	raw := c.raw[slot]
	if raw == nil || isNull(raw) {
		return time.Time{}, nil
	}
	s, ok := decodeNumericDate(raw)
	if !ok {
		return time.Time{}, authFailed("invalid token")
	}
	if s == 0 {
		return time.Time{}, nil
	}
	return time.Unix(s, 0), nil
}

// hasAudience reports whether aud (a string or an array of strings) names
// audience. Any other shape is refused as invalid.
func (c *claimSet) hasAudience(audience string) bool {
	raw := c.raw[claimAud]
	if raw == nil {
		return false
	}
	if raw[0] == '"' {
		return stringIs(raw, audience)
	}
	many, ok := decodeStrings(raw)
	if !ok {
		return false
	}
	for _, a := range many {
		if a == audience {
			return true
		}
	}
	return false
}

// claimNames are the configured names of the claims read besides the
// registered ones.
type claimNames struct {
	tenant, role, email string
}

func authFailed(msg string) *domain.Error { return domain.E(domain.KindAuthFailed, msg) }

// identityFrom derives the identity from a verified token's claims. The rules
// are in docs/auth.md.
func identityFrom(c *claimSet) (domain.Identity, error) {
	sub, _, ok := c.str(claimSub)
	if !ok {
		return domain.Identity{}, authFailed("invalid token")
	}
	if sub == "" {
		return domain.Identity{}, authFailed("missing subject claim")
	}
	if len(sub) > maxSubjectLen || hasControl(sub) {
		return domain.Identity{}, authFailed("invalid subject claim")
	}
	email, err := c.email()
	if err != nil {
		return domain.Identity{}, err
	}
	tenant, err := c.tenant()
	if err != nil {
		return domain.Identity{}, err
	}
	role, err := c.role()
	if err != nil {
		return domain.Identity{}, err
	}
	perms, err := c.permissions(role)
	if err != nil {
		return domain.Identity{}, err
	}
	return domain.Identity{UserID: sub, Email: email, TenantID: tenant, Role: role, Permissions: perms}, nil
}

func (c *claimSet) email() (string, error) {
	for _, slot := range [...]int{claimEmail, claimEmailNS} {
		v, _, ok := c.str(slot)
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
func (c *claimSet) tenant() (string, error) {
	var tenant string
	for _, slot := range [...]int{claimOrgID, claimTenant} {
		v, _, ok := c.str(slot)
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
func (c *claimSet) role() (domain.Role, error) {
	raw := c.raw[claimRole]
	if raw == nil || isNull(raw) {
		return domain.RoleGuest, nil
	}
	if one, ok := decodeString(raw); ok {
		// The role is one of domain's constants, not a copy out of the
		// token, so an identity holds no string of its own for it.
		for _, r := range domain.AllRoles {
			if string(r) == one {
				return r, nil
			}
		}
		return "", authFailed("invalid role claim")
	}
	many, ok := decodeStrings(raw)
	if !ok {
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
func (c *claimSet) permissions(role domain.Role) ([]domain.Permission, error) {
	raw := c.raw[claimPermissions]
	if raw == nil || isNull(raw) {
		return role.Permissions(), nil
	}
	listed, ok := decodeStrings(raw)
	if !ok {
		return nil, authFailed("invalid permissions claim")
	}
	granted := role.Permissions()
	out := granted[:0] // an empty set is "[]" on the wire, not null
	if out == nil {
		out = []domain.Permission{}
	}
	for _, p := range granted {
		if slices.Contains(listed, string(p)) {
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
