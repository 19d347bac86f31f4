package http

import (
	"context"
	"time"

	"github.com/diminuendo/diminuendo/adapters/apiconv"
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/domain"
)

// handlers implements the generated strict server over the app use cases.
type handlers struct{ s *Server }

var _ api.StrictServerInterface = (*handlers)(nil)

func (h *handlers) GetHealth(_ context.Context, _ api.GetHealthRequestObject) (api.GetHealthResponseObject, error) {
	r := h.s.health.Report()
	deps := make(map[string]api.DependencyHealth, len(r.Dependencies))
	for name, d := range r.Dependencies {
		at := d.CheckedAt
		lat := float32(d.LatencyMs)
		dh := api.DependencyHealth{Status: api.DependencyHealthStatus(d.Status), LatencyMs: &lat}
		if !at.IsZero() {
			dh.CheckedAt = &at
		}
		if d.Error != "" {
			e := d.Error
			dh.Error = &e
		}
		if b, ok := r.Breakers[name]; ok {
			bs := api.DependencyHealthBreaker(b)
			dh.Breaker = &bs
		}
		deps[name] = dh
	}
	out := api.Health{
		Status: api.HealthStatus(r.Status), Version: r.Version, UptimeSeconds: float32(r.Uptime / time.Second),
		Connections: r.Connections, ActiveSessions: r.ActiveSessions, Dependencies: deps,
	}
	instanceHealth(&out, r)
	return api.GetHealth200JSONResponse(out), nil
}

func (h *handlers) GetLivez(context.Context, api.GetLivezRequestObject) (api.GetLivezResponseObject, error) {
	return api.GetLivez200JSONResponse{Status: api.ProbeStatusOk}, nil
}

func (h *handlers) GetReadyz(context.Context, api.GetReadyzRequestObject) (api.GetReadyzResponseObject, error) {
	if !h.s.ready.Load() {
		return api.GetReadyz503JSONResponse{Status: api.ProbeStatusDraining}, nil
	}
	return api.GetReadyz200JSONResponse{Status: api.ProbeStatusOk}, nil
}

func (h *handlers) GetMe(ctx context.Context, _ api.GetMeRequestObject) (api.GetMeResponseObject, error) {
	id, err := identityFrom(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetMe200JSONResponse(apiconv.Identity(id)), nil
}

func (h *handlers) ListSessions(ctx context.Context, req api.ListSessionsRequestObject) (api.ListSessionsResponseObject, error) {
	id, err := identityFrom(ctx)
	if err != nil {
		return nil, err
	}
	list, err := h.s.hub.ListSessions(ctx, id, req.Params.IncludeArchived != nil && *req.Params.IncludeArchived)
	if err != nil {
		return nil, err
	}
	return api.ListSessions200JSONResponse{Sessions: apiconv.Metas(list)}, nil
}

func (h *handlers) CreateSession(ctx context.Context, req api.CreateSessionRequestObject) (api.CreateSessionResponseObject, error) {
	id, err := identityFrom(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, domain.E(domain.KindInvalidMessage, "a JSON body is required")
	}
	m, err := h.s.hub.CreateSession(ctx, id, req.Body.AgentType, deref(req.Body.Name), deref(req.Body.ProjectId))
	if err != nil {
		return nil, err
	}
	return api.CreateSession201JSONResponse(apiconv.Meta(m)), nil
}

func (h *handlers) GetSession(ctx context.Context, req api.GetSessionRequestObject) (api.GetSessionResponseObject, error) {
	id, err := identityFrom(ctx)
	if err != nil {
		return nil, err
	}
	m, err := h.s.hub.GetSession(ctx, id, req.SessionId)
	if err != nil {
		return nil, err
	}
	return api.GetSession200JSONResponse(apiconv.Meta(m)), nil
}

func (h *handlers) RunTurn(ctx context.Context, req api.RunTurnRequestObject) (api.RunTurnResponseObject, error) {
	id, err := identityFrom(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, domain.E(domain.KindInvalidMessage, "a JSON body is required")
	}
	if err := h.s.hub.RunTurn(ctx, id, req.SessionId, req.Body.Text, deref(req.Body.ClientTurnId)); err != nil {
		return nil, err
	}
	return api.RunTurn202JSONResponse{SessionId: req.SessionId, Accepted: true, ClientTurnId: req.Body.ClientTurnId}, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
