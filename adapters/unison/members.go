package unison

import (
	"context"
	"encoding/json"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// Members keeps tenant members in Unison, one key per user id under
// tenant:{tenantId}/members.
type Members struct{ c *Client }

var _ ports.MemberStore = (*Members)(nil)

// NewMembers returns the member store over c.
func NewMembers(c *Client) *Members { return &Members{c: c} }

func membersNS(tenantID string) string { return "tenant:" + tenantID + "/members" }

// List returns the tenant's members in user id order.
func (s *Members) List(ctx context.Context, tenantID string) ([]domain.Member, error) {
	if !domain.ValidID(tenantID) {
		return nil, domain.ErrMemberNotFound()
	}
	entries, err := s.c.List(ctx, membersNS(tenantID), "")
	if err != nil {
		return nil, err
	}
	out := make([]domain.Member, 0, len(entries))
	for _, e := range entries {
		m, err := decodeMember(e)
		if err != nil {
			return nil, err
		}
		if m.UserID == e.Key {
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *Members) Get(ctx context.Context, tenantID, userID string) (domain.Member, error) {
	if !domain.ValidID(tenantID) || !domain.ValidID(userID) {
		return domain.Member{}, domain.ErrMemberNotFound()
	}
	e, err := s.c.Get(ctx, membersNS(tenantID), userID)
	if domain.KindOf(err) == domain.KindNotFound {
		return domain.Member{}, domain.ErrMemberNotFound()
	}
	if err != nil {
		return domain.Member{}, err
	}
	m, err := decodeMember(e)
	if err != nil {
		return domain.Member{}, err
	}
	if m.UserID != userID {
		return domain.Member{}, domain.ErrMemberNotFound()
	}
	return m, nil
}

// Put creates or replaces a member. It is an unconditional write, so it is
// not retried (see Client.Put).
func (s *Members) Put(ctx context.Context, tenantID string, m domain.Member) (domain.Member, error) {
	if !domain.ValidID(tenantID) || !domain.ValidID(m.UserID) {
		return domain.Member{}, domain.E(domain.KindInvalidMessage, "invalid user id")
	}
	if !m.Role.Valid() {
		return domain.Member{}, domain.E(domain.KindInvalidMessage, "invalid role")
	}
	if _, err := s.c.Put(ctx, membersNS(tenantID), m.UserID, m, Always()); err != nil {
		return domain.Member{}, err
	}
	return m, nil
}

func (s *Members) Delete(ctx context.Context, tenantID, userID string) error {
	if !domain.ValidID(tenantID) || !domain.ValidID(userID) {
		return domain.ErrMemberNotFound()
	}
	err := s.c.Delete(ctx, membersNS(tenantID), userID, Always())
	if domain.KindOf(err) == domain.KindNotFound {
		return domain.ErrMemberNotFound()
	}
	return err
}

func decodeMember(e Entry) (domain.Member, error) {
	var m domain.Member
	if err := json.Unmarshal(e.Value, &m); err != nil {
		return domain.Member{}, domain.Wrap(domain.KindInternal, "corrupt member record", err)
	}
	return m, nil
}
