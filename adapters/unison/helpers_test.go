package unison_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/unison"
	"github.com/diminuendo/diminuendo/adapters/unison/unisonsim"
	"github.com/diminuendo/diminuendo/domain"
)

const apiKey = "adapter-test-key-3f9a"

// startSim serves a fresh simulator on a real loopback listener.
func startSim(t *testing.T) (*unisonsim.Sim, string) {
	t.Helper()
	sim := unisonsim.New(unisonsim.Options{APIKey: apiKey})
	base, err := sim.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	return sim, base
}

// newClient returns a client tuned for fast tests; tweak adjusts it.
func newClient(t *testing.T, base string, tweak ...func(*unison.Config)) *unison.Client {
	t.Helper()
	cfg := unison.Config{
		BaseURL: base, APIKey: apiKey, Timeout: time.Second,
		MaxAttempts: 3, RetryBase: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond,
		BreakerFailures: 3, BreakerCooldown: 150 * time.Millisecond,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	c, err := unison.New(cfg, nil)
	require.NoError(t, err)
	return c
}

func requireKind(t *testing.T, want domain.Kind, err error, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Equal(t, want.String(), domain.KindOf(err).String(), msgAndArgs...)
}
