package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/adapters/fake"
	"github.com/diminuendo/diminuendo/adapters/podium/podiumsim"
	"github.com/diminuendo/diminuendo/domain"
)

// manualClock is a settable clock for the idle janitor.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// recorder is a subscriber that keeps every frame.
type recorder struct {
	mu     sync.Mutex
	frames []map[string]any
	notify chan struct{}
	refuse bool
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (r *recorder) Send(f Frame) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse {
		return false
	}
	var m map[string]any
	_ = json.Unmarshal(f.Data, &m)
	r.frames = append(r.frames, m)
	select {
	case r.notify <- struct{}{}:
	default:
	}
	return true
}

// snapshot is the first frame a join delivered (its state_snapshot).
func (r *recorder) snapshot() map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.frames) == 0 {
		return nil
	}
	return r.frames[0]
}

func (r *recorder) events() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]any
	for _, f := range r.frames {
		if _, ok := f["seq"]; ok {
			out = append(out, f)
		}
	}
	return out
}

// waitFor waits until a frame of type typ has arrived n times in total.
func (r *recorder) waitFor(t *testing.T, typ string, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		c := 0
		for _, f := range r.frames {
			if f["type"] == typ {
				c++
			}
		}
		r.mu.Unlock()
		if c >= n {
			return
		}
		select {
		case <-r.notify:
		case <-deadline:
			t.Fatalf("timed out waiting for %d× %s", n, typ)
		}
	}
}

type harness struct {
	hub   *Hub
	rt    *fake.AgentRuntime
	reg   *fake.SessionRegistry
	clock *manualClock
	owner domain.Identity
}

func newHarness(t *testing.T, mutate func(*Limits)) *harness {
	t.Helper()
	limits := DefaultLimits()
	if mutate != nil {
		mutate(&limits)
	}
	rt := fake.NewAgentRuntime(podiumsim.EngineOptions{})
	reg := fake.NewSessionRegistry()
	clock := &manualClock{now: time.Unix(1_800_000_000, 0)}
	h := NewHub(reg, rt, clock, slog.New(slog.NewTextHandler(io.Discard, nil)), limits)
	t.Cleanup(func() { h.Close(); rt.Close() })
	owner := domain.Identity{UserID: "u1", TenantID: "t1", Role: domain.RoleOwner, Permissions: domain.RoleOwner.Permissions()}
	return &harness{hub: h, rt: rt, reg: reg, clock: clock, owner: owner}
}

func snapFrame(s Snapshot) Frame {
	b, _ := json.Marshal(map[string]any{"type": "state_snapshot", "replayComplete": s.ReplayComplete, "latestSeq": s.LatestSeq, "epoch": s.Epoch})
	return Frame{Type: "state_snapshot", Data: b}
}

func (hs *harness) turn(t *testing.T, sid, text string, sub *recorder, n int) {
	t.Helper()
	ctx := context.Background()
	if err := hs.hub.RunTurn(ctx, hs.owner, sid, text, ""); err != nil {
		t.Fatal(err)
	}
	sub.waitFor(t, domain.EvTurnComplete, n)
}

func requireSeqs(t *testing.T, evs []map[string]any, first uint64) {
	t.Helper()
	for i, e := range evs {
		if uint64(e["seq"].(float64)) != first+uint64(i) {
			t.Fatalf("event %d: seq %v, want %d", i, e["seq"], first+uint64(i))
		}
	}
}

// seq keeps growing across generations: idle deactivation stops the
// instance, the next join starts a new one, and the history stitched from
// both equals what the subscriber saw.
func TestSeqContinuesAcrossGenerations(t *testing.T) {
	hs := newHarness(t, func(l *Limits) { l.IdleTimeout = time.Minute })
	ctx := context.Background()
	meta, err := hs.hub.CreateSession(ctx, hs.owner, "echo", "", "")
	if err != nil {
		t.Fatal(err)
	}
	sub := newRecorder()
	if err := hs.hub.Join(ctx, hs.owner, JoinRequest{SessionID: meta.ID}, sub, snapFrame); err != nil {
		t.Fatal(err)
	}
	hs.turn(t, meta.ID, "one", sub, 1)
	first := len(sub.events())

	if err := hs.hub.Leave(hs.owner, meta.ID, sub); err != nil {
		t.Fatal(err)
	}
	hs.clock.Advance(2 * time.Minute)
	hs.hub.deactivateIdle()
	if hs.hub.ActiveSessions() != 0 {
		t.Fatal("idle session still active")
	}
	rec, _ := hs.reg.Get(ctx, "t1", meta.ID)
	if len(rec.Generations) != 1 || !rec.Generations[0].Closed || rec.Generations[0].EndSeq != uint64(first) {
		t.Fatalf("generation not closed at %d: %+v", first, rec.Generations)
	}
	info, _ := hs.rt.GetInstance(ctx, rec.Generations[0].InstanceID)
	if info.Status != "stopped" {
		t.Fatalf("instance not stopped: %+v", info)
	}

	after := uint64(first)
	if err := hs.hub.Join(ctx, hs.owner, JoinRequest{SessionID: meta.ID, AfterSeq: &after, Epoch: meta.Epoch}, sub, snapFrame); err != nil {
		t.Fatal(err)
	}
	hs.turn(t, meta.ID, "two", sub, 2)
	evs := sub.events()
	requireSeqs(t, evs, 1)
	rec, _ = hs.reg.Get(ctx, "t1", meta.ID)
	if len(rec.Generations) != 2 || rec.Generations[1].BaseSeq != uint64(first) || rec.Epoch != meta.Epoch {
		t.Fatalf("second generation: %+v epoch %s", rec.Generations, rec.Epoch)
	}

	page, err := hs.hub.GetEvents(ctx, hs.owner, meta.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != len(evs) {
		t.Fatalf("history has %d events, subscriber %d", len(page.Events), len(evs))
	}
	for i, e := range page.Events {
		b, _ := json.Marshal(e)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		if m["seq"] != evs[i]["seq"] || m["type"] != evs[i]["type"] || m["text"] != evs[i]["text"] {
			t.Fatalf("event %d differs: %v vs %v", i, m, evs[i])
		}
	}
}

// A cursor older than the window is served from Podium's history, stitched
// to the window without a gap.
func TestJoinReplaysFromHistoryBeyondWindow(t *testing.T) {
	hs := newHarness(t, func(l *Limits) { l.WindowEvents = 4 })
	ctx := context.Background()
	meta, _ := hs.hub.CreateSession(ctx, hs.owner, "coding-agent", "", "")
	live := newRecorder()
	if err := hs.hub.Join(ctx, hs.owner, JoinRequest{SessionID: meta.ID}, live, snapFrame); err != nil {
		t.Fatal(err)
	}
	hs.turn(t, meta.ID, "go", live, 1)
	all := live.events()
	if len(all) < 10 {
		t.Fatalf("coding turn too short: %d", len(all))
	}
	late := newRecorder()
	after := uint64(2)
	if err := hs.hub.Join(ctx, hs.owner, JoinRequest{SessionID: meta.ID, AfterSeq: &after, Epoch: meta.Epoch}, late, snapFrame); err != nil {
		t.Fatal(err)
	}
	if late.snapshot()["replayComplete"] != true {
		t.Fatalf("snapshot: %v", late.snapshot())
	}
	got := late.events()
	requireSeqs(t, got, 3)
	if len(got) != len(all)-2 {
		t.Fatalf("replayed %d, want %d", len(got), len(all)-2)
	}
}

// A replay the hub will not serve whole is not served at all.
func TestJoinRefusesPartialReplay(t *testing.T) {
	hs := newHarness(t, func(l *Limits) { l.MaxReplayEvents = 3 })
	ctx := context.Background()
	meta, _ := hs.hub.CreateSession(ctx, hs.owner, "echo", "", "")
	live := newRecorder()
	_ = hs.hub.Join(ctx, hs.owner, JoinRequest{SessionID: meta.ID}, live, snapFrame)
	hs.turn(t, meta.ID, "a fairly long text to make many deltas", live, 1)
	late := newRecorder()
	zero := uint64(0)
	if err := hs.hub.Join(ctx, hs.owner, JoinRequest{SessionID: meta.ID, AfterSeq: &zero}, late, snapFrame); err != nil {
		t.Fatal(err)
	}
	if late.snapshot()["replayComplete"] != false || len(late.events()) != 0 {
		t.Fatalf("partial replay: %v", late.snapshot())
	}
	// A cursor from the future, or another epoch, is not honoured either.
	for _, req := range []JoinRequest{{SessionID: meta.ID, AfterSeq: ptr(uint64(999))}, {SessionID: meta.ID, AfterSeq: ptr(uint64(1)), Epoch: "other"}} {
		r := newRecorder()
		if err := hs.hub.Join(ctx, hs.owner, req, r, snapFrame); err != nil {
			t.Fatal(err)
		}
		if r.snapshot()["replayComplete"] != false || len(r.events()) != 0 {
			t.Fatalf("%+v: %v", req, r.snapshot())
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestTenantIsolationAndPermissions(t *testing.T) {
	hs := newHarness(t, nil)
	ctx := context.Background()
	meta, _ := hs.hub.CreateSession(ctx, hs.owner, "echo", "", "")
	intruder := domain.Identity{UserID: "x", TenantID: "t2", Role: domain.RoleOwner, Permissions: domain.RoleOwner.Permissions()}
	checks := map[string]error{
		"join":   hs.hub.Join(ctx, intruder, JoinRequest{SessionID: meta.ID}, newRecorder(), snapFrame),
		"run":    hs.hub.RunTurn(ctx, intruder, meta.ID, "x", ""),
		"stop":   hs.hub.StopTurn(ctx, intruder, meta.ID),
		"delete": hs.hub.DeleteSession(ctx, intruder, meta.ID),
	}
	_, checks["events"] = hs.hub.GetEvents(ctx, intruder, meta.ID, 0, 10)
	_, checks["get"] = hs.hub.GetSession(ctx, intruder, meta.ID)
	_, checks["rename"] = hs.hub.RenameSession(ctx, intruder, meta.ID, "mine")
	_, checks["history"] = hs.hub.GetHistory(ctx, intruder, meta.ID, "", 0)
	for name, err := range checks {
		if domain.KindOf(err) != domain.KindSessionNotFound {
			t.Errorf("%s by another tenant: %v", name, err)
		}
	}
	if list, _ := hs.hub.ListSessions(ctx, intruder, true); len(list) != 0 {
		t.Errorf("another tenant lists %d sessions", len(list))
	}
	viewer := domain.Identity{UserID: "v", TenantID: "t1", Role: domain.RoleViewer, Permissions: domain.RoleViewer.Permissions()}
	err := hs.hub.RunTurn(ctx, viewer, meta.ID, "x", "")
	if domain.KindOf(err) != domain.KindForbidden || domain.As(err).Message != "missing permission sessions.write" {
		t.Errorf("viewer run_turn: %v", err)
	}
	if _, err := hs.hub.CreateSession(ctx, viewer, "echo", "", ""); domain.KindOf(err) != domain.KindForbidden {
		t.Errorf("viewer create: %v", err)
	}
	if err := hs.hub.Join(ctx, viewer, JoinRequest{SessionID: meta.ID}, newRecorder(), snapFrame); err != nil {
		t.Errorf("viewer join: %v", err)
	}
}

func TestCapacityAndSlowSubscriber(t *testing.T) {
	hs := newHarness(t, func(l *Limits) { l.MaxActiveSessions = 1 })
	ctx := context.Background()
	a, _ := hs.hub.CreateSession(ctx, hs.owner, "echo", "", "")
	b, _ := hs.hub.CreateSession(ctx, hs.owner, "echo", "", "")
	slow, fast := newRecorder(), newRecorder()
	if err := hs.hub.Join(ctx, hs.owner, JoinRequest{SessionID: a.ID}, slow, snapFrame); err != nil {
		t.Fatal(err)
	}
	if err := hs.hub.Join(ctx, hs.owner, JoinRequest{SessionID: a.ID}, fast, snapFrame); err != nil {
		t.Fatal(err)
	}
	err := hs.hub.Join(ctx, hs.owner, JoinRequest{SessionID: b.ID}, newRecorder(), snapFrame)
	if domain.KindOf(err) != domain.KindCapacityExceeded {
		t.Fatalf("second active session: %v", err)
	}
	slow.mu.Lock()
	slow.refuse = true
	slow.mu.Unlock()
	hs.turn(t, a.ID, "hi", fast, 1)
	ls := hs.hub.peek("t1", a.ID)
	ls.mu.Lock()
	_, still := ls.subs[slow]
	n := len(ls.subs)
	ls.mu.Unlock()
	if still || n != 1 {
		t.Fatalf("a subscriber that refuses frames must be detached (still %v, %d subs)", still, n)
	}
}

func TestInvalidInputsRefusedBeforeUpstream(t *testing.T) {
	hs := newHarness(t, nil)
	ctx := context.Background()
	for _, at := range []string{"", "has space", string(make([]byte, 65))} {
		if _, err := hs.hub.CreateSession(ctx, hs.owner, at, "", ""); domain.KindOf(err) != domain.KindInvalidMessage {
			t.Errorf("agentType %q: %v", at, err)
		}
	}
	meta, _ := hs.hub.CreateSession(ctx, hs.owner, "echo", "", "")
	if err := hs.hub.RunTurn(ctx, hs.owner, meta.ID, "", ""); domain.KindOf(err) != domain.KindInvalidMessage {
		t.Errorf("empty text: %v", err)
	}
	if err := hs.hub.RunTurn(ctx, hs.owner, meta.ID, string([]byte{0xff, 0xfe}), ""); domain.KindOf(err) != domain.KindInvalidMessage {
		t.Errorf("invalid UTF-8: %v", err)
	}
	_, err := hs.hub.CreateSession(ctx, hs.owner, "unknown-agent", "", "")
	if domain.KindOf(err) != domain.KindInvalidMessage || !strings.Contains(err.Error(), "offered: asking-agent, coding-agent, echo, guarded-agent") {
		t.Fatalf("an agent type the runtime does not offer: %v", err)
	}
	if list, _ := hs.hub.ListSessions(ctx, hs.owner, true); len(list) != 1 {
		t.Fatalf("a refused create left a session: %d sessions", len(list))
	}
}

// undeployed records a session of an agent type the runtime no longer
// offers, as one created before its type was withdrawn.
func (hs *harness) undeployed(t *testing.T) domain.SessionMeta {
	t.Helper()
	now := hs.clock.Now()
	rec, err := hs.reg.Create(context.Background(), domain.SessionRecord{ID: "ses_withdrawn", TenantID: hs.owner.TenantID,
		Name: "withdrawn", AgentType: "no-such-agent", CreatedBy: hs.owner.UserID, CreatedAt: now, UpdatedAt: now, Epoch: "e1"})
	if err != nil {
		t.Fatal(err)
	}
	return rec.Meta(domain.StateInactive, 0)
}

// A user message the runtime never echoes (refused or lost) blocks new turns
// only until turnEchoTimeout.
func TestUnechoedTurnDoesNotBlockForever(t *testing.T) {
	hs := newHarness(t, nil)
	ctx := context.Background()
	meta, _ := hs.hub.CreateSession(ctx, hs.owner, "echo", "", "")
	sub := newRecorder()
	if err := hs.hub.Join(ctx, hs.owner, JoinRequest{SessionID: meta.ID}, sub, snapFrame); err != nil {
		t.Fatal(err)
	}
	ls := hs.hub.peek("t1", meta.ID)
	ls.mu.Lock()
	ls.turnPending, ls.turnSentAt = true, hs.clock.Now()
	ls.mu.Unlock()
	if err := hs.hub.RunTurn(ctx, hs.owner, meta.ID, "blocked", ""); domain.KindOf(err) != domain.KindInvalidState {
		t.Fatalf("while an echo is due: %v", err)
	}
	hs.clock.Advance(turnEchoTimeout + time.Second)
	hs.turn(t, meta.ID, "goes through", sub, 1)
}

// A session whose activation failed does not keep a place among the active
// sessions: the janitor forgets it once idle.
func TestFailedActivationIsForgotten(t *testing.T) {
	hs := newHarness(t, func(l *Limits) { l.IdleTimeout = time.Minute; l.MaxActiveSessions = 1 })
	ctx := context.Background()
	bad := hs.undeployed(t)
	if err := hs.hub.Join(ctx, hs.owner, JoinRequest{SessionID: bad.ID}, newRecorder(), snapFrame); err == nil {
		t.Fatal("an unknown agent type activated")
	}
	good, _ := hs.hub.CreateSession(ctx, hs.owner, "echo", "", "")
	if err := hs.hub.Join(ctx, hs.owner, JoinRequest{SessionID: good.ID}, newRecorder(), snapFrame); domain.KindOf(err) != domain.KindCapacityExceeded {
		t.Fatalf("the failed shell should still hold the only place: %v", err)
	}
	hs.clock.Advance(2 * time.Minute)
	hs.hub.deactivateIdle()
	if err := hs.hub.Join(ctx, hs.owner, JoinRequest{SessionID: good.ID}, newRecorder(), snapFrame); err != nil {
		t.Fatalf("after the janitor: %v", err)
	}
}

// A guest sees only the sessions it created; others behave as missing.
func TestGuestSeesOnlyItsOwnSessions(t *testing.T) {
	hs := newHarness(t, nil)
	ctx := context.Background()
	theirs, _ := hs.hub.CreateSession(ctx, hs.owner, "echo", "", "")
	guest := domain.Identity{UserID: "g1", TenantID: "t1", Role: domain.RoleGuest, Permissions: domain.RoleGuest.Permissions()}
	if _, err := hs.hub.GetSession(ctx, guest, theirs.ID); domain.KindOf(err) != domain.KindSessionNotFound {
		t.Fatalf("guest reads another's session: %v", err)
	}
	if err := hs.hub.Join(ctx, guest, JoinRequest{SessionID: theirs.ID}, newRecorder(), snapFrame); domain.KindOf(err) != domain.KindSessionNotFound {
		t.Fatalf("guest joins another's session: %v", err)
	}
	// A member demoted to guest keeps its own sessions.
	own, _ := hs.hub.CreateSession(ctx, domain.Identity{UserID: "g1", TenantID: "t1", Role: domain.RoleDeveloper, Permissions: domain.RoleDeveloper.Permissions()}, "echo", "", "")
	list, err := hs.hub.ListSessions(ctx, guest, true)
	if err != nil || len(list) != 1 || list[0].ID != own.ID {
		t.Fatalf("guest list: %v %v", list, err)
	}
	if _, err := hs.hub.GetEvents(ctx, guest, own.ID, 0, 10); err != nil {
		t.Fatalf("guest reads its own: %v", err)
	}
}

// failingHistory is an agent runtime whose history cannot be read.
type failingHistory struct{ *fake.AgentRuntime }

func (failingHistory) History(context.Context, string, uint64, int) ([]domain.UpstreamEvent, uint64, error) {
	return nil, 0, domain.ErrUpstream("podium", context.DeadlineExceeded)
}

// A cursor older than the window, when the history behind it cannot be
// read, gets an honest replayComplete:false and no partial replay.
func TestJoinWithUnreadableHistoryRefusesReplay(t *testing.T) {
	rt := fake.NewAgentRuntime(podiumsim.EngineOptions{})
	defer rt.Close()
	limits := DefaultLimits()
	limits.WindowEvents = 4
	h := NewHub(fake.NewSessionRegistry(), failingHistory{rt}, &manualClock{now: time.Unix(1_800_000_000, 0)},
		slog.New(slog.NewTextHandler(io.Discard, nil)), limits)
	defer h.Close()
	owner := domain.Identity{UserID: "u1", TenantID: "t1", Role: domain.RoleOwner, Permissions: domain.RoleOwner.Permissions()}
	ctx := context.Background()
	meta, _ := h.CreateSession(ctx, owner, "coding-agent", "", "")
	live := newRecorder()
	if err := h.Join(ctx, owner, JoinRequest{SessionID: meta.ID}, live, snapFrame); err != nil {
		t.Fatal(err)
	}
	if err := h.RunTurn(ctx, owner, meta.ID, "go", ""); err != nil {
		t.Fatal(err)
	}
	live.waitFor(t, domain.EvTurnComplete, 1)
	late := newRecorder()
	after := uint64(1)
	if err := h.Join(ctx, owner, JoinRequest{SessionID: meta.ID, AfterSeq: &after, Epoch: meta.Epoch}, late, snapFrame); err != nil {
		t.Fatal(err)
	}
	if late.snapshot()["replayComplete"] != false || len(late.events()) != 0 {
		t.Fatalf("unreadable history: %v", late.snapshot())
	}
}
