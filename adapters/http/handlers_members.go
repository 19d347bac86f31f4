package http

import (
	"context"

	"github.com/diminuendo/diminuendo/adapters/apiconv"
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

// WithMembers gives the server the members use case (the /api/members
// routes, the REST mirror of manage_members).
func (s *Server) WithMembers(m *app.Members) *Server {
	s.ext.members = m
	return s
}

// manageMembers runs one manage_members action and renders the member list
// it returns.
func (h *handlers) manageMembers(ctx context.Context, action, userID, email string, role domain.Role) (api.MemberList, error) {
	id, err := identityFrom(ctx)
	if err != nil {
		return api.MemberList{}, err
	}
	if h.s.ext.members == nil {
		return api.MemberList{}, domain.E(domain.KindNotFound, "members are not available")
	}
	list, err := h.s.ext.members.Manage(ctx, id, action, userID, email, role)
	if err != nil {
		return api.MemberList{}, err
	}
	return api.MemberList{Members: apiconv.Members(list)}, nil
}

func (h *handlers) ListMembers(ctx context.Context, _ api.ListMembersRequestObject) (api.ListMembersResponseObject, error) {
	list, err := h.manageMembers(ctx, app.MemberList, "", "", "")
	if err != nil {
		return nil, err
	}
	return api.ListMembers200JSONResponse(list), nil
}

func (h *handlers) AddMember(ctx context.Context, req api.AddMemberRequestObject) (api.AddMemberResponseObject, error) {
	if req.Body == nil {
		return nil, domain.E(domain.KindInvalidMessage, "a JSON body is required")
	}
	list, err := h.manageMembers(ctx, app.MemberAdd, req.Body.UserId, deref(req.Body.Email), domain.Role(req.Body.Role))
	if err != nil {
		return nil, err
	}
	return api.AddMember201JSONResponse(list), nil
}

func (h *handlers) UpdateMember(ctx context.Context, req api.UpdateMemberRequestObject) (api.UpdateMemberResponseObject, error) {
	if req.Body == nil {
		return nil, domain.E(domain.KindInvalidMessage, "a JSON body is required")
	}
	list, err := h.manageMembers(ctx, app.MemberUpdate, req.UserId, deref(req.Body.Email), domain.Role(req.Body.Role))
	if err != nil {
		return nil, err
	}
	return api.UpdateMember200JSONResponse(list), nil
}

func (h *handlers) RemoveMember(ctx context.Context, req api.RemoveMemberRequestObject) (api.RemoveMemberResponseObject, error) {
	list, err := h.manageMembers(ctx, app.MemberRemove, req.UserId, "", "")
	if err != nil {
		return nil, err
	}
	return api.RemoveMember200JSONResponse(list), nil
}
