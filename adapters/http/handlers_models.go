package http

import (
	"context"

	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

// WithModels gives the server the model catalog use case (GET /api/models).
func (s *Server) WithModels(m *app.Models) *Server {
	s.ext.models = m
	return s
}

func (h *handlers) ListModels(ctx context.Context, _ api.ListModelsRequestObject) (api.ListModelsResponseObject, error) {
	id, err := identityFrom(ctx)
	if err != nil {
		return nil, err
	}
	if h.s.ext.models == nil {
		return nil, domain.E(domain.KindNotFound, "the model catalog is not available")
	}
	models, err := h.s.ext.models.List(ctx, id)
	if err != nil {
		return nil, err
	}
	out := api.ListModels200JSONResponse{Models: make([]api.Model, len(models))}
	for i, m := range models {
		cw, in, outp := m.ContextWindow, m.InputPricePerMTok, m.OutputPricePerMTok
		out.Models[i] = api.Model{Id: m.ID, Provider: m.Provider, Streaming: m.Streaming, Tools: m.Tools,
			ContextWindow: &cw, InputPricePerMTok: &in, OutputPricePerMTok: &outp}
	}
	return out, nil
}
