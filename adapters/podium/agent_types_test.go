package podium_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/podium"
	"github.com/diminuendo/diminuendo/adapters/podium/podiumsim"
	"github.com/diminuendo/diminuendo/domain"
)

// Once listed, the agent types survive a Podium outage; before any
// listing, an outage is UPSTREAM_UNAVAILABLE.
func TestAgentTypesServeTheLastListingWhilePodiumIsDown(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, func(c *podium.Config) { c.AgentTypesTTL = time.Nanosecond })
	first, err := e.a.AgentTypes(context.Background())
	require.NoError(t, err)
	require.Len(t, first, 4)
	assert.Equal(t, domain.AgentType{ID: "asking-agent", Name: "Asking agent", Description: first[0].Description}, first[0])

	e.sim.RefuseConnections(true)
	again, err := e.a.AgentTypes(context.Background())
	require.NoError(t, err)
	assert.Equal(t, first, again)
	assert.Contains(t, e.log.String(), "serving the last listing")

	cold := newEnv(t, podiumsim.Options{}, nil)
	cold.sim.RefuseConnections(true)
	_, err = cold.a.AgentTypes(context.Background())
	require.Error(t, err)
	assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))
}
