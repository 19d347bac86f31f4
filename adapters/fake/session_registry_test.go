package fake_test

import (
	"testing"

	"diminuendo/adapters/fake"
	"diminuendo/ports"
	"diminuendo/ports/contract"
)

func TestSessionRegistryContract(t *testing.T) {
	contract.SessionRegistry(t, func(*testing.T) ports.SessionRegistry { return fake.NewSessionRegistry() })
}
