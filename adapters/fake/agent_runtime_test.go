package fake_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/diminuendo/diminuendo/adapters/fake"
	"github.com/diminuendo/diminuendo/adapters/podium/podiumsim"
	"github.com/diminuendo/diminuendo/ports"
	"github.com/diminuendo/diminuendo/ports/contract"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestAgentRuntimeContract(t *testing.T) {
	contract.AgentRuntime(t, func(t *testing.T) ports.AgentRuntime {
		rt := fake.NewAgentRuntime(podiumsim.EngineOptions{})
		t.Cleanup(rt.Close)
		return rt
	})
}
