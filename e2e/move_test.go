package e2e

import (
	"fmt"
	"testing"
	"time"
)

// Two gateway processes share the upstreams. A client moves from A to B in
// the middle of a turn (B not yet following the session), later back from B
// to A in the middle of another (A following all along), each time joining
// with afterSeq and the epoch, and gets exactly the events it missed. A
// client that stays on A and one that stays on B see identical events with
// identical seq, turn after turn, whichever gateway the turn was started on.
func TestMoveBetweenGateways(t *testing.T) {
	up := startUpstreams(t, 5*time.Millisecond)
	ga := startProcess(t, up).gateway
	gb := startProcess(t, up).gateway

	stayA := ga.dialDev(t)
	id := stayA.createSession("coding-agent")["id"].(string)
	epoch := stayA.join(id, nil)["epoch"].(string)
	mover := ga.dialDev(t)
	mover.join(id, nil)

	var onA, moved, onB held
	move := func(to *gateway, turn int) {
		t.Helper()
		// Leave after a few events of the running turn.
		mover.readTo(&moved, moved.last()+3, 10*time.Second)
		_ = mover.c.Close()
		mover = to.dialDev(t)
		snap := mover.join(id, map[string]any{"afterSeq": moved.last(), "epoch": epoch})
		if snap["replayComplete"] != true || snap["epoch"] != epoch {
			t.Fatalf("turn %d: moving with seq %d: %v", turn, moved.last(), snap)
		}
	}

	// Turn 1, started on A: the mover leaves for B, which has to attach.
	stayA.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "turn 1"})
	move(gb, 1)
	stayA.readUntilType(&onA, "turn_complete", 10*time.Second)
	mover.readTo(&moved, onA.last(), 10*time.Second)
	requireSameEvents(t, onA.evs, moved.evs)

	// A client that stays on B from now on.
	stayB := gb.dialDev(t)
	stayB.join(id, map[string]any{"afterSeq": 0, "epoch": epoch})
	stayB.readTo(&onB, onA.last(), 10*time.Second)

	// Turns 2 to 5 alternate between the gateways; in turn 3 the mover
	// goes back to A, which has followed the session all along.
	for turn := 2; turn <= 5; turn++ {
		starter, mine := stayA, &onA
		if turn%2 == 0 {
			starter, mine = stayB, &onB
		}
		starter.send(map[string]any{"type": "run_turn", "sessionId": id, "text": fmt.Sprintf("turn %d", turn)})
		if turn == 3 {
			move(ga, turn)
		}
		starter.readUntilType(mine, "turn_complete", 10*time.Second)
		end := mine.last()
		for _, c := range []struct {
			c *client
			h *held
		}{{stayA, &onA}, {stayB, &onB}, {mover, &moved}} {
			c.c.readTo(c.h, end, 10*time.Second)
		}
		requireSameEvents(t, onA.evs, onB.evs)
		requireSameEvents(t, onA.evs, moved.evs)
	}
	requireGapless(t, onA.evs, 1)
}
