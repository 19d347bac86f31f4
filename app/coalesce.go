package app

import (
	"context"
	"slices"

	"golang.org/x/sync/singleflight"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// coalescedRegistry shares one registry read among the concurrent lookups
// of the same session. Every join and every turn looks its session up;
// when all the clients of a restarted instance rejoin at once, that is
// one read per session instead of one per client, so the burst does not
// overrun the registry and trip its circuit breaker. Reads are not
// cached: a lookup that starts after a read has ended makes a new one.
type coalescedRegistry struct {
	ports.SessionRegistry
	reads singleflight.Group
}

func coalesce(reg ports.SessionRegistry) *coalescedRegistry {
	return &coalescedRegistry{SessionRegistry: reg}
}

// Get joins a read of the same session already in flight, or starts one.
// The shared read is not cancelled by the caller that started it leaving
// (the registry adapter bounds it with its own timeouts); each caller
// stops waiting when its own ctx ends.
func (c *coalescedRegistry) Get(ctx context.Context, tenantID, sessionID string) (domain.SessionRecord, error) {
	read := context.WithoutCancel(ctx)
	ch := c.reads.DoChan(tenantID+"\x00"+sessionID, func() (any, error) {
		return c.SessionRegistry.Get(read, tenantID, sessionID)
	})
	select {
	case r := <-ch:
		rec, _ := r.Val.(domain.SessionRecord)
		// Callers may append to the generations: each gets its own.
		rec.Generations = slices.Clone(rec.Generations)
		return rec, r.Err
	case <-ctx.Done():
		return domain.SessionRecord{}, ctx.Err()
	}
}

// Writes end the sharing of any read in flight for their session, so a
// lookup that starts after a write on this instance reads what it wrote.
func (c *coalescedRegistry) forget(tenantID, sessionID string) {
	c.reads.Forget(tenantID + "\x00" + sessionID)
}

func (c *coalescedRegistry) Update(ctx context.Context, rec domain.SessionRecord) (domain.SessionRecord, error) {
	defer c.forget(rec.TenantID, rec.ID)
	return c.SessionRegistry.Update(ctx, rec)
}

func (c *coalescedRegistry) Delete(ctx context.Context, tenantID, sessionID string) error {
	defer c.forget(tenantID, sessionID)
	return c.SessionRegistry.Delete(ctx, tenantID, sessionID)
}
