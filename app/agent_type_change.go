package app

import (
	"context"
	"strings"

	"github.com/diminuendo/diminuendo/domain"
)

// SetAgentType changes the agent type of a session that has never run: no
// agent instance was ever started for it, so no history belongs to the old
// type. Clients that pick the agent after creating the session (ACP's
// session config options) need this; afterwards the type is fixed.
func (h *Hub) SetAgentType(ctx context.Context, id domain.Identity, sessionID, agentType string) (domain.SessionMeta, error) {
	if err := id.Require(domain.PermSessionsWrite); err != nil {
		return domain.SessionMeta{}, err
	}
	agentType = strings.TrimSpace(agentType)
	if agentType == "" || len(agentType) > domain.MaxAgentTypeLen || !isToken(agentType) {
		return domain.SessionMeta{}, domain.E(domain.KindInvalidMessage, "agentType must be 1-64 characters of [A-Za-z0-9._-]")
	}
	if _, err := lookup(ctx, h.reg, id, sessionID); err != nil {
		return domain.SessionMeta{}, err
	}
	if err := h.requireOffered(ctx, agentType); err != nil {
		return domain.SessionMeta{}, err
	}
	if ls := h.peek(id.TenantID, sessionID); ls != nil {
		ls.mu.Lock()
		started := ls.state != domain.StateInactive || ls.latest > 0 || ls.activating != nil
		ls.mu.Unlock()
		if started {
			return domain.SessionMeta{}, domain.E(domain.KindInvalidState, "the agent type is fixed once the session has started")
		}
	}
	rec, err := h.updateRecord(ctx, id.TenantID, sessionID, func(r *domain.SessionRecord) error {
		if len(r.Generations) > 0 {
			return domain.E(domain.KindInvalidState, "the agent type is fixed once the session has started")
		}
		r.AgentType = agentType
		return nil
	})
	if err != nil {
		return domain.SessionMeta{}, err
	}
	return h.meta(&rec), nil
}
