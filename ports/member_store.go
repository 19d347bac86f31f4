package ports

import (
	"context"

	"github.com/diminuendo/diminuendo/domain"
)

// MemberStore holds each tenant's members and their roles (Unison). Every
// call is scoped by tenant: a member of another tenant is reported exactly
// like a missing one (KindNotFound).
type MemberStore interface {
	// List returns the tenant's members ordered by user id.
	List(ctx context.Context, tenantID string) ([]domain.Member, error)
	Get(ctx context.Context, tenantID, userID string) (domain.Member, error)
	// Put creates or replaces a member; the role must be valid.
	Put(ctx context.Context, tenantID string, m domain.Member) (domain.Member, error)
	Delete(ctx context.Context, tenantID, userID string) error
}
