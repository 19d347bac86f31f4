package contract

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// MemberStore checks the behaviour every ports.MemberStore must show.
// newStore is called once per subtest, like newReg in SessionRegistry.
func MemberStore(t *testing.T, newStore func(t *testing.T) ports.MemberStore) {
	ctx := context.Background()

	t.Run("put then get and list in user id order", func(t *testing.T) {
		s := newStore(t)
		tenant := newTenant()
		for _, id := range []string{"u-c", "u-a", "u-b"} {
			m := newMember(id, domain.RoleDeveloper)
			put, err := s.Put(ctx, tenant, m)
			require.NoError(t, err)
			assertSameJSON(t, m, put)
		}
		got, err := s.Get(ctx, tenant, "u-a")
		require.NoError(t, err)
		assertSameJSON(t, newMember("u-a", domain.RoleDeveloper), got)

		list, err := s.List(ctx, tenant)
		require.NoError(t, err)
		var ids []string
		for _, m := range list {
			ids = append(ids, m.UserID)
		}
		assert.Equal(t, []string{"u-a", "u-b", "u-c"}, ids)

		none, err := s.List(ctx, newTenant())
		require.NoError(t, err)
		assert.Empty(t, none)
	})

	t.Run("put replaces a member", func(t *testing.T) {
		s := newStore(t)
		tenant := newTenant()
		_, err := s.Put(ctx, tenant, newMember("u-1", domain.RoleViewer))
		require.NoError(t, err)
		_, err = s.Put(ctx, tenant, newMember("u-1", domain.RoleAdmin))
		require.NoError(t, err)
		got, err := s.Get(ctx, tenant, "u-1")
		require.NoError(t, err)
		assert.Equal(t, domain.RoleAdmin, got.Role)
		list, err := s.List(ctx, tenant)
		require.NoError(t, err)
		assert.Len(t, list, 1)
	})

	t.Run("an invalid role is refused", func(t *testing.T) {
		s := newStore(t)
		tenant := newTenant()
		for _, role := range []domain.Role{"", "root", "Owner"} {
			_, err := s.Put(ctx, tenant, newMember("u-1", role))
			requireKind(t, domain.KindInvalidMessage, err, "role %q", role)
		}
		_, err := s.Get(ctx, tenant, "u-1")
		requireKind(t, domain.KindNotFound, err)
	})

	t.Run("missing and deleted members are not found", func(t *testing.T) {
		s := newStore(t)
		tenant := newTenant()
		_, err := s.Get(ctx, tenant, "u-1")
		requireKind(t, domain.KindNotFound, err)
		requireKind(t, domain.KindNotFound, s.Delete(ctx, tenant, "u-1"))

		_, err = s.Put(ctx, tenant, newMember("u-1", domain.RoleOwner))
		require.NoError(t, err)
		require.NoError(t, s.Delete(ctx, tenant, "u-1"))
		_, err = s.Get(ctx, tenant, "u-1")
		requireKind(t, domain.KindNotFound, err)
		list, err := s.List(ctx, tenant)
		require.NoError(t, err)
		assert.Empty(t, list)
	})

	t.Run("another tenant sees nothing and changes nothing", func(t *testing.T) {
		s := newStore(t)
		a, b := newTenant(), newTenant()
		_, err := s.Put(ctx, a, newMember("u-1", domain.RoleOwner))
		require.NoError(t, err)
		_, err = s.Get(ctx, b, "u-1")
		requireKind(t, domain.KindNotFound, err)
		requireKind(t, domain.KindNotFound, s.Delete(ctx, b, "u-1"))
		list, err := s.List(ctx, b)
		require.NoError(t, err)
		assert.Empty(t, list)
		got, err := s.Get(ctx, a, "u-1")
		require.NoError(t, err)
		assert.Equal(t, domain.RoleOwner, got.Role)
	})

	t.Run("hostile ids name nothing", func(t *testing.T) {
		s := newStore(t)
		tenant := newTenant()
		_, err := s.Put(ctx, tenant, newMember("u-1", domain.RoleOwner))
		require.NoError(t, err)
		for _, id := range hostileIDs {
			_, err := s.Get(ctx, tenant, id)
			requireKind(t, domain.KindNotFound, err, "get %q", id)
			_, err = s.Get(ctx, id, "u-1")
			requireKind(t, domain.KindNotFound, err, "get in tenant %q", id)
			_, err = s.List(ctx, id)
			requireKind(t, domain.KindNotFound, err, "list tenant %q", id)
			requireKind(t, domain.KindNotFound, s.Delete(ctx, tenant, id), "delete %q", id)
			_, err = s.Put(ctx, tenant, newMember(id, domain.RoleOwner))
			requireKind(t, domain.KindInvalidMessage, err, "put %q", id)
			_, err = s.Put(ctx, id, newMember("u-1", domain.RoleOwner))
			requireKind(t, domain.KindInvalidMessage, err, "put in tenant %q", id)
		}
		list, err := s.List(ctx, tenant)
		require.NoError(t, err)
		assert.Len(t, list, 1)
	})

	t.Run("concurrent puts of different members all land", func(t *testing.T) {
		s := newStore(t)
		tenant := newTenant()
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = s.Put(ctx, tenant, newMember(fmt.Sprintf("u-%d", i), domain.RoleViewer))
			})
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		list, err := s.List(ctx, tenant)
		require.NoError(t, err)
		assert.Len(t, list, len(errs))
	})
}

func newMember(userID string, role domain.Role) domain.Member {
	return domain.Member{
		UserID: userID, Email: userID + "@example.com", Role: role,
		AddedAt: time.UnixMilli(1_760_000_000_000).UTC(),
	}
}
