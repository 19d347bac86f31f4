package ensemble_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/diminuendo/diminuendo/adapters/ensemble"
	"github.com/diminuendo/diminuendo/adapters/ensemble/ensemblesim"
	"github.com/diminuendo/diminuendo/adapters/fake"
	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/internal/syncbuf"
	"github.com/diminuendo/diminuendo/ports"
	"github.com/diminuendo/diminuendo/ports/contract"
)

const apiKey = "ens_test_key_never_logged"

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// env is one simulator on a loopback listener and an adapter pointed at it.
type env struct {
	sim *ensemblesim.Sim
	a   *ensemble.Adapter
	log *syncbuf.Buffer
}

func newEnv(t *testing.T, tweak func(*ensemble.Config)) env {
	t.Helper()
	sim := ensemblesim.New(ensemblesim.Options{APIKey: apiKey})
	base, err := sim.Start("127.0.0.1:0")
	require.NoError(t, err)
	tr := &http.Transport{}
	buf := &syncbuf.Buffer{}
	cfg := ensemble.Config{
		BaseURL: base, APIKey: apiKey, Timeout: 2 * time.Second,
		Logger:       slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RetryInitial: time.Millisecond, RetryMax: 5 * time.Millisecond,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	a, err := ensemble.New(cfg, &http.Client{Transport: tr})
	require.NoError(t, err)
	t.Cleanup(func() {
		a.Stop()
		sim.Close()
		tr.CloseIdleConnections()
	})
	return env{sim: sim, a: a, log: buf}
}

func TestAdapterContract(t *testing.T) {
	contract.ModelCatalog(t, func(t *testing.T) ports.ModelCatalog { return newEnv(t, nil).a })
}

func TestTheAdapterAndTheFakeServeTheSameCatalog(t *testing.T) {
	e := newEnv(t, nil)
	got, err := e.a.Models(context.Background())
	require.NoError(t, err)
	want, err := fake.NewModelCatalog().Models(context.Background())
	require.NoError(t, err)
	assert.Equal(t, want, got)
	for _, m := range got {
		if m.ID == "claude-sonnet-4" {
			assert.Equal(t, domain.Model{ID: "claude-sonnet-4", Provider: "anthropic", Streaming: true, Tools: true,
				ContextWindow: 200_000, InputPricePerMTok: 3, OutputPricePerMTok: 15}, m)
		}
	}
}

func TestNewRejectsABadBaseURL(t *testing.T) {
	for _, u := range []string{"", "localhost:5180", "ftp://ensemble", "http://", "http://h/?q=1", "http://h/#f"} {
		_, err := ensemble.New(ensemble.Config{BaseURL: u}, nil)
		assert.Error(t, err, u)
	}
}

func TestABaseURLPrefixIsKept(t *testing.T) {
	sim := ensemblesim.New(ensemblesim.Options{APIKey: apiKey})
	mux := http.NewServeMux()
	mux.Handle("/ensemble/", http.StripPrefix("/ensemble", sim.Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	a, err := ensemble.New(ensemble.Config{BaseURL: srv.URL + "/ensemble/", APIKey: apiKey}, srv.Client())
	require.NoError(t, err)
	ms, err := a.Models(context.Background())
	require.NoError(t, err)
	assert.NotEmpty(t, ms)
	assert.NoError(t, a.Ping(context.Background()))
}

func TestWrongKeyIsAnUpstreamFailureAndNotLogged(t *testing.T) {
	e := newEnv(t, func(c *ensemble.Config) { c.APIKey = "ens_wrong" })
	_, err := e.a.Models(context.Background())
	assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))
	assert.Equal(t, int64(1), e.sim.Requests(), "a 401 is not retried")
	assert.NotContains(t, e.log.String(), "ens_wrong")
}

func TestUnreadableAnswersAreUpstreamFailures(t *testing.T) {
	for name, body := range map[string]string{"not JSON": "<html>", "no models list": `{"data":[]}`, "models not a list": `{"models":{}}`} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) }))
			defer srv.Close()
			a, err := ensemble.New(ensemble.Config{BaseURL: srv.URL, MaxAttempts: 1}, srv.Client())
			require.NoError(t, err)
			_, err = a.Models(context.Background())
			assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))
		})
	}
}

func TestOddEntriesAreDroppedAndTheRestSorted(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.SetModels([]ensemblesim.Model{{ID: "z", Provider: "mock"}, {ID: "", Provider: "mock"}, {ID: "a", Provider: "mock"}, {ID: "z", Provider: "other"}})
	ms, err := e.a.Models(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []domain.Model{{ID: "a", Provider: "mock"}, {ID: "z", Provider: "mock"}}, ms)
	assert.Contains(t, e.log.String(), "dropped=2")
}

func TestAnEmptyCatalogIsACatalog(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.SetModels(nil)
	ms, err := e.a.Models(context.Background())
	require.NoError(t, err)
	assert.Empty(t, ms)
	_, err = e.a.Models(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(1), e.sim.Requests(), "an empty answer is cached too")
}
