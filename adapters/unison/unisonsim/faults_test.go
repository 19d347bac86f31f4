package unisonsim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/unison/unisonsim"
)

func TestAuthRequiredExceptHealthAndReady(t *testing.T) {
	sim, base := start(t)
	for _, path := range []string{"/api/v1/health", "/api/v1/ready"} {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
	}
	for _, auth := range []string{"", "Bearer wrong", testKey, "Basic " + testKey} {
		req, _ := http.NewRequest(http.MethodGet, base+nsPath+"/k", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "auth %q", auth)
	}
	assert.Equal(t, http.StatusNotFound, call(t, http.MethodGet, base+nsPath+"/k", nil).status)
	assert.EqualValues(t, 5, sim.Requests(), "health and ready are not counted")
}

func TestNoAPIKeyMeansOpen(t *testing.T) {
	srv := httptest.NewServer(unisonsim.New(unisonsim.Options{}).Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + nsPath + "/k")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestFailNextSparesHealth(t *testing.T) {
	sim, base := start(t)
	sim.FailNext(2, http.StatusServiceUnavailable)
	resp, err := http.Get(base + "/api/v1/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	r := call(t, http.MethodPut, base+nsPath+"/k", map[string]any{"value": 1})
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "injected_fault", errCode(r))
	assert.Equal(t, http.StatusServiceUnavailable, call(t, http.MethodGet, base+nsPath+"/k", nil).status)
	assert.Equal(t, http.StatusNotFound, call(t, http.MethodGet, base+nsPath+"/k", nil).status, "failed PUT was not applied")

	sim.FailNext(5, http.StatusInternalServerError)
	sim.FailNext(0, 0)
	assert.Equal(t, http.StatusNotFound, call(t, http.MethodGet, base+nsPath+"/k", nil).status)
}

func TestFailNextAfterApplyCommitsTheWrite(t *testing.T) {
	sim, base := start(t)
	sim.FailNextAfterApply(1, http.StatusBadGateway)
	assert.Equal(t, http.StatusOK, call(t, http.MethodGet, base+nsPath, nil).status, "reads are not affected")
	assert.Equal(t, http.StatusBadGateway, call(t, http.MethodPut, base+nsPath+"/k", map[string]any{"value": 1, "cas": 0}).status)
	g := call(t, http.MethodGet, base+nsPath+"/k", nil)
	require.Equal(t, http.StatusOK, g.status)
	assert.EqualValues(t, 1, num(g.body["version"]))
}

func TestLatency(t *testing.T) {
	sim, base := start(t)
	sim.SetLatency(80 * time.Millisecond)
	t0 := time.Now()
	call(t, http.MethodGet, base+"/api/v1/health", nil)
	assert.GreaterOrEqual(t, time.Since(t0), 80*time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/health", nil)
	_, err := http.DefaultClient.Do(req)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestRefuseConnectionsAndRecover(t *testing.T) {
	sim, base := start(t)
	client := &http.Client{Timeout: 2 * time.Second}
	get := func() error {
		resp, err := client.Get(base + "/api/v1/health")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	require.NoError(t, get(), "warms a keep-alive connection")
	sim.RefuseConnections(true)
	assert.Error(t, get(), "pooled connection is dropped")
	assert.Error(t, get(), "new connection is reset")
	sim.RefuseConnections(false)
	assert.NoError(t, get())
}

func TestSetHealthy(t *testing.T) {
	sim, base := start(t)
	sim.SetHealthy(false)
	r := call(t, http.MethodGet, base+"/api/v1/ready", nil)
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, false, r.body["ok"])
	sim.SetHealthy(true)
	assert.Equal(t, true, call(t, http.MethodGet, base+"/api/v1/health", nil).body["ok"])
}

func TestStartOnlyOnLoopbackAndOnce(t *testing.T) {
	sim := unisonsim.New(unisonsim.Options{})
	_, err := sim.Start("0.0.0.0:0")
	assert.Error(t, err)
	_, err = sim.Start("example.com:80")
	assert.Error(t, err)
	assert.Empty(t, sim.URL())
	base, err := sim.Start("localhost:0")
	require.NoError(t, err)
	defer sim.Close()
	assert.Equal(t, base, sim.URL())
	_, err = sim.Start("")
	assert.Error(t, err)
}
