package fake_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/fake"
	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
	"github.com/diminuendo/diminuendo/ports/contract"
)

func TestModelCatalogContract(t *testing.T) {
	contract.ModelCatalog(t, func(t *testing.T) ports.ModelCatalog { return fake.NewModelCatalog() })
}

func TestModelCatalogServesWhatItIsGiven(t *testing.T) {
	c := fake.NewModelCatalog(domain.Model{ID: "b", Provider: "mock"}, domain.Model{ID: "a", Provider: "mock"}, domain.Model{ID: "b"}, domain.Model{})
	ms, err := c.Models(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []domain.Model{{ID: "a", Provider: "mock"}, {ID: "b", Provider: "mock"}}, ms)
}
