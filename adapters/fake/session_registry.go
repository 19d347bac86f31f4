package fake

import (
	"context"
	"encoding/json"
	"sort"
	"sync"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// SessionRegistry is an in-memory ports.SessionRegistry with the semantics
// of the Unison one: per-record versions from 1 that keep counting across a
// delete, compare-and-set updates, tenant scoping and the same id rule.
type SessionRegistry struct {
	mu       sync.Mutex
	byTenant map[string]map[string]*versionedSession
}

var _ ports.SessionRegistry = (*SessionRegistry)(nil)

// versionedSession holds a record as JSON, so callers never share its slices, and
// outlives a delete to keep the version counting.
type versionedSession struct {
	live    bool
	version int64
	data    []byte
}

func NewSessionRegistry() *SessionRegistry {
	return &SessionRegistry{byTenant: map[string]map[string]*versionedSession{}}
}

func (r *SessionRegistry) Create(ctx context.Context, rec domain.SessionRecord) (domain.SessionRecord, error) {
	if err := ctx.Err(); err != nil {
		return domain.SessionRecord{}, err
	}
	if !domain.ValidID(rec.TenantID) || !domain.ValidID(rec.ID) {
		return domain.SessionRecord{}, domain.E(domain.KindInvalidMessage, "invalid session id")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.slot(rec.TenantID, rec.ID)
	if v.live {
		return domain.SessionRecord{}, domain.E(domain.KindConflict, "session already exists")
	}
	return r.write(v, rec)
}

func (r *SessionRegistry) Get(ctx context.Context, tenantID, sessionID string) (domain.SessionRecord, error) {
	if err := ctx.Err(); err != nil {
		return domain.SessionRecord{}, err
	}
	if !domain.ValidID(tenantID) || !domain.ValidID(sessionID) {
		return domain.SessionRecord{}, domain.ErrSessionNotFound()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.byTenant[tenantID][sessionID]
	if v == nil || !v.live {
		return domain.SessionRecord{}, domain.ErrSessionNotFound()
	}
	return v.record()
}

func (r *SessionRegistry) List(ctx context.Context, tenantID string) ([]domain.SessionRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !domain.ValidID(tenantID) {
		return nil, domain.ErrSessionNotFound()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]string, 0, len(r.byTenant[tenantID]))
	for id, v := range r.byTenant[tenantID] {
		if v.live {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	out := make([]domain.SessionRecord, 0, len(ids))
	for _, id := range ids {
		rec, err := r.byTenant[tenantID][id].record()
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

func (r *SessionRegistry) Update(ctx context.Context, rec domain.SessionRecord) (domain.SessionRecord, error) {
	if err := ctx.Err(); err != nil {
		return domain.SessionRecord{}, err
	}
	if !domain.ValidID(rec.TenantID) || !domain.ValidID(rec.ID) {
		return domain.SessionRecord{}, domain.ErrSessionNotFound()
	}
	if rec.Version < 1 {
		return domain.SessionRecord{}, domain.E(domain.KindConflict, "session record has no version")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.byTenant[rec.TenantID][rec.ID]
	switch {
	case v == nil || !v.live:
		return domain.SessionRecord{}, domain.ErrSessionNotFound()
	case v.version != rec.Version:
		return domain.SessionRecord{}, domain.E(domain.KindConflict, "session was changed concurrently")
	}
	return r.write(v, rec)
}

func (r *SessionRegistry) Delete(ctx context.Context, tenantID, sessionID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !domain.ValidID(tenantID) || !domain.ValidID(sessionID) {
		return domain.ErrSessionNotFound()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.byTenant[tenantID][sessionID]
	if v == nil || !v.live {
		return domain.ErrSessionNotFound()
	}
	v.live, v.data = false, nil
	return nil
}

func (r *SessionRegistry) slot(tenantID, id string) *versionedSession {
	byID := r.byTenant[tenantID]
	if byID == nil {
		byID = map[string]*versionedSession{}
		r.byTenant[tenantID] = byID
	}
	v := byID[id]
	if v == nil {
		v = &versionedSession{}
		byID[id] = v
	}
	return v
}

func (r *SessionRegistry) write(v *versionedSession, rec domain.SessionRecord) (domain.SessionRecord, error) {
	data, err := json.Marshal(rec)
	if err != nil {
		return domain.SessionRecord{}, domain.Wrap(domain.KindInternal, "cannot encode session record", err)
	}
	v.live, v.data = true, data
	v.version++
	return v.record()
}

func (v *versionedSession) record() (domain.SessionRecord, error) {
	var rec domain.SessionRecord
	if err := json.Unmarshal(v.data, &rec); err != nil {
		return domain.SessionRecord{}, domain.Wrap(domain.KindInternal, "corrupt session record", err)
	}
	rec.Version = v.version
	return rec, nil
}
