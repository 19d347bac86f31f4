package http

import (
	"context"

	"github.com/diminuendo/diminuendo/adapters/apiconv"
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

// WithAgentTypes gives the server the agent types use case (GET /api/agent-types).
func (s *Server) WithAgentTypes(a *app.AgentTypes) *Server {
	s.ext.agentTypes = a
	return s
}

func (h *handlers) ListAgentTypes(ctx context.Context, _ api.ListAgentTypesRequestObject) (api.ListAgentTypesResponseObject, error) {
	id, err := identityFrom(ctx)
	if err != nil {
		return nil, err
	}
	if h.s.ext.agentTypes == nil {
		return nil, domain.E(domain.KindNotFound, "the agent types are not available")
	}
	types, err := h.s.ext.agentTypes.List(ctx, id)
	if err != nil {
		return nil, err
	}
	return api.ListAgentTypes200JSONResponse{AgentTypes: apiconv.AgentTypes(types)}, nil
}
