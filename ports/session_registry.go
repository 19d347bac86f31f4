package ports

import (
	"context"

	"github.com/diminuendo/diminuendo/domain"
)

// SessionRegistry is the durable registry of sessions (Unison). Every call is
// scoped by tenant: a session of another tenant is reported exactly like a
// missing one (KindSessionNotFound).
type SessionRegistry interface {
	Create(ctx context.Context, rec domain.SessionRecord) (domain.SessionRecord, error)
	Get(ctx context.Context, tenantID, sessionID string) (domain.SessionRecord, error)
	List(ctx context.Context, tenantID string) ([]domain.SessionRecord, error)
	// Update writes rec if its Version is still current (compare-and-set);
	// otherwise it fails with KindConflict.
	Update(ctx context.Context, rec domain.SessionRecord) (domain.SessionRecord, error)
	Delete(ctx context.Context, tenantID, sessionID string) error
}
