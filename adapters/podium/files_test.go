package podium_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/podium"
	"github.com/diminuendo/diminuendo/adapters/podium/podiumsim"
	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
	"github.com/diminuendo/diminuendo/ports/contract"
)

func TestWorkspaceContract(t *testing.T) {
	contract.Workspace(t, func(t *testing.T) contract.WorkspaceBackend {
		e := newEnv(t, podiumsim.Options{}, nil)
		return contract.WorkspaceBackend{
			Workspace: e.a,
			Runtime:   e.a,
			PutFile:   func(sess, p string, data []byte) { e.sim.Engine().PutFile(sess, p, data) },
			Requests:  e.sim.Requests,
		}
	})
}

func TestFileReadsRetryThroughA503Burst(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, nil)
	ctx := context.Background()
	info, err := e.a.CreateInstance(ctx, ports.InstanceSpec{AgentType: "echo", SessionID: "sess"})
	require.NoError(t, err)
	e.sim.Engine().PutFile("sess", "a.txt", []byte("a"))

	e.sim.FailNext(2, http.StatusServiceUnavailable)
	fc, err := e.a.ReadFile(ctx, info.ID, "a.txt")
	require.NoError(t, err)
	assert.Equal(t, "a", fc.Content)

	e.sim.FailNext(1000, http.StatusServiceUnavailable)
	_, err = e.a.FileHistory(ctx, info.ID, "a.txt")
	assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))
}

func TestChronicleURLIsRecordedNotUsed(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, func(c *podium.Config) { c.ChronicleURL = "http://127.0.0.1:1" })
	ctx := context.Background()
	info, err := e.a.CreateInstance(ctx, ports.InstanceSpec{AgentType: "echo", SessionID: "sess"})
	require.NoError(t, err)
	e.sim.Engine().PutFile("sess", "a.txt", []byte("through podium"))
	fc, err := e.a.ReadFile(ctx, info.ID, "a.txt")
	require.NoError(t, err, "files still go through Podium")
	assert.Equal(t, "through podium", fc.Content)
	assert.Contains(t, e.log.String(), "CHRONICLE_URL is set")
}
