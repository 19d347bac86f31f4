package unison

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// Registry keeps session records in Unison, one key per session under
// tenant:{tenantId}/sessions. The record's Version is the entry's version.
type Registry struct{ c *Client }

var _ ports.SessionRegistry = (*Registry)(nil)

// NewRegistry returns the session registry over c.
func NewRegistry(c *Client) *Registry { return &Registry{c: c} }

func sessionsNS(tenantID string) string { return "tenant:" + tenantID + "/sessions" }

// Create stores a new record; an id already in use is KindConflict.
func (r *Registry) Create(ctx context.Context, rec domain.SessionRecord) (domain.SessionRecord, error) {
	if !domain.ValidID(rec.TenantID) || !domain.ValidID(rec.ID) {
		return domain.SessionRecord{}, domain.E(domain.KindInvalidMessage, "invalid session id")
	}
	e, err := r.c.Put(ctx, sessionsNS(rec.TenantID), rec.ID, rec, IfAbsent())
	if domain.KindOf(err) == domain.KindConflict {
		return domain.SessionRecord{}, domain.Wrap(domain.KindConflict, "session already exists", err)
	}
	if err != nil {
		return domain.SessionRecord{}, err
	}
	rec.Version = e.Version
	return rec, nil
}

func (r *Registry) Get(ctx context.Context, tenantID, sessionID string) (domain.SessionRecord, error) {
	if !domain.ValidID(tenantID) || !domain.ValidID(sessionID) {
		return domain.SessionRecord{}, domain.ErrSessionNotFound()
	}
	e, err := r.c.Get(ctx, sessionsNS(tenantID), sessionID)
	if domain.KindOf(err) == domain.KindNotFound {
		return domain.SessionRecord{}, domain.ErrSessionNotFound()
	}
	if err != nil {
		return domain.SessionRecord{}, err
	}
	rec, ok, err := decodeSession(e, tenantID)
	if err != nil {
		return domain.SessionRecord{}, err
	}
	if !ok {
		return domain.SessionRecord{}, domain.ErrSessionNotFound()
	}
	return rec, nil
}

// List returns the tenant's records in id order.
func (r *Registry) List(ctx context.Context, tenantID string) ([]domain.SessionRecord, error) {
	if !domain.ValidID(tenantID) {
		return nil, domain.ErrSessionNotFound()
	}
	entries, err := r.c.List(ctx, sessionsNS(tenantID), "")
	if err != nil {
		return nil, err
	}
	out := make([]domain.SessionRecord, 0, len(entries))
	for _, e := range entries {
		rec, ok, err := decodeSession(e, tenantID)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, rec)
		}
	}
	return out, nil
}

// Update writes rec if rec.Version is still the stored version. A record
// that does not exist (in rec's tenant) is SESSION_NOT_FOUND, not a conflict.
func (r *Registry) Update(ctx context.Context, rec domain.SessionRecord) (domain.SessionRecord, error) {
	if !domain.ValidID(rec.TenantID) || !domain.ValidID(rec.ID) {
		return domain.SessionRecord{}, domain.ErrSessionNotFound()
	}
	if rec.Version < 1 {
		// Version 0 would mean "create" to Unison; a record never read has
		// no version to compare.
		return domain.SessionRecord{}, domain.E(domain.KindConflict, "session record has no version")
	}
	e, err := r.c.Put(ctx, sessionsNS(rec.TenantID), rec.ID, rec, IfVersion(rec.Version))
	var ce *ConflictError
	if errors.As(err, &ce) {
		if ce.CurrentVersion == 0 {
			return domain.SessionRecord{}, domain.ErrSessionNotFound()
		}
		return domain.SessionRecord{}, domain.Wrap(domain.KindConflict, "session was changed concurrently", err)
	}
	if err != nil {
		return domain.SessionRecord{}, err
	}
	rec.Version = e.Version
	return rec, nil
}

func (r *Registry) Delete(ctx context.Context, tenantID, sessionID string) error {
	if !domain.ValidID(tenantID) || !domain.ValidID(sessionID) {
		return domain.ErrSessionNotFound()
	}
	err := r.c.Delete(ctx, sessionsNS(tenantID), sessionID, Always())
	if domain.KindOf(err) == domain.KindNotFound {
		return domain.ErrSessionNotFound()
	}
	return err
}

// decodeSession reads a stored record. One that names another tenant or
// key than where it is stored is treated as absent (ok false): the
// namespace is what isolates tenants, and a misfiled record must not leak.
func decodeSession(e Entry, tenantID string) (domain.SessionRecord, bool, error) {
	var rec domain.SessionRecord
	if err := json.Unmarshal(e.Value, &rec); err != nil {
		return rec, false, domain.Wrap(domain.KindInternal, "corrupt session record", err)
	}
	if rec.TenantID != tenantID || rec.ID != e.Key {
		return domain.SessionRecord{}, false, nil
	}
	rec.Version = e.Version
	return rec, true, nil
}
