package e2e

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/app/config"
)

// Invalid UTF-8 in a text frame closes the connection with 1007, as RFC
// 6455 requires of an endpoint that receives it.
func TestInvalidUTF8ClosesWith1007(t *testing.T) {
	g := startGateway(t, nil)
	c := g.dialDev(t)
	c.write([]byte("{\"type\":\"ping\",\"requestId\":\"\xff\xfe\"}"))
	if code, _ := c.expectClose(5 * time.Second); code != websocket.CloseInvalidFramePayloadData {
		t.Fatalf("close code %d, want 1007", code)
	}
}

// Binary frames count against the per-connection rate limit like text
// frames: a flood of them is RATE_LIMITED, not served without bound.
func TestBinaryFramesAreRateLimited(t *testing.T) {
	g := startGateway(t, func(c *config.Config) { c.RateLimitMessages, c.RateLimitWindow = 5, time.Minute })
	c := g.dialDev(t)
	for i := 0; i < 8; i++ {
		if err := c.c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
	}
	var codes []any
	for i := 0; i < 8; i++ {
		codes = append(codes, c.expect("error")["code"])
	}
	if codes[0] != "INVALID_MESSAGE" || codes[7] != "RATE_LIMITED" {
		t.Fatalf("codes for 8 binary frames under a limit of 5: %v", codes)
	}
	c.send(map[string]any{"type": "ping", "requestId": "after"})
	if e := c.expect("error"); e["code"] != "RATE_LIMITED" || e["requestId"] != "after" {
		t.Fatalf("a text frame after the binary flood: %v", e)
	}
}

// A frame of any size over 1 MiB gets MESSAGE_TOO_LARGE, then close 1009
// with a reason; a client that writes the whole frame reads both, never a
// bare 1009 or an abnormal 1006.
func TestOversizedFramesOfAnySizeGetAnErrorThen1009(t *testing.T) {
	g := startGateway(t, nil)
	for _, size := range []int{(1 << 20) + 1, 5 << 20, 32 << 20} {
		c := g.dialDev(t)
		big := make([]byte, size)
		for i := range big {
			big[i] = 'a'
		}
		if err := c.c.WriteMessage(websocket.TextMessage, big); err != nil {
			t.Fatalf("%d bytes: write: %v", size, err)
		}
		code, frames := c.expectClose(20 * time.Second)
		var sawError bool
		for _, f := range frames {
			if f["type"] == "error" && f["code"] == "MESSAGE_TOO_LARGE" {
				sawError = true
			}
		}
		if !sawError || code != websocket.CloseMessageTooBig {
			t.Errorf("%d bytes: close %d after %v", size, code, frames)
		}
	}
}
