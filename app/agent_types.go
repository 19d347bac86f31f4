package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// AgentTypes lists the agent types new sessions may use: what the runtime
// has deployed, so a client offers only agents that can actually run.
type AgentTypes struct{ runtime ports.AgentRuntime }

// NewAgentTypes builds the agent types use case.
func NewAgentTypes(rt ports.AgentRuntime) *AgentTypes { return &AgentTypes{runtime: rt} }

// List returns the offer; any authenticated member may read it.
func (a *AgentTypes) List(ctx context.Context, id domain.Identity) ([]domain.AgentType, error) {
	if err := id.Require(domain.PermSessionsRead); err != nil {
		return nil, err
	}
	types, err := a.runtime.AgentTypes(ctx)
	if err != nil {
		return nil, err
	}
	if types == nil {
		types = []domain.AgentType{}
	}
	return types, nil
}

// requireOffered refuses an agent type the runtime has not deployed, naming
// those it has: a session of any other type could never run.
func (h *Hub) requireOffered(ctx context.Context, agentType string) error {
	types, err := h.rt.AgentTypes(ctx)
	if err != nil {
		return err
	}
	ids := make([]string, len(types))
	for i, t := range types {
		if t.ID == agentType {
			return nil
		}
		ids[i] = t.ID
	}
	return domain.E(domain.KindInvalidMessage, fmt.Sprintf("unknown agent type %q; offered: %s", agentType, strings.Join(ids, ", ")))
}
