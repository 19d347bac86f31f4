package client

import (
	"context"
	"encoding/json"

	"github.com/diminuendo/diminuendo/api"
)

// sessionMessage is rename_session, archive_session, unarchive_session,
// delete_session, leave_session and stop_turn.
type sessionMessage struct {
	Type      string  `json:"type"`
	SessionID string  `json:"sessionId"`
	Name      *string `json:"name,omitempty"`
	RequestID *string `json:"requestId,omitempty"`
}

// fileMessage is list_files, read_file, file_history and file_at_iteration.
type fileMessage struct {
	Type      string  `json:"type"`
	SessionID string  `json:"sessionId"`
	Path      *string `json:"path,omitempty"`
	Depth     *int    `json:"depth,omitempty"`
	Iteration *int64  `json:"iteration,omitempty"`
	RequestID *string `json:"requestId,omitempty"`
}

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
	var r api.SessionList
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

type sessionReply struct {
	Session api.SessionMeta `json:"session"`
}

// CreateSession creates a session (state inactive until joined or used).
func (c *Client) CreateSession(ctx context.Context, s NewSession) (api.SessionMeta, error) {
	var r sessionReply
	err := c.call(ctx, &r, func(rid *string) any {
		return api.CreateSessionMessage{Type: "create_session", AgentType: s.AgentType, Name: ptr(s.Name), ProjectId: ptr(s.ProjectID), RequestId: rid}
	})
	return r.Session, err
}

func (c *Client) updateSession(ctx context.Context, typ, sessionID string, name *string) (api.SessionMeta, error) {
	var r sessionReply
	err := c.call(ctx, &r, func(rid *string) any {
		return sessionMessage{Type: typ, SessionID: sessionID, Name: name, RequestID: rid}
	})
	return r.Session, err
}

// RenameSession renames a session.
func (c *Client) RenameSession(ctx context.Context, sessionID, name string) (api.SessionMeta, error) {
	return c.updateSession(ctx, "rename_session", sessionID, &name)
}

// ArchiveSession archives a session (it refuses turns until unarchived).
func (c *Client) ArchiveSession(ctx context.Context, sessionID string) (api.SessionMeta, error) {
	return c.updateSession(ctx, "archive_session", sessionID, nil)
}

// UnarchiveSession brings an archived session back.
func (c *Client) UnarchiveSession(ctx context.Context, sessionID string) (api.SessionMeta, error) {
	return c.updateSession(ctx, "unarchive_session", sessionID, nil)
}

// DeleteSession deletes a session (admin and above).
func (c *Client) DeleteSession(ctx context.Context, sessionID string) error {
	return c.call(ctx, nil, func(rid *string) any {
		return sessionMessage{Type: "delete_session", SessionID: sessionID, RequestID: rid}
	})
}

// Leave stops following a session on this connection.
func (c *Client) Leave(ctx context.Context, sessionID string) error {
	err := c.call(ctx, nil, func(rid *string) any {
		return sessionMessage{Type: "leave_session", SessionID: sessionID, RequestID: rid}
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
		return sessionMessage{Type: "stop_turn", SessionID: sessionID, RequestID: rid}
	})
}

// Steer adds guidance to the running turn and returns that turn's id;
// steer_applied follows when the agent takes it.
func (c *Client) Steer(ctx context.Context, sessionID, text string) (turnID string, err error) {
	var r api.SteerAccepted
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
func (c *Client) GetHistory(ctx context.Context, sessionID, beforeTurnID string, limit int) (*api.HistoryPage, error) {
	var r api.HistoryPage
	err := c.call(ctx, &r, func(rid *string) any {
		return api.GetHistoryMessage{Type: "get_history", SessionId: sessionID, BeforeTurnId: ptr(beforeTurnID), Limit: ptr(limit), RequestId: rid}
	})
	return &r, err
}

func (c *Client) file(ctx context.Context, out any, m fileMessage) error {
	return c.call(ctx, out, func(rid *string) any { m.RequestID = rid; return m })
}

// ListFiles lists the session's workspace under path ("" for the root),
// depth levels deep (0: one).
func (c *Client) ListFiles(ctx context.Context, sessionID, path string, depth int) (*api.FileList, error) {
	var r api.FileList
	err := c.file(ctx, &r, fileMessage{Type: "list_files", SessionID: sessionID, Path: ptr(path), Depth: ptr(depth)})
	return &r, err
}

// ReadFile reads a workspace file as it is now.
func (c *Client) ReadFile(ctx context.Context, sessionID, path string) (*api.FileContent, error) {
	var r api.FileContent
	err := c.file(ctx, &r, fileMessage{Type: "read_file", SessionID: sessionID, Path: &path})
	return &r, err
}

// FileHistory lists a workspace file's iterations.
func (c *Client) FileHistory(ctx context.Context, sessionID, path string) (*api.FileHistory, error) {
	var r api.FileHistory
	err := c.file(ctx, &r, fileMessage{Type: "file_history", SessionID: sessionID, Path: &path})
	return &r, err
}

// FileAtIteration reads a workspace file as it was at an iteration (from 1).
func (c *Client) FileAtIteration(ctx context.Context, sessionID, path string, iteration int64) (*api.FileContent, error) {
	var r api.FileContent
	err := c.file(ctx, &r, fileMessage{Type: "file_at_iteration", SessionID: sessionID, Path: &path, Iteration: &iteration})
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
	var r api.MemberList
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
