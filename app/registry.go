package app

import (
	"context"
	"encoding/json"

	"github.com/diminuendo/diminuendo/domain"
)

// updateRecord applies change to the session's record with compare-and-set,
// retrying when another writer got there first.
func (h *Hub) updateRecord(ctx context.Context, tenantID, sessionID string, change func(*domain.SessionRecord) error) (domain.SessionRecord, error) {
	for attempt := 0; attempt < 4; attempt++ {
		rec, err := h.reg.Get(ctx, tenantID, sessionID)
		if err != nil {
			return rec, err
		}
		if err := change(&rec); err != nil {
			return rec, err
		}
		rec.UpdatedAt = h.clock.Now()
		updated, err := h.reg.Update(ctx, rec)
		if err == nil {
			if ls := h.peek(tenantID, sessionID); ls != nil {
				ls.mu.Lock()
				if updated.Version > ls.rec.Version {
					ls.rec = updated
				}
				ls.mu.Unlock()
			}
			return updated, nil
		}
		if domain.KindOf(err) != domain.KindConflict {
			return rec, err
		}
	}
	return domain.SessionRecord{}, domain.E(domain.KindConflict, "the session changed concurrently; retry")
}

// RenameSession sets the session's name.
func (h *Hub) RenameSession(ctx context.Context, id domain.Identity, sessionID, name string) (domain.SessionMeta, error) {
	if err := id.Require(domain.PermSessionsWrite); err != nil {
		return domain.SessionMeta{}, err
	}
	if err := checkName(name); err != nil {
		return domain.SessionMeta{}, err
	}
	if name == "" {
		return domain.SessionMeta{}, domain.E(domain.KindInvalidMessage, "name must not be empty")
	}
	rec, err := h.updateRecord(ctx, id.TenantID, sessionID, func(r *domain.SessionRecord) error { r.Name = name; return nil })
	if err != nil {
		return domain.SessionMeta{}, err
	}
	return h.meta(&rec), nil
}

// SetArchived archives or unarchives the session. An archived session keeps
// its history but runs no turns.
func (h *Hub) SetArchived(ctx context.Context, id domain.Identity, sessionID string, archived bool) (domain.SessionMeta, error) {
	if err := id.Require(domain.PermSessionsWrite); err != nil {
		return domain.SessionMeta{}, err
	}
	rec, err := h.updateRecord(ctx, id.TenantID, sessionID, func(r *domain.SessionRecord) error { r.Archived = archived; return nil })
	if err != nil {
		return domain.SessionMeta{}, err
	}
	return h.meta(&rec), nil
}

type sessionDeletedFrame struct {
	Type      string `json:"type"`
	SessionID string `json:"sessionId"`
}

// DeleteSession stops the session's instance, removes its record and tells
// every attached connection, except the one asking (it gets the reply).
func (h *Hub) DeleteSession(ctx context.Context, id domain.Identity, sessionID string, asker ...Subscriber) error {
	if err := id.Require(domain.PermSessionsDelete); err != nil {
		return err
	}
	rec, err := lookup(ctx, h.reg, id, sessionID)
	if err != nil {
		return err
	}
	if ls := h.peek(id.TenantID, sessionID); ls != nil {
		ls.mu.Lock()
		stop := ls.stopStream
		ls.stream, ls.stopStream, ls.gone = nil, nil, true
		b, _ := json.Marshal(sessionDeletedFrame{Type: "session_deleted", SessionID: sessionID})
		for _, a := range asker {
			delete(ls.subs, a)
		}
		ls.deliver(Frame{Type: "session_deleted", Data: b})
		ls.subs = map[Subscriber]string{}
		ls.mu.Unlock()
		if stop != nil {
			stop()
		}
		h.forget(ls)
	}
	if g, open := rec.Current(); open {
		if err := h.rt.StopInstance(ctx, g.InstanceID); err != nil {
			return err
		}
	}
	return h.reg.Delete(ctx, id.TenantID, sessionID)
}
