package podiumsim

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHealthNeedsNoKeyAndEscapesInjectedFailures(t *testing.T) {
	s, c := startSim(t, Options{})
	c.key = ""
	s.FailNext(1, http.StatusInternalServerError)

	var body healthBody
	require.Equal(t, http.StatusOK, c.do("GET", healthPath, nil, &body))
	assert.Equal(t, "healthy", body.Status)
	assert.Equal(t, Version, body.Version)
	assert.NotEmpty(t, body.Uptime)
	assert.Zero(t, s.Requests(), "health is not counted")

	assert.Equal(t, http.StatusInternalServerError, c.do("GET", "/api/v1/instances/x", nil, nil), "the burst is still there")
	assert.Equal(t, http.StatusUnauthorized, c.do("GET", "/api/v1/instances/x", nil, nil))

	s.SetHealthy(false)
	require.Equal(t, http.StatusServiceUnavailable, c.do("GET", healthPath, nil, &body))
	assert.Equal(t, "unhealthy", body.Status)
	s.SetHealthy(true)

	s.RefuseConnections(true)
	req, err := http.NewRequest("GET", c.base+healthPath, nil)
	require.NoError(t, err)
	_, err = c.http.Do(req)
	assert.Error(t, err, "a refusing Podium does not answer its health route either")
}
