package domain

// Identity is who is calling, resolved from a verified token (or the fixed
// developer identity in dev mode). TenantID scopes every port call.
type Identity struct {
	UserID      string       `json:"userId"`
	Email       string       `json:"email"`
	TenantID    string       `json:"tenantId"`
	Role        Role         `json:"role"`
	Permissions []Permission `json:"permissions"`
}

// Can reports whether the identity holds permission p.
func (id Identity) Can(p Permission) bool {
	for _, q := range id.Permissions {
		if q == p {
			return true
		}
	}
	return false
}

// Require returns a FORBIDDEN error naming p when the identity lacks it.
func (id Identity) Require(p Permission) error {
	if id.Can(p) {
		return nil
	}
	return ErrForbidden(p)
}

// DevIdentity is the fixed identity of dev mode.
func DevIdentity() Identity {
	return Identity{
		UserID:      "dev-user-001",
		Email:       "developer@example.com",
		TenantID:    "dev",
		Role:        RoleOwner,
		Permissions: RoleOwner.Permissions(),
	}
}

// Sees reports whether the identity may see rec at all (given
// sessions.read): members from viewer up see the tenant's sessions; a guest
// has limited access and sees only the sessions it created.
func (id Identity) Sees(rec *SessionRecord) bool {
	return rec.TenantID == id.TenantID && (id.Role != RoleGuest || rec.CreatedBy == id.UserID)
}

// Refresh checks that next may replace id on a live connection: a fresh
// token of the same user in the same tenant. Switching either needs a new
// connection, so nothing a connection already joined leaks across them.
func (id Identity) Refresh(next Identity) error {
	if id.UserID != next.UserID || id.TenantID != next.TenantID {
		return E(KindAuthFailed, "a connection keeps its user and tenant; reconnect to switch")
	}
	return nil
}
