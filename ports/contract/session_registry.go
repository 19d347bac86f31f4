package contract

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// SessionRegistry checks the behaviour every ports.SessionRegistry must
// show. newReg is called once per subtest; it may return registries over
// one shared backend, since each subtest uses tenants of its own.
func SessionRegistry(t *testing.T, newReg func(t *testing.T) ports.SessionRegistry) {
	ctx := context.Background()

	t.Run("create returns a version and get returns the record", func(t *testing.T) {
		reg := newReg(t)
		rec := newRecord(newTenant())
		created, err := reg.Create(ctx, rec)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, created.Version, int64(1))
		assertSameJSON(t, rec, created)

		got, err := reg.Get(ctx, rec.TenantID, rec.ID)
		require.NoError(t, err)
		assertSameJSON(t, rec, got)
		assert.Equal(t, created.Version, got.Version)
	})

	t.Run("create with an id in use conflicts and keeps the first", func(t *testing.T) {
		reg := newReg(t)
		rec := newRecord(newTenant())
		first, err := reg.Create(ctx, rec)
		require.NoError(t, err)
		dup := rec
		dup.Name = "intruder"
		_, err = reg.Create(ctx, dup)
		requireKind(t, domain.KindConflict, err)
		got, err := reg.Get(ctx, rec.TenantID, rec.ID)
		require.NoError(t, err)
		assert.Equal(t, rec.Name, got.Name)
		assert.Equal(t, first.Version, got.Version)
	})

	t.Run("get of a missing session is SESSION_NOT_FOUND", func(t *testing.T) {
		_, err := newReg(t).Get(ctx, newTenant(), uuid.NewString())
		requireKind(t, domain.KindSessionNotFound, err)
	})

	t.Run("list returns the tenant's records and no others", func(t *testing.T) {
		reg := newReg(t)
		a, b := newTenant(), newTenant()
		var want []string
		for range 3 {
			rec, err := reg.Create(ctx, newRecord(a))
			require.NoError(t, err)
			want = append(want, rec.ID)
		}
		_, err := reg.Create(ctx, newRecord(b))
		require.NoError(t, err)

		got, err := reg.List(ctx, a)
		require.NoError(t, err)
		var ids []string
		for _, r := range got {
			ids = append(ids, r.ID)
			assert.Equal(t, a, r.TenantID)
			assert.GreaterOrEqual(t, r.Version, int64(1))
		}
		assert.ElementsMatch(t, want, ids)

		none, err := reg.List(ctx, newTenant())
		require.NoError(t, err)
		assert.Empty(t, none)
	})

	t.Run("update moves the version on; a stale version conflicts", func(t *testing.T) {
		reg := newReg(t)
		v1, err := reg.Create(ctx, newRecord(newTenant()))
		require.NoError(t, err)

		next := v1
		next.Name = "renamed"
		next.Generations = append(next.Generations, domain.Generation{InstanceID: "inst-3", BaseSeq: 42})
		v2, err := reg.Update(ctx, next)
		require.NoError(t, err)
		assert.Greater(t, v2.Version, v1.Version)

		stale := v1
		stale.Name = "stale"
		_, err = reg.Update(ctx, stale)
		requireKind(t, domain.KindConflict, err)

		got, err := reg.Get(ctx, v1.TenantID, v1.ID)
		require.NoError(t, err)
		assert.Equal(t, "renamed", got.Name)
		assert.Equal(t, v2.Version, got.Version)
		assertSameJSON(t, next, got)

		unread := got
		unread.Version = 0
		_, err = reg.Update(ctx, unread)
		requireKind(t, domain.KindConflict, err, "a record without a version cannot be compared")
	})

	t.Run("update of a missing session is SESSION_NOT_FOUND", func(t *testing.T) {
		rec := newRecord(newTenant())
		rec.Version = 1
		_, err := newReg(t).Update(ctx, rec)
		requireKind(t, domain.KindSessionNotFound, err)
	})

	t.Run("delete removes the session", func(t *testing.T) {
		reg := newReg(t)
		rec, err := reg.Create(ctx, newRecord(newTenant()))
		require.NoError(t, err)
		require.NoError(t, reg.Delete(ctx, rec.TenantID, rec.ID))

		_, err = reg.Get(ctx, rec.TenantID, rec.ID)
		requireKind(t, domain.KindSessionNotFound, err)
		requireKind(t, domain.KindSessionNotFound, reg.Delete(ctx, rec.TenantID, rec.ID))
		_, err = reg.Update(ctx, rec)
		requireKind(t, domain.KindSessionNotFound, err)
		list, err := reg.List(ctx, rec.TenantID)
		require.NoError(t, err)
		assert.Empty(t, list)

		again, err := reg.Create(ctx, rec)
		require.NoError(t, err, "a deleted id may be created again")
		assert.GreaterOrEqual(t, again.Version, int64(1))
	})

	t.Run("another tenant sees nothing and changes nothing", func(t *testing.T) {
		reg := newReg(t)
		a, b := newTenant(), newTenant()
		rec, err := reg.Create(ctx, newRecord(a))
		require.NoError(t, err)

		_, err = reg.Get(ctx, b, rec.ID)
		requireKind(t, domain.KindSessionNotFound, err)
		hijack := rec
		hijack.TenantID = b
		hijack.Name = "hijacked"
		_, err = reg.Update(ctx, hijack)
		requireKind(t, domain.KindSessionNotFound, err)
		requireKind(t, domain.KindSessionNotFound, reg.Delete(ctx, b, rec.ID))
		list, err := reg.List(ctx, b)
		require.NoError(t, err)
		assert.Empty(t, list)

		got, err := reg.Get(ctx, a, rec.ID)
		require.NoError(t, err)
		assert.Equal(t, rec.Name, got.Name)
		assert.Equal(t, rec.Version, got.Version)
	})

	t.Run("hostile ids name nothing", func(t *testing.T) {
		reg := newReg(t)
		tenant := newTenant()
		rec, err := reg.Create(ctx, newRecord(tenant))
		require.NoError(t, err)
		for _, id := range hostileIDs {
			_, err := reg.Get(ctx, tenant, id)
			requireKind(t, domain.KindSessionNotFound, err, "get session %q", id)
			_, err = reg.Get(ctx, id, rec.ID)
			requireKind(t, domain.KindSessionNotFound, err, "get in tenant %q", id)
			_, err = reg.List(ctx, id)
			requireKind(t, domain.KindSessionNotFound, err, "list tenant %q", id)
			requireKind(t, domain.KindSessionNotFound, reg.Delete(ctx, tenant, id), "delete %q", id)
			requireKind(t, domain.KindSessionNotFound, reg.Delete(ctx, id, rec.ID), "delete in tenant %q", id)

			bad := rec
			bad.ID = id
			_, err = reg.Update(ctx, bad)
			requireKind(t, domain.KindSessionNotFound, err, "update %q", id)
			_, err = reg.Create(ctx, bad)
			requireKind(t, domain.KindInvalidMessage, err, "create %q", id)
			bad = rec
			bad.TenantID = id
			_, err = reg.Create(ctx, bad)
			requireKind(t, domain.KindInvalidMessage, err, "create in tenant %q", id)
		}
		got, err := reg.Get(ctx, tenant, rec.ID)
		require.NoError(t, err)
		assert.Equal(t, rec.Version, got.Version, "untouched")
	})

	t.Run("of two racing updates exactly one wins", func(t *testing.T) {
		reg := newReg(t)
		rec, err := reg.Create(ctx, newRecord(newTenant()))
		require.NoError(t, err)
		for round := range 10 {
			base, err := reg.Get(ctx, rec.TenantID, rec.ID)
			require.NoError(t, err)
			names := []string{"left", "right"}
			errs := make([]error, 2)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 2 {
				wg.Go(func() {
					r := base
					r.Name = names[i]
					<-start
					_, errs[i] = reg.Update(ctx, r)
				})
			}
			close(start)
			wg.Wait()

			winner := -1
			for i, err := range errs {
				if err == nil {
					require.Equal(t, -1, winner, "round %d: both updates succeeded", round)
					winner = i
				} else {
					requireKind(t, domain.KindConflict, err, "round %d", round)
				}
			}
			require.NotEqual(t, -1, winner, "round %d: neither update succeeded", round)
			got, err := reg.Get(ctx, rec.TenantID, rec.ID)
			require.NoError(t, err)
			assert.Equal(t, names[winner], got.Name)
			assert.Equal(t, base.Version+1, got.Version)
		}
	})

	t.Run("a cancelled context fails", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := newReg(t).Get(cctx, newTenant(), uuid.NewString())
		require.Error(t, err)
	})
}

// newRecord is a record with every field set, including a closed generation
// with a trailer, so a lossy encoding shows.
func newRecord(tenantID string) domain.SessionRecord {
	id := uuid.NewString()
	at := time.UnixMilli(time.Now().UnixMilli()).UTC()
	return domain.SessionRecord{
		ID: id, TenantID: tenantID, Name: "refactor <the> parser & \"tests\"", AgentType: "coding-agent",
		ProjectID: "proj-1", CreatedBy: "user-1", CreatedAt: at, UpdatedAt: at.Add(time.Second),
		Epoch: "epoch-1",
		Generations: []domain.Generation{
			{InstanceID: "inst-1", BaseSeq: 0, EndSeq: 42, Trailer: []domain.Event{{
				Type: domain.EvTurnError, SessionID: id, TurnID: "turn-9", Seq: 42, TS: at.UnixMilli(),
				Data: map[string]any{"message": "instance lost", "code": "UPSTREAM_LOST"},
			}}},
			{InstanceID: "inst-2", BaseSeq: 42},
		},
	}
}
