package podium_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/diminuendo/diminuendo/adapters/podium"
	"github.com/diminuendo/diminuendo/adapters/podium/podiumsim"
	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/internal/syncbuf"
	"github.com/diminuendo/diminuendo/ports"
	"github.com/diminuendo/diminuendo/ports/contract"
)

const apiKey = "pod_test_key_never_logged"

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// env is one simulator on a loopback listener and an adapter pointed at it.
type env struct {
	sim *podiumsim.Sim
	a   *podium.Adapter
	log *syncbuf.Buffer
}

func newEnv(t *testing.T, opts podiumsim.Options, tweak func(*podium.Config)) env {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = apiKey
	}
	sim := podiumsim.New(opts)
	base, err := sim.Start("127.0.0.1:0")
	require.NoError(t, err)
	tr := &http.Transport{}
	t.Cleanup(func() {
		sim.Close()
		tr.CloseIdleConnections()
	})
	buf := &syncbuf.Buffer{}
	cfg := podium.Config{
		BaseURL: base, APIKey: opts.APIKey, Timeout: 2 * time.Second,
		Logger:       slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RetryInitial: time.Millisecond, RetryMax: 5 * time.Millisecond,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	a, err := podium.New(cfg, &http.Client{Transport: tr})
	require.NoError(t, err)
	return env{sim: sim, a: a, log: buf}
}

// openEcho creates an echo instance and opens its stream, closed when the
// test ends.
func (e env) openEcho(t *testing.T) (ports.InstanceInfo, *contract.Tap) {
	t.Helper()
	info, err := e.a.CreateInstance(context.Background(), ports.InstanceSpec{AgentType: "echo"})
	require.NoError(t, err)
	s, err := e.a.Connect(context.Background(), info.ID, 0)
	require.NoError(t, err)
	tp := contract.NewTap(s)
	t.Cleanup(func() { _ = tp.Close() })
	return info, tp
}

func TestAdapterContract(t *testing.T) {
	contract.AgentRuntime(t, func(t *testing.T) ports.AgentRuntime {
		return newEnv(t, podiumsim.Options{}, nil).a
	})
}

func TestNewRejectsABadBaseURL(t *testing.T) {
	for _, u := range []string{"", "localhost:5082", "ftp://podium", "http://"} {
		_, err := podium.New(podium.Config{BaseURL: u}, nil)
		assert.Error(t, err, u)
	}
}

func TestWrongAPIKeyIsAnUpstreamFailure(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, func(c *podium.Config) { c.APIKey = "pod_wrong" })
	_, err := e.a.GetInstance(context.Background(), "inst_x")
	assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))
	assert.NotContains(t, e.log.String(), "pod_wrong")
}

func TestBreakerOpensAfterRepeated503sAndAnswersAtOnce(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, func(c *podium.Config) {
		c.MaxAttempts = 1
		c.BreakerFailures = 3
		c.BreakerCooldown = time.Minute
	})
	ctx := context.Background()
	e.sim.FailNext(1000, http.StatusServiceUnavailable)
	for range 3 {
		_, err := e.a.GetInstance(ctx, "inst_x")
		require.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))
	}
	seen := e.sim.Requests()
	e.sim.SetLatency(time.Second) // a call that reached Podium now would be slow

	start := time.Now()
	_, err := e.a.CreateInstance(ctx, ports.InstanceSpec{AgentType: "echo"})
	assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))
	_, err = e.a.Connect(ctx, "inst_x", 0)
	assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))
	assert.Less(t, time.Since(start), 200*time.Millisecond)
	assert.Equal(t, seen, e.sim.Requests(), "an open breaker lets nothing through")
	assert.Contains(t, e.log.String(), "circuit breaker changed state")
}

func TestBreakerIgnoresNotFound(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, func(c *podium.Config) { c.BreakerFailures = 2 })
	for range 5 {
		_, err := e.a.GetInstance(context.Background(), "inst_missing")
		require.Equal(t, domain.KindNotFound, domain.KindOf(err))
	}
}

func TestIdempotentCallsRetryThroughA503Burst(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, nil)
	ctx := context.Background()
	info, err := e.a.CreateInstance(ctx, ports.InstanceSpec{AgentType: "echo", SessionID: "s"})
	require.NoError(t, err)

	e.sim.FailNext(2, http.StatusServiceUnavailable)
	got, err := e.a.GetInstance(ctx, info.ID)
	require.NoError(t, err)
	assert.Equal(t, info.ID, got.ID)

	e.sim.FailNext(2, http.StatusBadGateway)
	_, _, err = e.a.History(ctx, info.ID, 0, 10)
	require.NoError(t, err)

	e.sim.FailNext(2, http.StatusServiceUnavailable)
	require.NoError(t, e.a.StopInstance(ctx, info.ID))
}

func TestCreateIsNeverRetried(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, nil)
	e.sim.FailNext(1, http.StatusServiceUnavailable)
	before := e.sim.Requests()
	_, err := e.a.CreateInstance(context.Background(), ports.InstanceSpec{AgentType: "echo"})
	assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))
	assert.Equal(t, before+1, e.sim.Requests())
}

func TestRetriesGiveUpAfterMaxAttempts(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, func(c *podium.Config) { c.MaxAttempts = 3 })
	e.sim.FailNext(10, http.StatusServiceUnavailable)
	before := e.sim.Requests()
	_, err := e.a.GetInstance(context.Background(), "inst_x")
	assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))
	assert.Equal(t, before+3, e.sim.Requests())
}

func TestRefusedConnectionsAreUpstreamFailures(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, func(c *podium.Config) { c.MaxAttempts = 2 })
	e.sim.RefuseConnections(true)
	_, err := e.a.GetInstance(context.Background(), "inst_x")
	assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))
	_, err = e.a.Connect(context.Background(), "inst_x", 0)
	assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))

	e.sim.RefuseConnections(false)
	_, err = e.a.GetInstance(context.Background(), "inst_x")
	assert.Equal(t, domain.KindNotFound, domain.KindOf(err))
}

func TestSlowPodiumHitsThePerRequestTimeout(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, func(c *podium.Config) {
		c.Timeout = 50 * time.Millisecond
		c.MaxAttempts = 2
	})
	e.sim.SetLatency(time.Second)
	start := time.Now()
	_, err := e.a.GetInstance(context.Background(), "inst_x")
	assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(err))
	assert.Less(t, time.Since(start), 500*time.Millisecond)
}

func TestGarbageFramesAreSkipped(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, nil)
	ctx := context.Background()
	info, s := e.openEcho(t)

	require.NoError(t, s.Send(ctx, ports.AgentCommand{Type: ports.CmdUserMessage, Text: "one"}))
	first := untilComplete(t, s)
	require.Eventually(t, func() bool {
		return e.sim.InjectFrame(info.ID, []byte(`{not json`)) == 1
	}, time.Second, 10*time.Millisecond, "the stream is registered")
	e.sim.InjectFrame(info.ID, []byte(`{"type":"update","event_type":"text_delta","content":{"text":"no seq"}}`))
	e.sim.InjectFrame(info.ID, []byte(`{"seq":"seven","type":"update"}`))
	e.sim.InjectFrame(info.ID, []byte(`[1,2,3]`))
	// A repeat of an event already delivered must not be delivered again.
	e.sim.InjectFrame(info.ID, []byte(`{"seq":1,"ts":1,"type":"update","event_type":"user_message","content":{"text":"dup"}}`))

	require.NoError(t, s.Send(ctx, ports.AgentCommand{Type: ports.CmdUserMessage, Text: "two"}))
	second := untilComplete(t, s)
	assert.Equal(t, first[len(first)-1].Seq+1, second[0].Seq)
	assert.Equal(t, "two", second[0].Frame()["content"].(map[string]any)["text"])
	assert.NoError(t, s.Err())
	logs := e.log.String()
	assert.Contains(t, logs, "not a JSON object")
	assert.Contains(t, logs, "without seq")
	assert.Contains(t, logs, "malformed seq")
}

func TestCommandErrorsAreNotEvents(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, nil)
	ctx := context.Background()
	_, s := e.openEcho(t)
	require.NoError(t, s.Send(ctx, ports.AgentCommand{Type: ports.CmdInterrupt}))
	require.NoError(t, s.Send(ctx, ports.AgentCommand{Type: ports.CmdUserMessage, Text: "hi"}))
	evs := untilComplete(t, s)
	assert.Equal(t, uint64(1), evs[0].Seq)
	assert.Contains(t, e.log.String(), "podium refused a command")
}

func TestUnknownCommandIsRefusedLocally(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, nil)
	_, s := e.openEcho(t)
	err := s.Send(context.Background(), ports.AgentCommand{Type: "dance"})
	assert.Equal(t, domain.KindInvalidMessage, domain.KindOf(err))
}

func TestDroppedStreamReportsAnError(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, nil)
	ctx := context.Background()
	_, s := e.openEcho(t)
	require.NoError(t, s.Send(ctx, ports.AgentCommand{Type: ports.CmdUserMessage, Text: "hi"}))
	untilComplete(t, s)

	e.sim.DropStreams()
	select {
	case _, ok := <-s.Events():
		require.False(t, ok)
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end after the drop")
	}
	require.Error(t, s.Err())
	assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(s.Err()))
	assert.Error(t, s.Send(ctx, ports.AgentCommand{Type: ports.CmdInterrupt}))
}

func TestSecretsAreSealedAndTheSimOpensThem(t *testing.T) {
	const key = "podium-secrets-key"
	e := newEnv(t, podiumsim.Options{SecretsKey: key}, func(c *podium.Config) { c.SecretsKey = key })
	secrets := map[string]string{"ensemble_api_key": "sk-very-secret-value"}
	info, err := e.a.CreateInstance(context.Background(), ports.InstanceSpec{AgentType: "echo", Secrets: secrets})
	require.NoError(t, err)
	got, err := e.sim.Secrets(info.ID)
	require.NoError(t, err)
	assert.Equal(t, secrets, got)
	assert.NotContains(t, e.log.String(), "sk-very-secret-value")

	plain, err := e.a.CreateInstance(context.Background(), ports.InstanceSpec{AgentType: "echo"})
	require.NoError(t, err)
	got, err = e.sim.Secrets(plain.ID)
	require.NoError(t, err)
	assert.Empty(t, got, "no secrets, no envelope")
}

func TestSecretsUnderAnotherKeyAreRejectedByPodium(t *testing.T) {
	e := newEnv(t, podiumsim.Options{SecretsKey: "the-right-key"}, func(c *podium.Config) { c.SecretsKey = "another-key" })
	_, err := e.a.CreateInstance(context.Background(), ports.InstanceSpec{AgentType: "echo", Secrets: map[string]string{"k": "v"}})
	require.Error(t, err)
	assert.NotEqual(t, domain.KindInvalidMessage, domain.KindOf(err))
}

func TestSecretsWithoutAKeyAreRefused(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, nil)
	before := e.sim.Requests()
	_, err := e.a.CreateInstance(context.Background(), ports.InstanceSpec{AgentType: "echo", Secrets: map[string]string{"k": "v"}})
	require.Error(t, err)
	var de *domain.Error
	require.ErrorAs(t, err, &de)
	assert.Equal(t, before, e.sim.Requests(), "nothing was sent")
}

func TestAPIKeyIsNeverLogged(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, func(c *podium.Config) { c.MaxAttempts = 2 })
	ctx := context.Background()
	e.sim.FailNext(5, http.StatusInternalServerError)
	_, _ = e.a.GetInstance(ctx, "inst_x")
	_, _ = e.a.CreateInstance(ctx, ports.InstanceSpec{AgentType: "echo"})
	e.sim.DropStreams()
	assert.NotEmpty(t, e.log.String())
	assert.NotContains(t, e.log.String(), apiKey)
}

func TestBaseURLWithAPathPrefix(t *testing.T) {
	sim := podiumsim.New(podiumsim.Options{})
	mux := http.NewServeMux()
	mux.Handle("/podium/", http.StripPrefix("/podium", sim.Handler()))
	srv := &http.Server{Handler: mux}
	ln := listen(t)
	go srv.Serve(ln)
	t.Cleanup(func() {
		sim.Close()
		srv.Close()
	})
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	a, err := podium.New(podium.Config{BaseURL: "http://" + ln.Addr().String() + "/podium/"}, &http.Client{Transport: tr})
	require.NoError(t, err)
	info, err := a.CreateInstance(context.Background(), ports.InstanceSpec{AgentType: "echo"})
	require.NoError(t, err)
	raw, err := a.Connect(context.Background(), info.ID, 0)
	require.NoError(t, err)
	s := contract.NewTap(raw)
	require.NoError(t, s.Send(context.Background(), ports.AgentCommand{Type: ports.CmdUserMessage, Text: "prefixed"}))
	untilComplete(t, s)
	require.NoError(t, s.Close())
}

func untilComplete(t *testing.T, s *contract.Tap) []domain.UpstreamEvent {
	t.Helper()
	var out []domain.UpstreamEvent
	for {
		select {
		case ev, ok := <-s.Events():
			if !ok {
				t.Fatalf("stream ended: %v", s.Err())
			}
			out = append(out, ev)
			if domain.MapUpstream("s", ev.Seq, ev).Type == domain.EvTurnComplete {
				return out
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no turn_complete")
		}
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln
}

func TestHistorySkipsFramesThatAreNotEvents(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/instances/{id}/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"events":[
			{"seq":1,"ts":10,"type":"update","event_type":"user_message","turn_id":"turn_1","content":{"text":"hi"}},
			"junk",
			{"type":"command_error","message":"no seq"},
			{"seq":1,"ts":10,"type":"update","event_type":"user_message","content":{"text":"repeat"}},
			{"seq":2,"ts":11,"type":"update","event_type":"stream_start","turn_id":"turn_1","content":{}}
		],"latest_seq":2}`))
	})
	ln := listen(t)
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	tr := &http.Transport{}
	t.Cleanup(func() {
		srv.Close()
		tr.CloseIdleConnections()
	})
	buf := &syncbuf.Buffer{}
	a, err := podium.New(podium.Config{BaseURL: "http://" + ln.Addr().String(), Logger: slog.New(slog.NewTextHandler(buf, nil))}, &http.Client{Transport: tr})
	require.NoError(t, err)

	evs, latest, err := a.History(context.Background(), "inst_1", 0, 10)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), latest)
	require.Len(t, evs, 2)
	assert.Equal(t, uint64(1), evs[0].Seq)
	assert.Equal(t, int64(10), evs[0].TS)
	assert.Equal(t, "user_message", evs[0].Frame()["event_type"], "the event is the whole frame")
	assert.Equal(t, domain.EvTurnStarted, domain.MapUpstream("s", 2, evs[1]).Type)
	assert.Contains(t, buf.String(), "not a JSON object")
	assert.Contains(t, buf.String(), "podium refused a command")
}

func TestAGapInTheStreamEndsItForAResume(t *testing.T) {
	e := newEnv(t, podiumsim.Options{}, nil)
	ctx := context.Background()
	info, s := e.openEcho(t)
	require.NoError(t, s.Send(ctx, ports.AgentCommand{Type: ports.CmdUserMessage, Text: "hi"}))
	evs := untilComplete(t, s)

	last := evs[len(evs)-1].Seq
	require.Equal(t, 1, e.sim.InjectFrame(info.ID, []byte(`{"seq":`+strconv.FormatUint(last+5, 10)+`,"ts":1,"type":"update","event_type":"text_delta","content":{"text":"x"}}`)))
	select {
	case ev, ok := <-s.Events():
		require.False(t, ok, "the event past the gap was delivered: %v", ev)
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end at the gap")
	}
	assert.Equal(t, domain.KindUpstreamUnavailable, domain.KindOf(s.Err()))

	// The history fills what the stream would have skipped.
	raw, err := e.a.Connect(ctx, info.ID, last)
	require.NoError(t, err)
	r := contract.NewTap(raw)
	defer r.Close()
	require.NoError(t, e.a.StopInstance(ctx, info.ID))
	select {
	case _, ok := <-r.Events():
		assert.False(t, ok)
	case <-time.After(5 * time.Second):
		t.Fatal("resumed stream did not end")
	}
	assert.NoError(t, r.Err())
}
