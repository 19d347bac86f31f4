package unisonsim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/unison/unisonsim"
)

const testKey = "sim-test-key"

// start serves a fresh Sim on loopback and returns it with its base URL.
func start(t *testing.T) (*unisonsim.Sim, string) {
	t.Helper()
	sim := unisonsim.New(unisonsim.Options{APIKey: testKey})
	base, err := sim.Start("")
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	return sim, base
}

type reply struct {
	status int
	body   map[string]any
}

// call sends one authenticated request; body is JSON-encoded unless it is a string.
func call(t *testing.T, method, url string, body any) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		p, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(p)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := reply{status: resp.StatusCode}
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &r.body), "body %s", raw)
	}
	return r
}

func errCode(r reply) string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}
