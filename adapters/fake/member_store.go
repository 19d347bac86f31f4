package fake

import (
	"context"
	"encoding/json"
	"sort"
	"sync"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// MemberStore is an in-memory ports.MemberStore with the semantics of the
// Unison one: tenant scoping, upserts, the same id rule and role check.
type MemberStore struct {
	mu       sync.Mutex
	byTenant map[string]map[string][]byte
}

var _ ports.MemberStore = (*MemberStore)(nil)

func NewMemberStore() *MemberStore {
	return &MemberStore{byTenant: map[string]map[string][]byte{}}
}

func (s *MemberStore) List(ctx context.Context, tenantID string) ([]domain.Member, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !domain.ValidID(tenantID) {
		return nil, domain.ErrMemberNotFound()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.byTenant[tenantID]))
	for id := range s.byTenant[tenantID] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]domain.Member, 0, len(ids))
	for _, id := range ids {
		m, err := decodeMember(s.byTenant[tenantID][id])
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (s *MemberStore) Get(ctx context.Context, tenantID, userID string) (domain.Member, error) {
	if err := ctx.Err(); err != nil {
		return domain.Member{}, err
	}
	if !domain.ValidID(tenantID) || !domain.ValidID(userID) {
		return domain.Member{}, domain.ErrMemberNotFound()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.byTenant[tenantID][userID]
	if !ok {
		return domain.Member{}, domain.ErrMemberNotFound()
	}
	return decodeMember(data)
}

func (s *MemberStore) Put(ctx context.Context, tenantID string, m domain.Member) (domain.Member, error) {
	if err := ctx.Err(); err != nil {
		return domain.Member{}, err
	}
	if !domain.ValidID(tenantID) || !domain.ValidID(m.UserID) {
		return domain.Member{}, domain.E(domain.KindInvalidMessage, "invalid user id")
	}
	if !m.Role.Valid() {
		return domain.Member{}, domain.E(domain.KindInvalidMessage, "invalid role")
	}
	data, err := json.Marshal(m)
	if err != nil {
		return domain.Member{}, domain.Wrap(domain.KindInternal, "cannot encode member", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byTenant[tenantID] == nil {
		s.byTenant[tenantID] = map[string][]byte{}
	}
	s.byTenant[tenantID][m.UserID] = data
	return m, nil
}

func (s *MemberStore) Delete(ctx context.Context, tenantID, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !domain.ValidID(tenantID) || !domain.ValidID(userID) {
		return domain.ErrMemberNotFound()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byTenant[tenantID][userID]; !ok {
		return domain.ErrMemberNotFound()
	}
	delete(s.byTenant[tenantID], userID)
	return nil
}

func decodeMember(data []byte) (domain.Member, error) {
	var m domain.Member
	if err := json.Unmarshal(data, &m); err != nil {
		return domain.Member{}, domain.Wrap(domain.KindInternal, "corrupt member record", err)
	}
	return m, nil
}
