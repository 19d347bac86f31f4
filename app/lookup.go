package app

import (
	"context"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// lookup fetches a session the identity may see. One it may not see is
// reported exactly like a missing one, as for another tenant's.
func lookup(ctx context.Context, reg ports.SessionRegistry, id domain.Identity, sessionID string) (domain.SessionRecord, error) {
	rec, err := reg.Get(ctx, id.TenantID, sessionID)
	if err != nil {
		return rec, err
	}
	if !id.Sees(&rec) {
		return domain.SessionRecord{}, domain.ErrSessionNotFound()
	}
	return rec, nil
}
