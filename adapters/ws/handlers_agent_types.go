package ws

import (
	"context"

	"github.com/diminuendo/diminuendo/adapters/apiconv"
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

// WithAgentTypes gives the server the agent types use case (list_agent_types).
func (s *Server) WithAgentTypes(a *app.AgentTypes) *Server {
	s.agentTypes = a
	s.handlers["list_agent_types"] = s.handleAgentTypes
	return s
}

func (s *Server) handleAgentTypes(ctx context.Context, c *conn, id domain.Identity, _ []byte, rid string) error {
	types, err := s.agentTypes.List(ctx, id)
	if err != nil {
		return err
	}
	c.push(encode(api.AgentTypesReply{Type: api.AgentTypesReplyTypeAgentTypes, RequestId: optional(rid), AgentTypes: apiconv.AgentTypes(types)}))
	return nil
}
