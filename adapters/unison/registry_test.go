package unison_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/unison"
	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
	"github.com/diminuendo/diminuendo/ports/contract"
)

func TestRegistryContract(t *testing.T) {
	contract.SessionRegistry(t, func(t *testing.T) ports.SessionRegistry {
		_, base := startSim(t)
		return unison.NewRegistry(newClient(t, base))
	})
}

func TestRegistryKeepsHostileIDsAwayFromUnison(t *testing.T) {
	sim, base := startSim(t)
	reg := unison.NewRegistry(newClient(t, base))
	ctx := context.Background()
	for _, id := range []string{"", "..", "../members/u1", "a/b", "a%2Fb", "x?y", "tenant:x/sessions"} {
		_, err := reg.Get(ctx, "acme", id)
		requireKind(t, domain.KindSessionNotFound, err)
		_, err = reg.Get(ctx, id, "s1")
		requireKind(t, domain.KindSessionNotFound, err)
		_, err = reg.List(ctx, id)
		requireKind(t, domain.KindSessionNotFound, err)
		requireKind(t, domain.KindSessionNotFound, reg.Delete(ctx, "acme", id))
		_, err = reg.Update(ctx, domain.SessionRecord{TenantID: "acme", ID: id, Version: 1})
		requireKind(t, domain.KindSessionNotFound, err)
		_, err = reg.Create(ctx, domain.SessionRecord{TenantID: id, ID: "s1"})
		requireKind(t, domain.KindInvalidMessage, err)
	}
	assert.Zero(t, sim.Requests())
}

func TestRegistryStoresRecordsWhereTheDocsSay(t *testing.T) {
	_, base := startSim(t)
	c := newClient(t, base)
	ctx := context.Background()
	rec, err := unison.NewRegistry(c).Create(ctx, domain.SessionRecord{TenantID: "acme", ID: uuid.NewString(), Name: "n"})
	require.NoError(t, err)
	e, err := c.Get(ctx, "tenant:acme/sessions", rec.ID)
	require.NoError(t, err)
	assert.Equal(t, rec.Version, e.Version)
	assert.Equal(t, unison.Actor, e.UpdatedBy)
	assert.NotContains(t, string(e.Value), `"Version"`, "the version lives in the entry, not the value")
}

func TestRegistryCreateSurvivesALostReply(t *testing.T) {
	sim, base := startSim(t)
	reg := unison.NewRegistry(newClient(t, base))
	ctx := context.Background()
	rec := domain.SessionRecord{TenantID: "acme", ID: uuid.NewString(), Name: "n"}

	// The first PUT is committed but answered 503; the retry meets its own
	// write as a conflict, which the read-back recognises.
	sim.FailNextAfterApply(1, 503)
	created, err := reg.Create(ctx, rec)
	require.NoError(t, err)
	assert.EqualValues(t, 1, created.Version)

	// Without a lost reply, the same record again is a real duplicate.
	_, err = reg.Create(ctx, rec)
	requireKind(t, domain.KindConflict, err)
}

func TestRegistryIgnoresAMisfiledRecord(t *testing.T) {
	_, base := startSim(t)
	c := newClient(t, base)
	ctx := context.Background()
	// A record naming tenant "other" stored under acme's namespace.
	_, err := c.Put(ctx, "tenant:acme/sessions", "s1", domain.SessionRecord{TenantID: "other", ID: "s1"}, unison.Always())
	require.NoError(t, err)
	reg := unison.NewRegistry(c)
	_, err = reg.Get(ctx, "acme", "s1")
	requireKind(t, domain.KindSessionNotFound, err)
	list, err := reg.List(ctx, "acme")
	require.NoError(t, err)
	assert.Empty(t, list)
}
