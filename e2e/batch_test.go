package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/diminuendo/diminuendo/app/config"
)

// A client that asks for batched frames (subprotocol diminuendo.v1.batch)
// receives every event of a fast stream exactly once and in order, several
// to a frame, each line the same object a client without batching gets
// alone in its frame; that client still gets one object per frame (its
// read fails on anything else).
func TestEchoBatchedFramesCarryEveryEventOnce(t *testing.T) {
	g := startGateway(t, func(c *config.Config) {
		c.SimStepDelay = 0
		c.RateLimitMessages = 1000
	})
	plain := g.dialDev(t)
	id := plain.createSession("echo")["id"].(string)
	first := uint64(plain.join(id, nil)["latestSeq"].(float64))
	batched := g.dialBatch(t)
	batched.join(id, nil)

	const turns = 3
	text := strings.Repeat("every token is its own delta ", 100)
	var want, got []map[string]any
	for turn := 0; turn < turns; turn++ {
		plain.send(map[string]any{"type": "run_turn", "sessionId": id, "text": text})
		want = append(want, sequenced(plain.until("turn_complete"))...)
		got = append(got, sequenced(batched.until("turn_complete"))...)
	}
	requireGapless(t, want, first+1)
	requireSameEvents(t, want, got)
	if n := slices.Max(plain.perFrame); n != 1 {
		t.Fatalf("a client without batching got a frame of %d messages", n)
	}
	if n := slices.Max(batched.perFrame); n < 2 {
		t.Fatalf("%d events reached the batching client one per frame; want some frames holding several", len(got))
	}
	t.Logf("%d events: %d frames to the batching client (at most %d in one), %d to the other",
		len(got), len(batched.perFrame), slices.Max(batched.perFrame), len(plain.perFrame))
}

// Without the subprotocol the handshake names none: a client that does not
// ask is not switched to batches.
func TestEchoNoSubprotocolUnlessAsked(t *testing.T) {
	g := startGateway(t, nil)
	c := g.dial(t, nil)
	c.expect("welcome")
	if p := c.c.Subprotocol(); p != "" {
		t.Fatalf("subprotocol %q without asking", p)
	}
}
