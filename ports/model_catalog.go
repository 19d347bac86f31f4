package ports

import (
	"context"

	"github.com/diminuendo/diminuendo/domain"
)

// ModelCatalog is Ensemble's model catalog. Adapters answer from a cache
// kept fresh in the background, so a call rarely waits on the network, and
// an Ensemble outage after the first answer leaves the last good catalog in
// place.
type ModelCatalog interface {
	// Models returns the catalog ordered by model id, one entry per id. The
	// slice is the caller's to keep or change.
	Models(ctx context.Context) ([]domain.Model, error)
}
