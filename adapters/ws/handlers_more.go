package ws

import (
	"context"

	"github.com/diminuendo/diminuendo/adapters/apiconv"
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

// WithMembers gives the server the members use case (manage_members).
func (s *Server) WithMembers(m *app.Members) *Server {
	s.members = m
	s.handlers["manage_members"] = s.handleMembers
	return s
}

func (s *Server) handleHistory(ctx context.Context, c *conn, id domain.Identity, raw []byte, rid string) error {
	var m api.GetHistoryMessage
	if err := decode(raw, &m); err != nil {
		return err
	}
	if err := requireField(m.SessionId != "", "sessionId is required"); err != nil {
		return err
	}
	limit := 0
	if m.Limit != nil {
		if *m.Limit < 1 || *m.Limit > app.MaxHistoryTurns {
			return domain.E(domain.KindInvalidMessage, "limit must be 1-100")
		}
		limit = *m.Limit
	}
	page, err := s.hub.GetHistory(ctx, id, m.SessionId, deref(m.BeforeTurnId), limit)
	if err != nil {
		return err
	}
	c.push(encode(api.HistoryReply{Type: api.HistoryReplyTypeHistory, RequestId: optional(rid), SessionId: m.SessionId,
		Turns: apiconv.Turns(page.Turns), HasMore: page.HasMore}))
	return nil
}

func (s *Server) handleMembers(ctx context.Context, c *conn, id domain.Identity, raw []byte, rid string) error {
	var m api.ManageMembersMessage
	if err := decode(raw, &m); err != nil {
		return err
	}
	var role domain.Role
	if m.Role != nil {
		role = domain.Role(*m.Role)
	}
	members, err := s.members.Manage(ctx, id, string(m.Action), deref(m.UserId), deref(m.Email), role)
	if err != nil {
		return err
	}
	c.push(encode(api.MemberListReply{Type: api.MemberListReplyTypeMemberList, RequestId: optional(rid), Members: apiconv.Members(members)}))
	return nil
}
