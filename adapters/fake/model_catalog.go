package fake

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/diminuendo/diminuendo/adapters/ensemble/ensemblesim"
	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

var _ ports.ModelCatalog = (*ModelCatalog)(nil)

// ModelCatalog is ports.ModelCatalog in memory. By default it serves the
// catalog ensemblesim serves, so the app sees the same models with or
// without the wire in between.
type ModelCatalog struct {
	mu     sync.Mutex
	models []domain.Model
}

// NewModelCatalog serves models, or ensemblesim's default catalog when none
// are given.
func NewModelCatalog(models ...domain.Model) *ModelCatalog {
	c := &ModelCatalog{}
	if len(models) == 0 {
		for _, m := range ensemblesim.DefaultModels() {
			models = append(models, domain.Model{
				ID: m.ID, Provider: m.Provider,
				Streaming: m.Capabilities.Streaming, Tools: m.Capabilities.Tools,
				ContextWindow:      m.ContextWindow,
				InputPricePerMTok:  m.Pricing.InputPerMTok,
				OutputPricePerMTok: m.Pricing.OutputPerMTok,
			})
		}
	}
	c.SetModels(models...)
	return c
}

// SetModels replaces the catalog; as the adapter does, entries without an
// id and repeats of an id are dropped, and the rest ordered by id.
func (c *ModelCatalog) SetModels(models ...domain.Model) {
	seen := map[string]bool{}
	ms := make([]domain.Model, 0, len(models))
	for _, m := range models {
		if m.ID == "" || seen[m.ID] {
			continue
		}
		seen[m.ID] = true
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(x, y domain.Model) int { return cmp.Compare(x.ID, y.ID) })
	c.mu.Lock()
	defer c.mu.Unlock()
	c.models = ms
}

func (c *ModelCatalog) Models(context.Context) ([]domain.Model, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.models), nil
}
