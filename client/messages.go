package client

import (
	"context"
	"encoding/json"

	"github.com/diminuendo/diminuendo/api"
)

func ptr[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// call sends the message build makes with a fresh requestId and decodes
// the reply into out (when not nil).
func (c *Client) call(ctx context.Context, out any, build func(rid *string) any) error {
	rid := c.newID()
	ev, err := c.roundTrip(ctx, rid, build(&rid))
	if err != nil || out == nil {
		return err
	}
	return ev.Decode(out)
}

func (c *Client) do(ctx context.Context, build func(rid *string) any) error {
	rid := c.newID()
	return c.command(ctx, rid, build(&rid))
}

// ListSessions lists the tenant's sessions visible to the caller.
func (c *Client) ListSessions(ctx context.Context, includeArchived bool) ([]api.SessionMeta, error) {
	var r api.SessionListReply
	err := c.call(ctx, &r, func(rid *string) any {
		return api.ListSessionsMessage{Type: "list_sessions", IncludeArchived: &includeArchived, RequestId: rid}
	})
	return r.Sessions, err
}

// NewSession describes a session to create. AgentType is required.
type NewSession struct {
	AgentType string
	Name      string // default "Untitled session"
	ProjectID string
}

// CreateSession creates a session (state inactive until joined or used).
func (c *Client) CreateSession(ctx context.Context, s NewSession) (api.SessionMeta, error) {
	var r api.SessionCreatedReply
	err := c.call(ctx, &r, func(rid *string) any {
		return api.CreateSessionMessage{Type: "create_session", AgentType: s.AgentType, Name: ptr(s.Name), ProjectId: ptr(s.ProjectID), RequestId: rid}
	})
	return r.Session, err
}

func (c *Client) updateSession(ctx context.Context, msg func(rid *string) any) (api.SessionMeta, error) {
	var r api.SessionUpdatedReply
	err := c.call(ctx, &r, msg)
	return r.Session, err
}

// RenameSession renames a session.
func (c *Client) RenameSession(ctx context.Context, sessionID, name string) (api.SessionMeta, error) {
	return c.updateSession(ctx, func(rid *string) any {
		return api.RenameSessionMessage{Type: "rename_session", SessionId: sessionID, Name: name, RequestId: rid}
	})
}

// ArchiveSession archives a session (it refuses turns until unarchived).
func (c *Client) ArchiveSession(ctx context.Context, sessionID string) (api.SessionMeta, error) {
	return c.updateSession(ctx, func(rid *string) any {
		return api.ArchiveSessionMessage{Type: "archive_session", SessionId: sessionID, RequestId: rid}
	})
}

// UnarchiveSession brings an archived session back.
func (c *Client) UnarchiveSession(ctx context.Context, sessionID string) (api.SessionMeta, error) {
	return c.updateSession(ctx, func(rid *string) any {
		return api.UnarchiveSessionMessage{Type: "unarchive_session", SessionId: sessionID, RequestId: rid}
	})
}

// DeleteSession deletes a session (admin and above).
func (c *Client) DeleteSession(ctx context.Context, sessionID string) error {
	return c.call(ctx, nil, func(rid *string) any {
		return api.DeleteSessionMessage{Type: "delete_session", SessionId: sessionID, RequestId: rid}
	})
}

// Leave stops following a session on this connection.
func (c *Client) Leave(ctx context.Context, sessionID string) error {
	err := c.call(ctx, nil, func(rid *string) any {
		return api.LeaveSessionMessage{Type: "leave_session", SessionId: sessionID, RequestId: rid}
	})
	c.forget(sessionID)
	return err
}

// RunTurn starts a turn. Its events (from user_message, which echoes
// clientTurnID, to turn_complete or turn_error) arrive on Events for a
// joined session. It returns the gateway's refusal, if any, e.g.
// INVALID_STATE when the session is not ready.
func (c *Client) RunTurn(ctx context.Context, sessionID, text, clientTurnID string) error {
	return c.do(ctx, func(rid *string) any {
		return api.RunTurnMessage{Type: "run_turn", SessionId: sessionID, Text: text, ClientTurnId: ptr(clientTurnID), RequestId: rid}
	})
}

// StopTurn cancels the running turn; it ends with turn_complete
// {stopReason: "cancelled"}.
func (c *Client) StopTurn(ctx context.Context, sessionID string) error {
	return c.do(ctx, func(rid *string) any {
		return api.StopTurnMessage{Type: "stop_turn", SessionId: sessionID, RequestId: rid}
	})
}

// Steer adds guidance to the running turn and returns that turn's id;
// steer_applied follows when the agent takes it.
func (c *Client) Steer(ctx context.Context, sessionID, text string) (turnID string, err error) {
	var r api.SteerAcceptedReply
	err = c.call(ctx, &r, func(rid *string) any {
		return api.SteerMessage{Type: "steer", SessionId: sessionID, Text: text, RequestId: rid}
	})
	return r.TurnId, err
}

// Answer is the answer to a prompt: Approved for permission_requested,
// Answers (keyed as the agent's questions are) for question_requested,
// Dismissed to decline either.
type Answer struct {
	Approved  *bool
	Answers   map[string]any
	Dismissed bool
}

// Answer answers a pending prompt (answer_question); approval_resolved
// follows.
func (c *Client) Answer(ctx context.Context, sessionID, promptID string, a Answer) error {
	return c.do(ctx, func(rid *string) any {
		m := api.AnswerQuestionMessage{Type: "answer_question", SessionId: sessionID, PromptId: promptID,
			Approved: a.Approved, Dismissed: ptr(a.Dismissed), RequestId: rid}
		if a.Answers != nil {
			m.Answers = &a.Answers
		}
		return m
	})
}

// Approve grants a permission prompt.
func (c *Client) Approve(ctx context.Context, sessionID, promptID string) error {
	yes := true
	return c.Answer(ctx, sessionID, promptID, Answer{Approved: &yes})
}

// Deny refuses a permission prompt.
func (c *Client) Deny(ctx context.Context, sessionID, promptID string) error {
	no := false
	return c.Answer(ctx, sessionID, promptID, Answer{Approved: &no})
}

// EventsPage is a page of a session's stored events.
type EventsPage struct {
	SessionID string
	Epoch     string
	Events    []Event
	LatestSeq int64
	HasMore   bool
}

// GetEvents returns the stored events after afterSeq, at most limit (0:
// the gateway's default of 1000). It works without joining.
func (c *Client) GetEvents(ctx context.Context, sessionID string, afterSeq int64, limit int) (*EventsPage, error) {
	var r struct {
		SessionID string            `json:"sessionId"`
		Epoch     string            `json:"epoch"`
		Events    []json.RawMessage `json:"events"`
		LatestSeq int64             `json:"latestSeq"`
		HasMore   bool              `json:"hasMore"`
	}
	err := c.call(ctx, &r, func(rid *string) any {
		return api.GetEventsMessage{Type: "get_events", SessionId: sessionID, AfterSeq: afterSeq, Limit: ptr(limit), RequestId: rid}
	})
	if err != nil {
		return nil, err
	}
	page := &EventsPage{SessionID: r.SessionID, Epoch: r.Epoch, LatestSeq: r.LatestSeq, HasMore: r.HasMore}
	for _, raw := range r.Events {
		ev, err := parseEvent(raw)
		if err != nil {
			return nil, err
		}
		page.Events = append(page.Events, ev)
	}
	return page, nil
}

// GetHistory returns the session's turns, newest limit (0: 20) before
// beforeTurnID ("" for the newest), oldest first.
func (c *Client) GetHistory(ctx context.Context, sessionID, beforeTurnID string, limit int) (*api.HistoryReply, error) {
	var r api.HistoryReply
	err := c.call(ctx, &r, func(rid *string) any {
		return api.GetHistoryMessage{Type: "get_history", SessionId: sessionID, BeforeTurnId: ptr(beforeTurnID), Limit: ptr(limit), RequestId: rid}
	})
	return &r, err
}

// ListFiles lists the session's workspace under path ("" for the root),
// depth levels deep (0: one).
func (c *Client) ListFiles(ctx context.Context, sessionID, path string, depth int) (*api.FileListReply, error) {
	var r api.FileListReply
	err := c.call(ctx, &r, func(rid *string) any {
		return api.ListFilesMessage{Type: "list_files", SessionId: sessionID, Path: ptr(path), Depth: ptr(depth), RequestId: rid}
	})
	return &r, err
}

// ReadFile reads a workspace file as it is now.
func (c *Client) ReadFile(ctx context.Context, sessionID, path string) (*api.FileContentReply, error) {
	var r api.FileContentReply
	err := c.call(ctx, &r, func(rid *string) any {
		return api.ReadFileMessage{Type: "read_file", SessionId: sessionID, Path: path, RequestId: rid}
	})
	return &r, err
}

// FileHistory lists a workspace file's iterations.
func (c *Client) FileHistory(ctx context.Context, sessionID, path string) (*api.FileHistoryReply, error) {
	var r api.FileHistoryReply
	err := c.call(ctx, &r, func(rid *string) any {
		return api.FileHistoryMessage{Type: "file_history", SessionId: sessionID, Path: path, RequestId: rid}
	})
	return &r, err
}

// FileAtIteration reads a workspace file as it was at an iteration (from 1).
func (c *Client) FileAtIteration(ctx context.Context, sessionID, path string, iteration int64) (*api.FileContentReply, error) {
	var r api.FileContentReply
	err := c.call(ctx, &r, func(rid *string) any {
		return api.FileAtIterationMessage{Type: "file_at_iteration", SessionId: sessionID, Path: path, Iteration: iteration, RequestId: rid}
	})
	return &r, err
}

// MemberChange is a manage_members request: Action is list, add, update
// or remove.
type MemberChange struct {
	Action string
	UserID string
	Email  string
	Role   string
}

// ManageMembers applies a change to the tenant's members and returns the
// member list after it.
func (c *Client) ManageMembers(ctx context.Context, m MemberChange) ([]api.Member, error) {
	var r api.MemberListReply
	err := c.call(ctx, &r, func(rid *string) any {
		msg := api.ManageMembersMessage{Type: "manage_members", Action: api.ManageMembersMessageAction(m.Action),
			UserId: ptr(m.UserID), Email: ptr(m.Email), RequestId: rid}
		if m.Role != "" {
			role := api.Role(m.Role)
			msg.Role = &role
		}
		return msg
	})
	return r.Members, err
}

// ListAgentTypes lists the agent types sessions can be created with.
func (c *Client) ListAgentTypes(ctx context.Context) ([]api.AgentType, error) {
	var r api.AgentTypesReply
	err := c.call(ctx, &r, func(rid *string) any {
		return api.ListAgentTypesMessage{Type: "list_agent_types", RequestId: rid}
	})
	return r.AgentTypes, err
}
