package contract

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// ModelCatalog runs the behaviour suite of ports.ModelCatalog. newCatalog
// returns a fresh catalog serving the simulated Ensemble's models (which
// include one of the "mock" provider) and registers its own cleanup on t.
func ModelCatalog(t *testing.T, newCatalog func(t *testing.T) ports.ModelCatalog) {
	t.Run("lists one entry per id, ordered by id", func(t *testing.T) {
		c := newCatalog(t)
		ms, err := c.Models(context.Background())
		require.NoError(t, err)
		require.NotEmpty(t, ms)
		seen := map[string]bool{}
		for i, m := range ms {
			assert.NotEmpty(t, m.ID)
			assert.NotEmpty(t, m.Provider, m.ID)
			assert.Positive(t, m.ContextWindow, m.ID)
			assert.GreaterOrEqual(t, m.InputPricePerMTok, 0.0, m.ID)
			assert.GreaterOrEqual(t, m.OutputPricePerMTok, 0.0, m.ID)
			assert.False(t, seen[m.ID], "repeated id %s", m.ID)
			seen[m.ID] = true
			if i > 0 {
				assert.Less(t, ms[i-1].ID, m.ID)
			}
		}
		assert.True(t, hasProvider(ms, "mock"), "the mock provider is listed")
	})

	t.Run("the same catalog on every call", func(t *testing.T) {
		c := newCatalog(t)
		first, err := c.Models(context.Background())
		require.NoError(t, err)
		second, err := c.Models(context.Background())
		require.NoError(t, err)
		assert.Equal(t, first, second)
	})

	t.Run("an answer is the caller's to change", func(t *testing.T) {
		c := newCatalog(t)
		ms, err := c.Models(context.Background())
		require.NoError(t, err)
		want := append([]domain.Model(nil), ms...)
		ms[0].ID, ms[0].ContextWindow = "changed", -1
		again, err := c.Models(context.Background())
		require.NoError(t, err)
		assert.Equal(t, want, again)
	})

	t.Run("concurrent callers see the same catalog", func(t *testing.T) {
		c := newCatalog(t)
		const n = 16
		got := make([][]domain.Model, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { got[i], errs[i] = c.Models(context.Background()) })
		}
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i])
			assert.Equal(t, got[0], got[i])
		}
	})
}

func hasProvider(ms []domain.Model, provider string) bool {
	for _, m := range ms {
		if m.Provider == provider {
			return true
		}
	}
	return false
}
