package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/adapters/fake"
	"github.com/diminuendo/diminuendo/adapters/podium/podiumsim"
	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// Resume and rejoin over runtimes that misbehave the way the wire can:
// slow history reads, streams that lag, a runtime lost and replaced. The
// recorder, snapFrame and manualClock helpers are hub_test.go's.

// hubOn builds a hub over rt and reg, for tests that wrap the runtime.
func hubOn(t *testing.T, reg ports.SessionRegistry, rt ports.AgentRuntime, limits Limits) *Hub {
	t.Helper()
	h := NewHub(reg, rt, &manualClock{now: time.Unix(1_800_000_000, 0)}, slog.New(slog.NewTextHandler(io.Discard, nil)), limits)
	t.Cleanup(h.Close)
	return h
}

// requireSameEvents checks got are want, field for field.
func requireSameEvents(t *testing.T, want, got []map[string]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(want[i], got[i]) {
			a, _ := json.Marshal(want[i])
			b, _ := json.Marshal(got[i])
			t.Fatalf("event %d differs:\nwant %s\ngot  %s", i, a, b)
		}
	}
}

// lastOf returns the newest sequenced event of type typ that r holds.
func lastOf(t *testing.T, r *recorder, typ string) map[string]any {
	t.Helper()
	evs := r.events()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i]["type"] == typ {
			return evs[i]
		}
	}
	t.Fatalf("no %s", typ)
	return nil
}

func seqIn(e map[string]any) uint64 { return uint64(e["seq"].(float64)) }

// slidingHistory is a runtime during whose every history read more events
// reach the session's window.
type slidingHistory struct {
	ports.AgentRuntime
	during func()
	reads  int
}

func (s *slidingHistory) History(ctx context.Context, instanceID string, after uint64, limit int) ([]domain.UpstreamEvent, uint64, error) {
	s.reads++
	if s.during != nil {
		s.during()
	}
	return s.AgentRuntime.History(ctx, instanceID, after, limit)
}

// A rejoin older than the window is served from history while the window
// keeps sliding: each fetch overlaps the live end, so the replay meets the
// window on the next round instead of chasing it until the join gives up.
func TestJoinFromHistoryWhileTheWindowSlides(t *testing.T) {
	rt := fake.NewAgentRuntime(podiumsim.EngineOptions{})
	t.Cleanup(rt.Close)
	sliding := &slidingHistory{AgentRuntime: rt}
	limits := DefaultLimits()
	limits.WindowEvents = 8
	h := hubOn(t, fake.NewSessionRegistry(), sliding, limits)
	ctx := context.Background()
	dev := domain.DevIdentity()
	meta, err := h.CreateSession(ctx, dev, "echo", "", "")
	if err != nil {
		t.Fatal(err)
	}
	steady := newRecorder()
	if err := h.Join(ctx, dev, JoinRequest{SessionID: meta.ID}, steady, snapFrame); err != nil {
		t.Fatal(err)
	}
	turns := 0
	turn := func(text string) {
		t.Helper()
		if err := h.RunTurn(ctx, dev, meta.ID, text, ""); err != nil {
			t.Fatal(err)
		}
		turns++
		steady.waitFor(t, domain.EvTurnComplete, turns)
	}
	for i := 0; i < 10; i++ {
		turn("hi") // four events each, half the window
	}
	sliding.during = func() { turn("hi") }

	after := uint64(2)
	late := newRecorder()
	if err := h.Join(ctx, dev, JoinRequest{SessionID: meta.ID, AfterSeq: &after, Epoch: meta.Epoch}, late, snapFrame); err != nil {
		t.Fatalf("join from history: %v", err)
	}
	sliding.during = nil
	if late.snapshot()["replayComplete"] != true {
		t.Fatalf("snapshot for a cursor the history serves: %v", late.snapshot())
	}
	if sliding.reads == 0 {
		t.Fatal("the replay did not come from history")
	}
	turn("live")
	late.waitFor(t, domain.EvTurnComplete, turns)
	requireSameEvents(t, steady.events()[after:], late.events())
}

// lateStreams is a runtime whose streams start delivering only after a
// delay, like a gateway instance that is still catching up.
type lateStreams struct {
	ports.AgentRuntime
	delay time.Duration
}

type lateStream struct {
	ports.AgentStream
	delay time.Duration
	quit  chan struct{}
	once  sync.Once
}

func (l *lateStreams) Connect(ctx context.Context, instanceID string, after uint64) (ports.AgentStream, error) {
	s, err := l.AgentRuntime.Connect(ctx, instanceID, after)
	if err != nil {
		return nil, err
	}
	return &lateStream{AgentStream: s, delay: l.delay, quit: make(chan struct{})}, nil
}

func (s *lateStream) Run(handle func(domain.UpstreamEvent) bool) error {
	select {
	case <-time.After(s.delay):
	case <-s.quit:
		return nil
	}
	return s.AgentStream.Run(handle)
}

func (s *lateStream) Close() error {
	s.once.Do(func() { close(s.quit) })
	return s.AgentStream.Close()
}

// A client moving to a gateway instance that has not yet applied the events
// it holds (it has just attached, or lags the instance the client left) gets
// a complete replay from its cursor once this instance catches up, not
// replayComplete:false.
func TestJoinWaitsForACursorThisInstanceHasNotReached(t *testing.T) {
	rt := fake.NewAgentRuntime(podiumsim.EngineOptions{})
	t.Cleanup(rt.Close)
	reg := fake.NewSessionRegistry()
	a := hubOn(t, reg, rt, DefaultLimits())
	b := hubOn(t, reg, &lateStreams{AgentRuntime: rt, delay: 100 * time.Millisecond}, DefaultLimits())
	ctx := context.Background()
	dev := domain.DevIdentity()
	meta, err := a.CreateSession(ctx, dev, "echo", "", "")
	if err != nil {
		t.Fatal(err)
	}
	steady := newRecorder()
	if err := a.Join(ctx, dev, JoinRequest{SessionID: meta.ID}, steady, snapFrame); err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"one", "two"} {
		if err := a.RunTurn(ctx, dev, meta.ID, text, ""); err != nil {
			t.Fatal(err)
		}
		steady.waitFor(t, domain.EvTurnComplete, i+1)
	}
	cursor := seqIn(lastOf(t, steady, domain.EvTurnComplete))

	moved := newRecorder()
	if err := b.Join(ctx, dev, JoinRequest{SessionID: meta.ID, AfterSeq: &cursor, Epoch: meta.Epoch}, moved, snapFrame); err != nil {
		t.Fatal(err)
	}
	if snap := moved.snapshot(); snap["replayComplete"] != true || snap["latestSeq"].(float64) < float64(cursor) {
		t.Fatalf("join at seq %d on a catching-up instance: %v", cursor, snap)
	}
	if err := a.RunTurn(ctx, dev, meta.ID, "three", ""); err != nil {
		t.Fatal(err)
	}
	steady.waitFor(t, domain.EvTurnComplete, 3)
	moved.waitFor(t, domain.EvTurnComplete, 1)
	requireSameEvents(t, steady.events()[cursor:], moved.events())
}

// outage is an agent runtime that can go away and come back empty, as a
// Podium that is lost and restarted.
type outage struct {
	ports.AgentRuntime // only the methods below are used

	mu   sync.Mutex
	rt   *fake.AgentRuntime
	down bool
}

func newOutage(t *testing.T) *outage {
	o := &outage{rt: fake.NewAgentRuntime(podiumsim.EngineOptions{})}
	t.Cleanup(func() { o.mu.Lock(); defer o.mu.Unlock(); o.rt.Close() })
	return o
}

func (o *outage) cur() (*fake.AgentRuntime, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.down {
		return nil, domain.ErrUpstream("podium", errors.New("connection refused"))
	}
	return o.rt, nil
}

// lose takes the runtime away with its instances, streams and histories.
func (o *outage) lose() {
	o.mu.Lock()
	o.down = true
	rt := o.rt
	o.mu.Unlock()
	rt.Close()
}

// restore brings back an empty runtime.
func (o *outage) restore() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rt, o.down = fake.NewAgentRuntime(podiumsim.EngineOptions{}), false
}

func (o *outage) CreateInstance(ctx context.Context, spec ports.InstanceSpec) (ports.InstanceInfo, error) {
	rt, err := o.cur()
	if err != nil {
		return ports.InstanceInfo{}, err
	}
	return rt.CreateInstance(ctx, spec)
}

func (o *outage) GetInstance(ctx context.Context, id string) (ports.InstanceInfo, error) {
	rt, err := o.cur()
	if err != nil {
		return ports.InstanceInfo{}, err
	}
	return rt.GetInstance(ctx, id)
}

func (o *outage) StopInstance(ctx context.Context, id string) error {
	rt, err := o.cur()
	if err != nil {
		return err
	}
	return rt.StopInstance(ctx, id)
}

func (o *outage) History(ctx context.Context, id string, after uint64, limit int) ([]domain.UpstreamEvent, uint64, error) {
	rt, err := o.cur()
	if err != nil {
		return nil, 0, err
	}
	return rt.History(ctx, id, after, limit)
}

func (o *outage) AgentTypes(ctx context.Context) ([]domain.AgentType, error) {
	rt, err := o.cur()
	if err != nil {
		return nil, err
	}
	return rt.AgentTypes(ctx)
}

func (o *outage) Connect(ctx context.Context, id string, after uint64) (ports.AgentStream, error) {
	rt, err := o.cur()
	if err != nil {
		return nil, err
	}
	return rt.Connect(ctx, id, after)
}

// A runtime lost mid-turn fails the turn; once a fresh one is back the next
// turn runs on the same subscription with seq still growing, and since the
// lost instance took its history along the session's stream has a new
// epoch: a rejoin with the old one is told to rebuild.
func TestLostRuntimeStartsANewEpoch(t *testing.T) {
	o := newOutage(t)
	limits := DefaultLimits()
	limits.UpstreamGrace = 100 * time.Millisecond
	h := hubOn(t, fake.NewSessionRegistry(), o, limits)
	ctx := context.Background()
	dev := domain.DevIdentity()
	meta, err := h.CreateSession(ctx, dev, "guarded-agent", "", "")
	if err != nil {
		t.Fatal(err)
	}
	sub := newRecorder()
	if err := h.Join(ctx, dev, JoinRequest{SessionID: meta.ID}, sub, snapFrame); err != nil {
		t.Fatal(err)
	}
	if err := h.RunTurn(ctx, dev, meta.ID, "go", ""); err != nil {
		t.Fatal(err)
	}
	sub.waitFor(t, domain.EvPermissionRequested, 1) // mid-turn, waiting

	o.lose()
	sub.waitFor(t, domain.EvTurnError, 1)
	turnErr := seqIn(lastOf(t, sub, domain.EvTurnError))
	o.restore()
	if err := h.RunTurn(ctx, dev, meta.ID, "again", ""); err != nil {
		t.Fatalf("run_turn after the runtime came back: %v", err)
	}
	sub.waitFor(t, domain.EvUserMessage, 2)
	if um := seqIn(lastOf(t, sub, domain.EvUserMessage)); um != turnErr+1 {
		t.Fatalf("first event after the loss has seq %d, want %d", um, turnErr+1)
	}

	stale := newRecorder()
	after := turnErr - 1
	if err := h.Join(ctx, dev, JoinRequest{SessionID: meta.ID, AfterSeq: &after, Epoch: meta.Epoch}, stale, snapFrame); err != nil {
		t.Fatal(err)
	}
	if snap := stale.snapshot(); snap["replayComplete"] != false || snap["epoch"] == meta.Epoch || snap["epoch"] == "" {
		t.Fatalf("rejoin with the epoch of the lost stream: %v", snap)
	}
}
