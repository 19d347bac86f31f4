package ensemblesim

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/diminuendo/diminuendo/adapters/simkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const key = "ens_sim_key"

type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func start(t *testing.T) (*Sim, *client) {
	t.Helper()
	s := New(Options{APIKey: key})
	base, err := s.Start("127.0.0.1:0")
	require.NoError(t, err)
	assert.Equal(t, base, s.URL())
	tr := &http.Transport{}
	t.Cleanup(func() {
		s.Close()
		tr.CloseIdleConnections()
	})
	return s, &client{t: t, base: base, http: &http.Client{Transport: tr}}
}

// get fetches path, with the key when withKey, and decodes a JSON answer.
func (c *client) get(path string, withKey bool, out any) int {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.base+path, nil)
	require.NoError(c.t, err)
	if withKey {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	if out != nil {
		require.NoError(c.t, json.Unmarshal(data, out), string(data))
	}
	return resp.StatusCode
}

func TestModelsNeedTheKey(t *testing.T) {
	s, c := start(t)
	var body struct{ Models []Model }
	require.Equal(t, http.StatusOK, c.get("/api/v1/models", true, &body))
	assert.Equal(t, DefaultModels(), body.Models)

	var eb simkit.ErrorBody
	assert.Equal(t, http.StatusUnauthorized, c.get("/api/v1/models", false, &eb))
	assert.Equal(t, "unauthorized", eb.Error.Code)
	assert.Equal(t, http.StatusNotFound, c.get("/api/v1/nothing", true, nil))
	assert.Equal(t, int64(3), s.Requests())
}

func TestTheWireShapeIsTheDocumentedAssumption(t *testing.T) {
	_, c := start(t)
	var raw map[string][]map[string]any
	require.Equal(t, http.StatusOK, c.get("/api/v1/models", true, &raw))
	var mock map[string]any
	for _, m := range raw["models"] {
		if m["provider"] == "mock" {
			mock = m
		}
	}
	require.NotNil(t, mock, "a mock provider model is served")
	assert.Equal(t, map[string]any{
		"id": "mock", "provider": "mock",
		"capabilities":   map[string]any{"streaming": true, "tools": true},
		"context_window": float64(32768),
		"pricing":        map[string]any{"input_per_mtok": float64(0), "output_per_mtok": float64(0)},
	}, mock)
}

func TestSetModelsReplacesTheCatalog(t *testing.T) {
	s, c := start(t)
	s.SetModels([]Model{{ID: "only", Provider: "mock"}})
	var body struct{ Models []Model }
	c.get("/api/v1/models", true, &body)
	assert.Equal(t, []Model{{ID: "only", Provider: "mock"}}, body.Models)
	s.SetModels(nil)
	var raw map[string]any
	c.get("/api/v1/models", true, &raw)
	assert.Equal(t, []any{}, raw["models"], "an empty catalog is a list, not null")
}

func TestHealthNeedsNoKeyAndReportsProviders(t *testing.T) {
	s, c := start(t)
	s.FailNext(1, http.StatusBadGateway)
	var h HealthBody
	require.Equal(t, http.StatusOK, c.get("/api/v1/health", false, &h))
	assert.Equal(t, "healthy", h.Status)
	assert.Equal(t, Version, h.Version)
	assert.NotEmpty(t, h.Uptime)
	assert.Equal(t, "healthy", h.Providers["anthropic"])
	assert.Equal(t, "healthy", h.Providers["mock"])
	assert.Zero(t, s.Requests(), "health is not counted")
	assert.Equal(t, http.StatusBadGateway, c.get("/api/v1/models", true, nil), "the burst waited for an API request")

	s.SetProviderStatus("gemini", "degraded")
	s.SetStatus("degraded")
	require.Equal(t, http.StatusOK, c.get("/api/v1/health", false, &h))
	assert.Equal(t, "degraded", h.Status)
	assert.Equal(t, "degraded", h.Providers["gemini"])
	s.SetStatus("unhealthy")
	assert.Equal(t, http.StatusServiceUnavailable, c.get("/api/v1/health", false, &h))
}

func TestFaults(t *testing.T) {
	s, c := start(t)
	s.FailNext(2, http.StatusServiceUnavailable)
	assert.Equal(t, http.StatusServiceUnavailable, c.get("/api/v1/models", true, nil))
	assert.Equal(t, http.StatusServiceUnavailable, c.get("/api/v1/models", true, nil))
	assert.Equal(t, http.StatusOK, c.get("/api/v1/models", true, nil))

	s.SetLatency(30 * time.Millisecond)
	begin := time.Now()
	c.get("/api/v1/health", false, nil)
	assert.GreaterOrEqual(t, time.Since(begin), 30*time.Millisecond)
	s.SetLatency(0)

	s.RefuseConnections(true)
	for _, p := range []string{"/api/v1/models", "/api/v1/health"} {
		req, err := http.NewRequest("GET", c.base+p, nil)
		require.NoError(t, err)
		_, err = c.http.Do(req)
		assert.Error(t, err, p)
	}
	s.RefuseConnections(false)
	assert.Equal(t, http.StatusOK, c.get("/api/v1/models", true, nil))
}

func TestStartRefusesNonLoopbackAndTwice(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "8.8.8.8:80", ":0", "example.com:80", "nonsense"} {
		_, err := New(Options{}).Start(addr)
		assert.Error(t, err, addr)
	}
	s, _ := start(t)
	_, err := s.Start("127.0.0.1:0")
	assert.Error(t, err)
	assert.Empty(t, New(Options{}).URL())
}
