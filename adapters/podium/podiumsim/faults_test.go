package podiumsim

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFailNextHitsRESTOnly(t *testing.T) {
	s, c := startSim(t, Options{})
	id := c.create("echo", "s")
	s.FailNext(2, http.StatusServiceUnavailable)
	c.dial(id, 0) // upgrades do not consume injected failures

	var body map[string]map[string]string
	assert.Equal(t, http.StatusServiceUnavailable, c.do("GET", "/api/v1/instances/"+id, nil, &body))
	assert.Equal(t, "unavailable", body["error"]["code"])
	assert.Equal(t, http.StatusServiceUnavailable, c.do("GET", "/api/v1/instances/"+id, nil, nil))
	assert.Equal(t, http.StatusOK, c.do("GET", "/api/v1/instances/"+id, nil, nil))
}

func TestRefusedConnectionsGetNoAnswer(t *testing.T) {
	s, c := startSim(t, Options{})
	s.RefuseConnections(true)
	req, err := http.NewRequest("GET", c.base+"/api/v1/instances/x", nil)
	require.NoError(t, err)
	_, err = c.http.Do(req)
	assert.Error(t, err)
	_, err = c.tryDial("x", 0)
	assert.Error(t, err)

	s.RefuseConnections(false)
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/api/v1/instances/x", nil, nil))
}

func TestLatencyDelaysRequests(t *testing.T) {
	s, c := startSim(t, Options{})
	s.SetLatency(30 * time.Millisecond)
	start := time.Now()
	c.do("GET", "/api/v1/instances/x", nil, nil)
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
	assert.Equal(t, int64(1), s.Requests())
}

func TestDropStreamsCutsWithoutAClose(t *testing.T) {
	s, c := startSim(t, Options{})
	id := c.create("echo", "s")
	conn := c.dial(id, 0)
	require.Eventually(t, func() bool { return len(s.streams(id)) == 1 }, wait, time.Millisecond)
	s.DropStreams()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, _, err := conn.Read(ctx)
	require.Error(t, err)
	var ce websocket.CloseError
	assert.False(t, errors.As(err, &ce), "a drop is not a clean close: %v", err)
	require.Eventually(t, func() bool { return len(s.streams("")) == 0 }, wait, time.Millisecond)
}

func TestInjectFrameReachesLiveStreamsOnly(t *testing.T) {
	s, c := startSim(t, Options{})
	id := c.create("echo", "s")
	other := c.create("echo", "s2")
	conn := c.dial(id, 0)
	c.dial(other, 0)
	require.Eventually(t, func() bool { return len(s.streams("")) == 2 }, wait, time.Millisecond)
	assert.Equal(t, 1, s.InjectFrame(id, []byte(`{"garbage":true}`)))
	assert.Equal(t, map[string]any{"garbage": true}, readFrame(t, conn))
	assert.Equal(t, 0, s.InjectFrame("inst_missing", []byte(`{}`)))
	info, err := s.Engine().Instance(id)
	require.NoError(t, err)
	assert.Zero(t, info.LatestSeq, "injected frames stay out of the history")
}
