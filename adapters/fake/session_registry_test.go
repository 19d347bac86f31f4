package fake_test

import (
	"testing"

	"github.com/diminuendo/diminuendo/adapters/fake"
	"github.com/diminuendo/diminuendo/ports"
	"github.com/diminuendo/diminuendo/ports/contract"
)

func TestSessionRegistryContract(t *testing.T) {
	contract.SessionRegistry(t, func(*testing.T) ports.SessionRegistry { return fake.NewSessionRegistry() })
}
