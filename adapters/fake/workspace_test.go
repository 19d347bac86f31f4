package fake_test

import (
	"testing"

	"github.com/diminuendo/diminuendo/adapters/fake"
	"github.com/diminuendo/diminuendo/adapters/podium/podiumsim"
	"github.com/diminuendo/diminuendo/ports/contract"
)

func TestWorkspaceContract(t *testing.T) {
	contract.Workspace(t, func(t *testing.T) contract.WorkspaceBackend {
		rt := fake.NewAgentRuntime(podiumsim.EngineOptions{})
		t.Cleanup(rt.Close)
		return contract.WorkspaceBackend{
			Workspace: fake.NewWorkspace(rt.Engine()),
			Runtime:   rt,
			PutFile:   func(sess, p string, data []byte) { rt.Engine().PutFile(sess, p, data) },
		}
	})
}
