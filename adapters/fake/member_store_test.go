package fake_test

import (
	"testing"

	"github.com/diminuendo/diminuendo/adapters/fake"
	"github.com/diminuendo/diminuendo/ports"
	"github.com/diminuendo/diminuendo/ports/contract"
)

func TestMemberStoreContract(t *testing.T) {
	contract.MemberStore(t, func(*testing.T) ports.MemberStore { return fake.NewMemberStore() })
}
