package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/app/config"
)

// Over 200 echo turns on one session, a client that is cut off at random
// points (mid-turn included) and rejoins with afterSeq and the epoch always
// ends up holding exactly what a client that never left holds: no loss, no
// duplicate, the same seq, field for field. Some of its absences outlast the
// replay window, so those rejoins are served from Podium's history.
//
// RESUME_SEED=<n> replays a logged run. It runs twice: with one message
// per frame, and with every client asking for batched frames, whose resume
// must be exactly the same.
func TestResumeRandomDisconnects(t *testing.T) {
	t.Run("one message per frame", func(t *testing.T) {
		resumeRandomDisconnects(t, func(g *gateway, t *testing.T) *client { return g.dialDev(t) })
	})
	t.Run("batched frames", func(t *testing.T) {
		resumeRandomDisconnects(t, func(g *gateway, t *testing.T) *client { return g.dialBatch(t) })
	})
}

func resumeRandomDisconnects(t *testing.T, dial func(*gateway, *testing.T) *client) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("RESUME_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("RESUME_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (RESUME_SEED=%d to replay)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	const (
		turns  = 200
		window = 24 // events; an echo turn here has at least 4
	)
	g := startGateway(t, func(c *config.Config) {
		c.ReplayWindowEvents = window
		c.RateLimitMessages = 1000
		c.SimStepDelay = time.Millisecond
	})
	steady := dial(g, t)
	id := steady.createSession("echo")["id"].(string)
	epoch := steady.join(id, nil)["epoch"].(string)
	flaky := dial(g, t)
	flaky.join(id, nil)

	var all, got held // the steady client's events, the flaky client's
	connected := true
	back := 0 // the turn at which the flaky client rejoins
	var cuts, fromWindow, fromHistory int
	long := false // absences alternate between short and longer than the window

	rejoin := func() {
		t.Helper()
		flaky = dial(g, t)
		cursor := got.last()
		snap := flaky.join(id, map[string]any{"afterSeq": cursor, "epoch": epoch})
		if snap["replayComplete"] != true || snap["epoch"] != epoch {
			t.Fatalf("rejoin after seq %d: %v", cursor, snap)
		}
		latest := uint64(snap["latestSeq"].(float64))
		if latest < cursor {
			t.Fatalf("rejoin after seq %d: snapshot latestSeq %d", cursor, latest)
		}
		if latest-cursor > window {
			fromHistory++
		} else {
			fromWindow++
		}
		connected = true
	}

	deadline := time.Now().Add(45 * time.Second)
	for turn := 0; turn < turns; turn++ {
		if time.Now().After(deadline) {
			t.Fatalf("turn %d of %d after 45s", turn, turns)
		}
		text := fmt.Sprintf("turn %d %s", turn, strings.Repeat("ab", rng.IntN(20)))
		steady.send(map[string]any{"type": "run_turn", "sessionId": id, "text": text})
		if !connected && turn >= back {
			rejoin() // while the turn runs
		}
		if connected && rng.IntN(3) == 0 {
			// Cut the connection after a random number of this turn's events.
			for k := rng.IntN(6); k > 0; k-- {
				m, err := flaky.read(5 * time.Second)
				if err != nil {
					t.Fatalf("turn %d: %v", turn, err)
				}
				got.add(t, m)
			}
			_ = flaky.c.Close()
			connected = false
			cuts++
			if long {
				back = turn + 8 + rng.IntN(6) // at least 32 events away
			} else {
				back = turn + 1 + rng.IntN(2)
			}
			long = !long
		}
		for _, e := range sequenced(steady.until("turn_complete")) {
			all.add(t, e)
		}
		if connected {
			flaky.readTo(&got, all.last(), 10*time.Second)
			requireSameEvents(t, all.evs, got.evs)
		}
	}
	if !connected {
		rejoin()
		flaky.readTo(&got, all.last(), 10*time.Second)
		requireSameEvents(t, all.evs, got.evs)
	}
	t.Logf("%d events; %d cuts; rejoins: %d from the window, %d from history", len(all.evs), cuts, fromWindow, fromHistory)
	if fromWindow == 0 || fromHistory == 0 {
		t.Fatalf("rejoins: %d from the window, %d from history; want both", fromWindow, fromHistory)
	}
}
