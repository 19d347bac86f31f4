package podium

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/diminuendo/diminuendo/domain"
)

type deploymentsResponse struct {
	Deployments []struct {
		DeploymentID string `json:"deployment_id"`
		AgentType    string `json:"agent_type"`
		Version      string `json:"version"`
		Description  string `json:"description"`
	} `json:"deployments"`
}

// agentTypeCache keeps the last good listing, so an outage of Podium after
// the first answer leaves the offer in place.
type agentTypeCache struct {
	mu      sync.Mutex
	types   []domain.AgentType
	fetched time.Time
}

// AgentTypes lists the agent types Podium has deployments of, one entry per
// type, ordered by id.
func (a *Adapter) AgentTypes(ctx context.Context) ([]domain.AgentType, error) {
	c := &a.types
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.types != nil && time.Since(c.fetched) < a.cfg.AgentTypesTTL {
		return append([]domain.AgentType(nil), c.types...), nil
	}
	out, err := get[deploymentsResponse](ctx, a, nil, "api", "v1", "deployments")
	if err != nil {
		if c.types == nil && a.cfg.Cache != nil {
			var disk []domain.AgentType
			if at, ok := a.cfg.Cache.Load(agentTypesCache, &disk); ok && disk != nil {
				// A restart while Podium is down still offers what it
				// offered before; fetched stays zero, so the next call asks again.
				a.log.Warn("podium deployments unavailable; serving the cached listing", "error", err.Error(), "cachedAt", at)
				c.types = disk
			}
		}
		if c.types != nil {
			a.log.Warn("podium deployments unavailable; serving the last listing", "error", err.Error())
			return append([]domain.AgentType(nil), c.types...), nil
		}
		return nil, a.toDomain(err)
	}
	seen := map[string]bool{}
	types := make([]domain.AgentType, 0, len(out.Deployments))
	for _, d := range out.Deployments {
		if d.AgentType == "" || seen[d.AgentType] {
			continue
		}
		seen[d.AgentType] = true
		types = append(types, domain.AgentType{ID: d.AgentType, Name: domain.AgentTypeName(d.AgentType), Description: d.Description})
	}
	sort.Slice(types, func(i, j int) bool { return types[i].ID < types[j].ID })
	c.types, c.fetched = types, time.Now()
	if a.cfg.Cache != nil {
		if err := a.cfg.Cache.Store(agentTypesCache, types); err != nil {
			a.log.Warn("agent-type cache not written", "error", err.Error())
		}
	}
	return append([]domain.AgentType(nil), types...), nil
}
