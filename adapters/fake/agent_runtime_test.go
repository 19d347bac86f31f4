package fake_test

import (
	"testing"

	"go.uber.org/goleak"

	"diminuendo/adapters/fake"
	"diminuendo/adapters/podium/podiumsim"
	"diminuendo/ports"
	"diminuendo/ports/contract"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestAgentRuntimeContract(t *testing.T) {
	contract.AgentRuntime(t, func(t *testing.T) ports.AgentRuntime {
		rt := fake.NewAgentRuntime(podiumsim.EngineOptions{})
		t.Cleanup(rt.Close)
		return rt
	})
}
