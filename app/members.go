package app

import (
	"context"
	"strings"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// Members manages a tenant's members and their roles.
type Members struct {
	store ports.MemberStore
	clock ports.Clock
}

// NewMembers builds the members use case.
func NewMembers(store ports.MemberStore, clock ports.Clock) *Members {
	return &Members{store: store, clock: clock}
}

// Member actions of manage_members.
const (
	MemberList   = "list"
	MemberAdd    = "add"
	MemberUpdate = "update"
	MemberRemove = "remove"
)

// Manage performs action and returns the tenant's members afterwards. Only
// members.manage may change anything, and nobody may hand out or take away
// a role above their own; the last owner cannot be removed or demoted.
func (m *Members) Manage(ctx context.Context, id domain.Identity, action, userID, email string, role domain.Role) ([]domain.Member, error) {
	switch action {
	case MemberList:
		if err := id.Require(domain.PermMembersRead); err != nil {
			return nil, err
		}
		return m.store.List(ctx, id.TenantID)
	case MemberAdd, MemberUpdate, MemberRemove:
	default:
		return nil, domain.E(domain.KindInvalidMessage, "action must be list, add, update or remove")
	}
	if err := id.Require(domain.PermMembersManage); err != nil {
		return nil, err
	}
	if !domain.ValidID(userID) {
		return nil, domain.E(domain.KindInvalidMessage, "userId is required (at most 128 characters of [A-Za-z0-9._:-])")
	}
	current, err := m.store.Get(ctx, id.TenantID, userID)
	exists := err == nil
	if err != nil && domain.KindOf(err) != domain.KindNotFound {
		return nil, err
	}
	if exists && current.Role.Outranks(id.Role) {
		return nil, domain.E(domain.KindForbidden, "cannot change a member whose role is above yours")
	}
	switch action {
	case MemberAdd, MemberUpdate:
		if !role.Valid() {
			return nil, domain.E(domain.KindInvalidMessage, "role must be owner, admin, developer, viewer or guest")
		}
		if role.Outranks(id.Role) {
			return nil, domain.E(domain.KindForbidden, "cannot grant a role above your own")
		}
		if action == MemberAdd && exists {
			return nil, domain.E(domain.KindInvalidState, "already a member; use update")
		}
		if action == MemberUpdate && !exists {
			return nil, domain.ErrMemberNotFound()
		}
		if exists && current.Role == domain.RoleOwner && role != domain.RoleOwner {
			if err := m.keepAnOwner(ctx, id.TenantID, userID); err != nil {
				return nil, err
			}
		}
		mem := domain.Member{UserID: userID, Email: strings.TrimSpace(email), Role: role, AddedAt: m.clock.Now()}
		if exists {
			mem.AddedAt = current.AddedAt
			if mem.Email == "" {
				mem.Email = current.Email
			}
		}
		if len(mem.Email) > 320 {
			return nil, domain.E(domain.KindInvalidMessage, "email is at most 320 characters")
		}
		if _, err := m.store.Put(ctx, id.TenantID, mem); err != nil {
			return nil, err
		}
	case MemberRemove:
		if !exists {
			return nil, domain.ErrMemberNotFound()
		}
		if current.Role == domain.RoleOwner {
			if err := m.keepAnOwner(ctx, id.TenantID, userID); err != nil {
				return nil, err
			}
		}
		if err := m.store.Delete(ctx, id.TenantID, userID); err != nil {
			return nil, err
		}
	}
	return m.store.List(ctx, id.TenantID)
}

func (m *Members) keepAnOwner(ctx context.Context, tenantID, leaving string) error {
	all, err := m.store.List(ctx, tenantID)
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.Role == domain.RoleOwner && o.UserID != leaving {
			return nil
		}
	}
	return domain.E(domain.KindInvalidState, "a tenant keeps at least one owner")
}
