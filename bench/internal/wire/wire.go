// Package wire speaks the gateway's WebSocket protocol for the load tools
// that need exact control over frames: dial and wait for authentication,
// send a request and wait for its reply, and check a client's sequenced
// events for gaps and repeats across reconnects.
package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gorilla/websocket"
)

// Frame is the part of any server frame the tools read.
type Frame struct {
	Type           string              `json:"type"`
	Seq            uint64              `json:"seq"`
	SessionID      string              `json:"sessionId"`
	Code           string              `json:"code"`
	Message        string              `json:"message"`
	RequestID      string              `json:"requestId"`
	PromptID       string              `json:"promptId"`
	Epoch          string              `json:"epoch"`
	State          string              `json:"state"`
	ClientTurnID   string              `json:"clientTurnId"`
	LatestSeq      uint64              `json:"latestSeq"`
	ReplayComplete bool                `json:"replayComplete"`
	HasMore        bool                `json:"hasMore"`
	Session        struct{ ID string } `json:"session"`
	PendingPrompts []struct {
		PromptID string `json:"promptId"`
		Seq      uint64 `json:"seq"`
	} `json:"pendingPrompts"`
	Events []struct {
		Seq  uint64 `json:"seq"`
		Type string `json:"type"`
	} `json:"events"`
}

// Parse decodes b.
func Parse(b []byte) (Frame, error) {
	var f Frame
	err := json.Unmarshal(b, &f)
	return f, err
}

var dialer = websocket.Dialer{HandshakeTimeout: 10 * time.Second}

// Dial connects to url and waits for "authenticated" (dev mode
// authenticates at once).
func Dial(ctx context.Context, url string) (*websocket.Conn, error) {
	c, _, err := dialer.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	PatientPongs(c)
	if _, err := Await(c, "authenticated", 30*time.Second); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// Send writes msg as one JSON text frame.
func Send(c *websocket.Conn, msg map[string]any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.WriteMessage(websocket.TextMessage, b)
}

// Request sends msg and waits for a frame of type want. Use it only on a
// connection that has joined no session: a sequenced event before the
// reply is a failure.
func Request(c *websocket.Conn, msg map[string]any, want string) (Frame, error) {
	if err := Send(c, msg); err != nil {
		return Frame{}, err
	}
	return Await(c, want, 30*time.Second)
}

// Await reads until a frame of type want; an error frame or a sequenced
// event before it is a failure.
func Await(c *websocket.Conn, want string, within time.Duration) (Frame, error) {
	_ = c.SetReadDeadline(time.Now().Add(within))
	defer c.SetReadDeadline(time.Time{})
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			return Frame{}, err
		}
		f, err := Parse(b)
		if err != nil {
			return Frame{}, err
		}
		switch {
		case f.Type == want:
			return f, nil
		case f.Type == "error":
			return f, fmt.Errorf("error frame %s: %s", f.Code, f.Message)
		case f.Seq != 0:
			return f, fmt.Errorf("sequenced %s (seq %d) before %s", f.Type, f.Seq, want)
		}
	}
}

// Track follows one client's view of one session across connections: every
// sequenced event must be the one after the last, so a gap is a lost event
// and a seq at or below the last is a duplicate.
type Track struct {
	Last   uint64 // highest seq seen
	Epoch  string
	Events int64 // sequenced events seen
	Lost   int64 // events skipped over by gaps
	Dup    int64 // events seen again
	Bad    []string
}

// Start begins (or begins again, for a new client) at a snapshot.
func (t *Track) Start(epoch string, latest uint64) {
	t.Epoch, t.Last = epoch, latest
}

// See checks one sequenced event.
func (t *Track) See(seq uint64, typ string) {
	t.Events++
	switch {
	case seq == t.Last+1:
	case seq <= t.Last:
		t.Dup++
		t.note("duplicate seq %d (%s) after %d", seq, typ, t.Last)
		return
	default:
		t.Lost += int64(seq - t.Last - 1)
		t.note("seq %d (%s) after %d: %d lost", seq, typ, t.Last, seq-t.Last-1)
	}
	t.Last = seq
}

func (t *Track) note(format string, args ...any) {
	if len(t.Bad) < 5 {
		t.Bad = append(t.Bad, fmt.Sprintf(format, args...))
	}
}
