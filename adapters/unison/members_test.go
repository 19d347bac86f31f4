package unison_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/diminuendo/diminuendo/adapters/unison"
	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
	"github.com/diminuendo/diminuendo/ports/contract"
)

func TestMembersContract(t *testing.T) {
	contract.MemberStore(t, func(t *testing.T) ports.MemberStore {
		_, base := startSim(t)
		return unison.NewMembers(newClient(t, base))
	})
}

func TestMembersKeepHostileIDsAwayFromUnison(t *testing.T) {
	sim, base := startSim(t)
	s := unison.NewMembers(newClient(t, base))
	ctx := context.Background()
	for _, id := range []string{"", "..", "../sessions/s1", "a/b", "a%2Fb"} {
		_, err := s.Get(ctx, "acme", id)
		requireKind(t, domain.KindNotFound, err)
		_, err = s.List(ctx, id)
		requireKind(t, domain.KindNotFound, err)
		requireKind(t, domain.KindNotFound, s.Delete(ctx, "acme", id))
		_, err = s.Put(ctx, "acme", domain.Member{UserID: id, Role: domain.RoleViewer})
		requireKind(t, domain.KindInvalidMessage, err)
	}
	assert.Zero(t, sim.Requests())
}
