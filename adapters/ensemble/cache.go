package ensemble

import (
	"slices"
	"time"

	"github.com/diminuendo/diminuendo/domain"
)

// Cache keeps small snapshots across restarts (DATA_DIR/cache). Load
// reports false for a missing or unreadable snapshot.
type Cache interface {
	Load(name string, v any) (time.Time, bool)
	Store(name string, v any) error
}

// catalogCache names the catalog's snapshot.
const catalogCache = "model-catalog"

// warm fills an empty in-memory catalog from the snapshot on disk, when
// Ensemble cannot be reached; the background refresh replaces it as soon
// as Ensemble answers.
func (a *Adapter) warm() ([]domain.Model, bool) {
	if a.cfg.Cache == nil {
		return nil, false
	}
	var ms []domain.Model
	at, ok := a.cfg.Cache.Load(catalogCache, &ms)
	if !ok || ms == nil {
		return nil, false
	}
	a.mu.Lock()
	if !a.loaded {
		a.models, a.loaded, a.fetchedAt = ms, true, at
	}
	a.mu.Unlock()
	a.log.Warn("ensemble unavailable; serving the cached catalog", "cachedAt", at, "models", len(ms))
	return slices.Clone(ms), true
}

// persist writes the catalog's snapshot.
func (a *Adapter) persist(ms []domain.Model) {
	if a.cfg.Cache == nil {
		return
	}
	if err := a.cfg.Cache.Store(catalogCache, ms); err != nil {
		a.log.Warn("model catalog cache not written", "error", err.Error())
	}
}

// BreakerState is the state of the circuit breaker towards Ensemble.
func (a *Adapter) BreakerState() string { return a.up.BreakerState() }
