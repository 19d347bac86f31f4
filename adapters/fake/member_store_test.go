package fake_test

import (
	"testing"

	"diminuendo/adapters/fake"
	"diminuendo/ports"
	"diminuendo/ports/contract"
)

func TestMemberStoreContract(t *testing.T) {
	contract.MemberStore(t, func(*testing.T) ports.MemberStore { return fake.NewMemberStore() })
}
