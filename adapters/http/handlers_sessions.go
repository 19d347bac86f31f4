package http

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/diminuendo/diminuendo/adapters/apiconv"
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

// The REST mirror of the session messages of docs/protocol.md. Each handler calls
// the use case its WebSocket twin in adapters/ws calls, with the same checks.

// UpdateSession is rename_session, archive_session and unarchive_session in
// one PATCH. The name is applied first, so a bad name changes nothing.
func (h *handlers) UpdateSession(ctx context.Context, req api.UpdateSessionRequestObject) (api.UpdateSessionResponseObject, error) {
	id, err := identityFrom(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil || req.Body.Name == nil && req.Body.Archived == nil {
		return nil, domain.E(domain.KindInvalidMessage, "name or archived is required")
	}
	var meta domain.SessionMeta
	if req.Body.Name != nil {
		if meta, err = h.s.hub.RenameSession(ctx, id, req.SessionId, *req.Body.Name); err != nil {
			return nil, err
		}
	}
	if req.Body.Archived != nil {
		if meta, err = h.s.hub.SetArchived(ctx, id, req.SessionId, *req.Body.Archived); err != nil {
			return nil, err
		}
	}
	return api.UpdateSession200JSONResponse(apiconv.Meta(meta)), nil
}

func (h *handlers) DeleteSession(ctx context.Context, req api.DeleteSessionRequestObject) (api.DeleteSessionResponseObject, error) {
	id, err := identityFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.s.hub.DeleteSession(ctx, id, req.SessionId); err != nil {
		return nil, err
	}
	return api.DeleteSession204Response{}, nil
}

func (h *handlers) StopTurn(ctx context.Context, req api.StopTurnRequestObject) (api.StopTurnResponseObject, error) {
	id, err := identityFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.s.hub.StopTurn(ctx, id, req.SessionId); err != nil {
		return nil, err
	}
	return api.StopTurn202JSONResponse{SessionId: req.SessionId, Accepted: true}, nil
}

func (h *handlers) SteerTurn(ctx context.Context, req api.SteerTurnRequestObject) (api.SteerTurnResponseObject, error) {
	id, err := identityFrom(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil || req.Body.Text == "" {
		return nil, domain.E(domain.KindInvalidMessage, "text is required")
	}
	turnID, err := h.s.hub.Steer(ctx, id, req.SessionId, req.Body.Text)
	if err != nil {
		return nil, err
	}
	return api.SteerTurn202JSONResponse{SessionId: req.SessionId, TurnId: turnID}, nil
}

func (h *handlers) AnswerQuestion(ctx context.Context, req api.AnswerQuestionRequestObject) (api.AnswerQuestionResponseObject, error) {
	id, err := identityFrom(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil || req.Body.PromptId == "" {
		return nil, domain.E(domain.KindInvalidMessage, "promptId is required")
	}
	var answers map[string]any
	if req.Body.Answers != nil {
		answers = *req.Body.Answers
	}
	if err := h.s.hub.Answer(ctx, id, req.SessionId, req.Body.PromptId, req.Body.Approved, answers, req.Body.Dismissed); err != nil {
		return nil, err
	}
	return api.AnswerQuestion202JSONResponse{SessionId: req.SessionId, Accepted: true}, nil
}

func (h *handlers) GetEvents(ctx context.Context, req api.GetEventsRequestObject) (api.GetEventsResponseObject, error) {
	id, err := identityFrom(ctx)
	if err != nil {
		return nil, err
	}
	after := deref(req.Params.AfterSeq)
	if after < 0 {
		return nil, domain.E(domain.KindInvalidMessage, "afterSeq must be at least 0")
	}
	limit := 0
	if req.Params.Limit != nil {
		if *req.Params.Limit < 1 || *req.Params.Limit > app.MaxEventsPage {
			return nil, domain.E(domain.KindInvalidMessage, "limit must be 1-1000")
		}
		limit = *req.Params.Limit
	}
	page, err := h.s.hub.GetEvents(ctx, id, req.SessionId, uint64(after), limit)
	if err != nil {
		return nil, err
	}
	evs := page.Events
	if evs == nil {
		evs = []domain.Event{}
	}
	return eventsPageResponse{SessionID: req.SessionId, Epoch: page.Epoch, Events: evs, LatestSeq: page.LatestSeq, HasMore: page.HasMore}, nil
}

// eventsPageResponse is the EventsPage schema written with the domain's own
// event encoding, so that each event has the bytes it has on the WebSocket
// and the SSE stream (the generated SessionEvent would reorder its fields).
type eventsPageResponse struct {
	SessionID string         `json:"sessionId"`
	Epoch     string         `json:"epoch"`
	Events    []domain.Event `json:"events"`
	LatestSeq uint64         `json:"latestSeq"`
	HasMore   bool           `json:"hasMore"`
}

func (r eventsPageResponse) VisitGetEventsResponse(w http.ResponseWriter) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(append(b, '\n'))
	return err
}

func (h *handlers) GetHistory(ctx context.Context, req api.GetHistoryRequestObject) (api.GetHistoryResponseObject, error) {
	id, err := identityFrom(ctx)
	if err != nil {
		return nil, err
	}
	limit := 0
	if req.Params.Limit != nil {
		if *req.Params.Limit < 1 || *req.Params.Limit > app.MaxHistoryTurns {
			return nil, domain.E(domain.KindInvalidMessage, "limit must be 1-100")
		}
		limit = *req.Params.Limit
	}
	page, err := h.s.hub.GetHistory(ctx, id, req.SessionId, deref(req.Params.BeforeTurnId), limit)
	if err != nil {
		return nil, err
	}
	return api.GetHistory200JSONResponse{SessionId: req.SessionId, Turns: apiconv.Turns(page.Turns), HasMore: page.HasMore}, nil
}
