package client_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/diminuendo/diminuendo/client"
)

// Frames of a scripted gateway, for the tests that need a peer the real
// gateway cannot be made into (a skipped seq, a batched handshake).
var devHandshake = []string{
	`{"type":"welcome","protocolVersion":1,"requiresAuth":false,"serverVersion":"test"}`,
	`{"type":"connected","clientId":"c","heartbeatIntervalMs":30000,"ts":1}`,
	`{"type":"authenticated","identity":{"userId":"u","email":"u@example.com","tenantId":"t","role":"owner","permissions":[]}}`,
}

// textDelta is sequenced event seq of session s1.
func textDelta(seq int) string {
	return fmt.Sprintf(`{"type":"text_delta","sessionId":"s1","turnId":"turn_1","seq":%d,"ts":1,"text":"%d"}`, seq, seq)
}

// snapshot answers join request rid on session s1, epoch e1.
func snapshot(rid string, latest int) string {
	return fmt.Sprintf(`{"type":"state_snapshot","sessionId":"s1","epoch":"e1","latestSeq":%d,"replayComplete":true,"pendingPrompts":[],"state":"running","requestId":%q,"session":{"id":"s1","name":"n","agentType":"echo","projectId":"","state":"running","archived":false,"createdBy":"u","createdAt":1,"updatedAt":1,"epoch":"e1","latestSeq":%d}}`, latest, rid, latest)
}

// dialPeer connects a client to the scripted peer srv, closed when the test ends.
func dialPeer(ctx context.Context, t *testing.T, srv *httptest.Server) *client.Client {
	t.Helper()
	c, err := client.Dial(ctx, client.Options{URL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// firstSeqs reads events until n sequenced ones arrived and returns their seqs.
func firstSeqs(ctx context.Context, t *testing.T, c *client.Client, n int) []int64 {
	t.Helper()
	var got []int64
	for len(got) < n {
		select {
		case ev := <-c.Events():
			if ev.Sequenced() {
				got = append(got, ev.Seq)
			}
		case <-ctx.Done():
			t.Fatalf("delivered %v", got)
		}
	}
	return got
}
