package app

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/diminuendo/diminuendo/domain"
)

// CreateSession registers a new session in state inactive; its agent starts
// when a client joins it or runs a turn.
func (h *Hub) CreateSession(ctx context.Context, id domain.Identity, agentType, name, projectID string) (domain.SessionMeta, error) {
	if err := id.Require(domain.PermSessionsCreate); err != nil {
		return domain.SessionMeta{}, err
	}
	agentType = strings.TrimSpace(agentType)
	if agentType == "" || len(agentType) > domain.MaxAgentTypeLen || !isToken(agentType) {
		return domain.SessionMeta{}, domain.E(domain.KindInvalidMessage, "agentType must be 1-64 characters of [A-Za-z0-9._-]")
	}
	if err := checkName(name); err != nil {
		return domain.SessionMeta{}, err
	}
	if len(projectID) > 128 || (projectID != "" && !isToken(projectID)) {
		return domain.SessionMeta{}, domain.E(domain.KindInvalidMessage, "projectId must be at most 128 characters of [A-Za-z0-9._-]")
	}
	if err := h.requireOffered(ctx, agentType); err != nil {
		return domain.SessionMeta{}, err
	}
	if name == "" {
		name = "Untitled session"
	}
	now := h.clock.Now()
	rec, err := h.reg.Create(ctx, domain.SessionRecord{
		ID: newID("ses_"), TenantID: id.TenantID, Name: name, AgentType: agentType, ProjectID: projectID,
		CreatedBy: id.UserID, CreatedAt: now, UpdatedAt: now, Epoch: newEpoch(),
	})
	if err != nil {
		return domain.SessionMeta{}, err
	}
	return rec.Meta(domain.StateInactive, 0), nil
}

// ListSessions lists the caller's tenant's sessions.
func (h *Hub) ListSessions(ctx context.Context, id domain.Identity, includeArchived bool) ([]domain.SessionMeta, error) {
	if err := id.Require(domain.PermSessionsRead); err != nil {
		return nil, err
	}
	recs, err := h.reg.List(ctx, id.TenantID)
	if err != nil {
		return nil, err
	}
	out := make([]domain.SessionMeta, 0, len(recs))
	for i := range recs {
		if recs[i].Archived && !includeArchived || !id.Sees(&recs[i]) {
			continue
		}
		out = append(out, h.meta(&recs[i]))
	}
	return out, nil
}

// GetSession returns one session of the caller's tenant.
func (h *Hub) GetSession(ctx context.Context, id domain.Identity, sessionID string) (domain.SessionMeta, error) {
	if err := id.Require(domain.PermSessionsRead); err != nil {
		return domain.SessionMeta{}, err
	}
	rec, err := lookup(ctx, h.reg, id, sessionID)
	if err != nil {
		return domain.SessionMeta{}, err
	}
	return h.meta(&rec), nil
}

// meta is the client view of rec, with live state when the session is
// active here. Elsewhere the registry's closed seq is the best known.
func (h *Hub) meta(rec *domain.SessionRecord) domain.SessionMeta {
	if ls := h.peek(rec.TenantID, rec.ID); ls != nil {
		ls.mu.Lock()
		defer ls.mu.Unlock()
		return rec.Meta(ls.state, ls.latest)
	}
	return rec.Meta(domain.StateInactive, rec.ClosedSeq())
}

func checkName(name string) error {
	if len(name) > domain.MaxSessionNameLen || !utf8.ValidString(name) {
		return domain.E(domain.KindInvalidMessage, "name must be valid UTF-8 of at most 200 bytes")
	}
	return nil
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
