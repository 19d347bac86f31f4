package e2e

import (
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/app/config"
)

// The gateway process is killed (SIGKILL) in the middle of a coding-agent
// turn; a new process on another port picks the session up from the
// upstreams, which run as their own fabric-sim process, and the client that rejoins there with afterSeq and the epoch
// ends holding every event of the turn exactly once, in seq order, equal to
// what get_events serves from seq 0.
func TestGatewayKilledMidTurn(t *testing.T) {
	up := startFabricSim(t, 25*time.Millisecond)
	first := startProcess(t, up)
	c := first.dialDev(t)
	id := c.createSession("coding-agent")["id"].(string)
	epoch := c.join(id, nil)["epoch"].(string)
	c.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "survive a restart"})
	var got held
	c.readTo(&got, 6, 10*time.Second)
	for _, e := range got.evs {
		if e["type"] == "turn_complete" {
			t.Fatal("the turn ended before the gateway could be killed")
		}
	}
	first.kill()

	second := startProcess(t, up)
	if second.addr == first.addr {
		t.Fatalf("the new gateway reuses %s", first.addr)
	}
	back := second.dialDev(t)
	snap := back.join(id, map[string]any{"afterSeq": got.last(), "epoch": epoch})
	if snap["replayComplete"] != true || snap["epoch"] != epoch {
		t.Fatalf("rejoin after seq %d on the new gateway: %v", got.last(), snap)
	}
	done := back.readUntilType(&got, "turn_complete", 10*time.Second)
	if done["stopReason"] != "end_turn" {
		t.Fatalf("the turn ended %v", done)
	}

	other := second.dialDev(t)
	evEpoch, all := other.getEvents(id)
	if evEpoch != epoch {
		t.Fatalf("get_events epoch %q, want %q", evEpoch, epoch)
	}
	requireGapless(t, all, 1)
	requireSameEvents(t, all, got.evs)

	// The session goes on from the new gateway.
	back.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "and after"})
	back.readUntilType(&got, "turn_complete", 10*time.Second)
}

// SIGTERM drains: every client is told to reconnect with close 1012, the
// process exits 0 within the drain, and a client that resumes on the next
// gateway misses nothing of the turn that was running.
func TestGatewayGracefulShutdown(t *testing.T) {
	up := startUpstreams(t, 25*time.Millisecond)
	const drain = 3 * time.Second
	gw := startProcess(t, up, "SHUTDOWN_DRAIN="+drain.String())
	a, b := gw.dialDev(t), gw.dialDev(t)
	id := a.createSession("coding-agent")["id"].(string)
	epoch := a.join(id, nil)["epoch"].(string)
	b.join(id, nil)
	a.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "drain me"})
	var got held
	a.readTo(&got, 4, 10*time.Second)

	start := time.Now()
	exit := make(chan int, 1)
	go func() { exit <- gw.terminateCode() }()
	for _, c := range []*client{a, b} {
		if code := c.closeCode(drain); code != 1012 {
			t.Fatalf("close code %d, want 1012", code)
		}
	}
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit code %d after SIGTERM", code)
		}
	case <-time.After(drain + 2*time.Second):
		t.Fatalf("still running %v after SIGTERM", time.Since(start))
	}
	if took := time.Since(start); took > drain+time.Second {
		t.Fatalf("shutdown took %v with a %v drain", took, drain)
	}

	// Whatever a saw before the close, it resumes elsewhere without a gap.
	for _, e := range sequenced(a.seen) {
		if seqOf(e) > got.last() {
			got.add(t, e)
		}
	}
	next := startProcess(t, up)
	back := next.dialDev(t)
	snap := back.join(id, map[string]any{"afterSeq": got.last(), "epoch": epoch})
	if snap["replayComplete"] != true {
		t.Fatalf("resume after the drain: %v", snap)
	}
	back.readUntilType(&got, "turn_complete", 10*time.Second)
	_, all := next.dialDev(t).getEvents(id)
	requireSameEvents(t, all, got.evs)
}

// Podium goes away in the middle of a turn: within 2 s the client gets
// turn_error and session_state error. A fresh Podium comes back on the same
// address and, once the circuit breaker lets a probe through, the next
// run_turn on the same connection works, in a new generation: seq keeps
// growing. The lost instance took its history with it, so the session's
// stream has a new epoch and a client rejoining with the old one is told to
// rebuild.
func TestPodiumLostMidTurn(t *testing.T) {
	up := startUpstreams(t, 25*time.Millisecond)
	const cooldown = 300 * time.Millisecond
	g := startGatewayOn(t, up, func(c *config.Config) { c.PodiumBreakerCooldown = cooldown })
	c := g.dialDev(t)
	id := c.createSession("coding-agent")["id"].(string)
	oldEpoch := c.join(id, nil)["epoch"].(string)
	c.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "lose the runtime"})
	var got held
	c.readTo(&got, 5, 10*time.Second)

	lost := time.Now()
	up.killPodium()
	var turnErr, stateErr map[string]any
	for turnErr == nil || stateErr == nil {
		left := 2*time.Second - time.Since(lost)
		if left <= 0 {
			t.Fatalf("after 2s: turn_error %v, session_state error %v", turnErr, stateErr)
		}
		m, err := c.read(left)
		if err != nil {
			t.Fatalf("after %v: turn_error %v, session_state error %v: %v", time.Since(lost), turnErr, stateErr, err)
		}
		got.add(t, m)
		switch {
		case m["type"] == "turn_error":
			turnErr = m
		case m["type"] == "session_state" && m["state"] == "error":
			stateErr = m
		case m["type"] == "turn_complete":
			t.Fatal("the turn completed although Podium was gone")
		}
	}
	if turnErr["code"] != "UPSTREAM_UNAVAILABLE" || seqOf(turnErr) != got.last() {
		t.Fatalf("turn_error: %v (holding up to %d)", turnErr, got.last())
	}
	t.Logf("turn_error and session_state error %v after Podium went away", time.Since(lost))

	up.restartPodium()
	// The breaker opened on the failed probes, all made before turn_error
	// was published; after its cooldown it lets the next call through.
	time.Sleep(cooldown)
	c.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "again", "requestId": "again"})
	userMsg := c.readUntilType(&got, "user_message", 10*time.Second)
	if seqOf(userMsg) != seqOf(turnErr)+1 {
		t.Fatalf("first event of the new generation has seq %d, want %d", seqOf(userMsg), seqOf(turnErr)+1)
	}
	c.readUntilType(&got, "turn_complete", 10*time.Second)

	stale := g.dialDev(t)
	snap := stale.join(id, map[string]any{"afterSeq": seqOf(turnErr) - 1, "epoch": oldEpoch})
	if snap["replayComplete"] != false {
		t.Fatalf("rejoin with the epoch of the lost stream: %v", snap)
	}
	newEpoch, _ := snap["epoch"].(string)
	if newEpoch == "" || newEpoch == oldEpoch {
		t.Fatalf("epoch after the lost instance: %q (was %q)", newEpoch, oldEpoch)
	}
	if latest := uint64(snap["latestSeq"].(float64)); latest != got.last() {
		t.Fatalf("snapshot latestSeq %d, holding %d", latest, got.last())
	}
	// The new stream resumes normally under its own epoch.
	fresh := g.dialDev(t)
	snap = fresh.join(id, map[string]any{"afterSeq": seqOf(userMsg) - 1, "epoch": newEpoch})
	if snap["replayComplete"] != true {
		t.Fatalf("rejoin with the new epoch: %v", snap)
	}
	var tail held
	tail.evs = append(tail.evs, got.evs[:seqOf(userMsg)-1]...)
	fresh.readTo(&tail, got.last(), 5*time.Second)
	requireSameEvents(t, got.evs, tail.evs)
}
