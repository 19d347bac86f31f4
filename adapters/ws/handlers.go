package ws

import (
	"context"

	"github.com/diminuendo/diminuendo/adapters/apiconv"
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

func (s *Server) routes() map[string]handler {
	return map[string]handler{
		"authenticate":      s.handleAuthenticate,
		"ping":              s.handlePing,
		"list_sessions":     s.handleListSessions,
		"create_session":    s.handleCreateSession,
		"rename_session":    s.handleRename,
		"archive_session":   s.handleArchive(true),
		"unarchive_session": s.handleArchive(false),
		"delete_session":    s.handleDelete,
		"join_session":      s.handleJoin,
		"leave_session":     s.handleLeave,
		"run_turn":          s.handleRunTurn,
		"stop_turn":         s.handleStopTurn,
		"steer":             s.handleSteer,
		"answer_question":   s.handleAnswer,
		"get_events":        s.handleGetEvents,
		"get_history":       s.handleHistory,
	}
}

func (s *Server) handlePing(_ context.Context, c *conn, _ domain.Identity, raw []byte, rid string) error {
	var m api.PingMessage
	if err := decode(raw, &m); err != nil {
		return err
	}
	ts := nowMs()
	if m.Ts != nil {
		ts = *m.Ts
	}
	c.push(encode(api.Pong{Type: api.PongTypePong, RequestId: optional(rid), Ts: ts, ServerTs: nowMs()}))
	return nil
}

func (s *Server) handleListSessions(ctx context.Context, c *conn, id domain.Identity, raw []byte, rid string) error {
	var m api.ListSessionsMessage
	if err := decode(raw, &m); err != nil {
		return err
	}
	list, err := s.hub.ListSessions(ctx, id, m.IncludeArchived != nil && *m.IncludeArchived)
	if err != nil {
		return err
	}
	c.push(encode(api.SessionListReply{Type: api.SessionListReplyTypeSessionList, RequestId: optional(rid), Sessions: apiconv.Metas(list)}))
	return nil
}

func (s *Server) handleCreateSession(ctx context.Context, c *conn, id domain.Identity, raw []byte, rid string) error {
	var m api.CreateSessionMessage
	if err := decode(raw, &m); err != nil {
		return err
	}
	meta, err := s.hub.CreateSession(ctx, id, m.AgentType, deref(m.Name), deref(m.ProjectId))
	if err != nil {
		return err
	}
	c.push(encode(api.SessionCreatedReply{Type: api.SessionCreatedReplyTypeSessionCreated, RequestId: optional(rid), Session: apiconv.Meta(meta)}))
	return nil
}

func (s *Server) handleRename(ctx context.Context, c *conn, id domain.Identity, raw []byte, rid string) error {
	var m struct {
		SessionId string  `json:"sessionId"`
		Name      *string `json:"name"` // present, to tell a missing name from an empty one
	}
	if err := decode(raw, &m); err != nil {
		return err
	}
	if err := requireField(m.SessionId != "" && m.Name != nil, "sessionId and name are required"); err != nil {
		return err
	}
	meta, err := s.hub.RenameSession(ctx, id, m.SessionId, *m.Name)
	if err != nil {
		return err
	}
	c.push(sessionUpdated(rid, meta))
	return nil
}

func (s *Server) handleArchive(archived bool) handler {
	return func(ctx context.Context, c *conn, id domain.Identity, raw []byte, rid string) error {
		// archive_session and unarchive_session have the same fields.
		var m api.ArchiveSessionMessage
		if err := decode(raw, &m); err != nil {
			return err
		}
		if err := requireField(m.SessionId != "", "sessionId is required"); err != nil {
			return err
		}
		meta, err := s.hub.SetArchived(ctx, id, m.SessionId, archived)
		if err != nil {
			return err
		}
		c.push(sessionUpdated(rid, meta))
		return nil
	}
}

func sessionUpdated(rid string, meta domain.SessionMeta) []byte {
	return encode(api.SessionUpdatedReply{Type: api.SessionUpdatedReplyTypeSessionUpdated, RequestId: optional(rid), Session: apiconv.Meta(meta)})
}

func (s *Server) handleDelete(ctx context.Context, c *conn, id domain.Identity, raw []byte, rid string) error {
	var m api.DeleteSessionMessage
	if err := decode(raw, &m); err != nil {
		return err
	}
	if err := requireField(m.SessionId != "", "sessionId is required"); err != nil {
		return err
	}
	if err := s.hub.DeleteSession(ctx, id, m.SessionId, c); err != nil {
		return err
	}
	c.mu.Lock()
	delete(c.joined, m.SessionId)
	c.mu.Unlock()
	c.push(encode(api.SessionDeletedReply{Type: api.SessionDeletedReplyTypeSessionDeleted, RequestId: optional(rid), SessionId: m.SessionId}))
	return nil
}

func (s *Server) handleJoin(ctx context.Context, c *conn, id domain.Identity, raw []byte, rid string) error {
	var m api.JoinSessionMessage
	if err := decode(raw, &m); err != nil {
		return err
	}
	if err := requireField(m.SessionId != "", "sessionId is required"); err != nil {
		return err
	}
	req := app.JoinRequest{SessionID: m.SessionId, Epoch: deref(m.Epoch)}
	if m.AfterSeq != nil {
		if *m.AfterSeq < 0 {
			return domain.E(domain.KindInvalidMessage, "afterSeq must be at least 0")
		}
		a := uint64(*m.AfterSeq)
		req.AfterSeq = &a
	}
	c.mu.Lock()
	_, again := c.joined[m.SessionId]
	c.mu.Unlock()
	if again {
		// A second join on the same connection re-attaches from the cursor
		// given, so detach first: one connection gets each event once.
		_ = s.hub.Leave(id, m.SessionId, c)
	}
	err := s.hub.Join(ctx, id, req, c, func(snap app.Snapshot) app.Frame {
		f, err := apiconv.Snapshot(m.SessionId, snap)
		if err != nil {
			// Stored events always encode; should one not, say so rather
			// than send a partial snapshot.
			return app.Frame{Type: string(api.ErrorEventTypeError), Data: s.errorFrame(CodeInternal, "could not encode the snapshot", rid)}
		}
		f.RequestId = optional(rid)
		return app.Frame{Type: string(f.Type), Data: encode(f)}
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.joined[m.SessionId] = struct{}{}
	c.mu.Unlock()
	return nil
}

func (s *Server) handleLeave(_ context.Context, c *conn, id domain.Identity, raw []byte, rid string) error {
	var m api.LeaveSessionMessage
	if err := decode(raw, &m); err != nil {
		return err
	}
	c.mu.Lock()
	_, joined := c.joined[m.SessionId]
	delete(c.joined, m.SessionId)
	c.mu.Unlock()
	if !joined {
		return domain.ErrSessionNotFound()
	}
	_ = s.hub.Leave(id, m.SessionId, c)
	c.push(encode(api.SessionLeftReply{Type: api.SessionLeftReplyTypeSessionLeft, RequestId: optional(rid), SessionId: m.SessionId}))
	return nil
}

func (s *Server) handleRunTurn(ctx context.Context, _ *conn, id domain.Identity, raw []byte, _ string) error {
	var m api.RunTurnMessage
	if err := decode(raw, &m); err != nil {
		return err
	}
	if err := requireField(m.SessionId != "" && m.Text != "", "sessionId and text are required"); err != nil {
		return err
	}
	return s.hub.RunTurn(ctx, id, m.SessionId, m.Text, deref(m.ClientTurnId))
}

func (s *Server) handleStopTurn(ctx context.Context, _ *conn, id domain.Identity, raw []byte, _ string) error {
	var m api.StopTurnMessage
	if err := decode(raw, &m); err != nil {
		return err
	}
	if err := requireField(m.SessionId != "", "sessionId is required"); err != nil {
		return err
	}
	return s.hub.StopTurn(ctx, id, m.SessionId)
}

func (s *Server) handleSteer(ctx context.Context, c *conn, id domain.Identity, raw []byte, rid string) error {
	var m api.SteerMessage
	if err := decode(raw, &m); err != nil {
		return err
	}
	if err := requireField(m.SessionId != "" && m.Text != "", "sessionId and text are required"); err != nil {
		return err
	}
	turnID, err := s.hub.Steer(ctx, id, m.SessionId, m.Text)
	if err != nil {
		return err
	}
	c.push(encode(api.SteerAcceptedReply{Type: api.SteerAcceptedReplyTypeSteerAccepted, RequestId: optional(rid), SessionId: m.SessionId, TurnId: turnID}))
	return nil
}

func (s *Server) handleAnswer(ctx context.Context, _ *conn, id domain.Identity, raw []byte, _ string) error {
	var m api.AnswerQuestionMessage
	if err := decode(raw, &m); err != nil {
		return err
	}
	if err := requireField(m.SessionId != "" && m.PromptId != "", "sessionId and promptId are required"); err != nil {
		return err
	}
	var answers map[string]any
	if m.Answers != nil {
		answers = *m.Answers
	}
	return s.hub.Answer(ctx, id, m.SessionId, m.PromptId, m.Approved, answers, m.Dismissed)
}

func (s *Server) handleGetEvents(ctx context.Context, c *conn, id domain.Identity, raw []byte, rid string) error {
	var m api.GetEventsMessage
	if err := decode(raw, &m); err != nil {
		return err
	}
	if err := requireField(m.SessionId != "" && m.AfterSeq >= 0, "sessionId and afterSeq ≥ 0 are required"); err != nil {
		return err
	}
	limit := 0
	if m.Limit != nil {
		if *m.Limit < 1 || *m.Limit > app.MaxEventsPage {
			return domain.E(domain.KindInvalidMessage, "limit must be 1-1000")
		}
		limit = *m.Limit
	}
	page, err := s.hub.GetEvents(ctx, id, m.SessionId, uint64(m.AfterSeq), limit)
	if err != nil {
		return err
	}
	evs, err := apiconv.Events(page.Events)
	if err != nil {
		return domain.Wrap(domain.KindInternal, "could not encode the events", err)
	}
	c.push(encode(api.EventsReply{Type: api.EventsReplyTypeEvents, RequestId: optional(rid), SessionId: m.SessionId,
		Epoch: page.Epoch, Events: evs, LatestSeq: int64(page.LatestSeq), HasMore: page.HasMore}))
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
