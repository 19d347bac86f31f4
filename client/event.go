package client

import (
	"encoding/json"
	"fmt"

	"github.com/diminuendo/diminuendo/api"
)

// Frame types the client itself acts on or that callers commonly wait for.
// Every type of the protocol is listed in docs/protocol.md.
const (
	TypeWelcome             = "welcome"
	TypeConnected           = "connected"
	TypeAuthenticated       = "authenticated"
	TypeAuthExpiring        = "auth_expiring"
	TypeHeartbeat           = "heartbeat"
	TypePong                = "pong"
	TypeError               = "error"
	TypeStateSnapshot       = "state_snapshot"
	TypeSessionState        = "session_state"
	TypeSessionDeleted      = "session_deleted"
	TypeSessionLeft         = "session_left"
	TypeUserMessage         = "user_message"
	TypeTurnStarted         = "turn_started"
	TypeTextDelta           = "text_delta"
	TypeTurnComplete        = "turn_complete"
	TypeTurnError           = "turn_error"
	TypePermissionRequested = "permission_requested"
	TypeQuestionRequested   = "question_requested"
	TypeApprovalResolved    = "approval_resolved"
)

// envelope is the part of every server frame the client routes by.
type envelope struct {
	Type           string `json:"type"`
	SessionID      string `json:"sessionId"`
	TurnID         string `json:"turnId"`
	Seq            int64  `json:"seq"`
	Ts             int64  `json:"ts"`
	RequestID      string `json:"requestId"`
	Epoch          string `json:"epoch"`
	LatestSeq      int64  `json:"latestSeq"`
	ReplayComplete *bool  `json:"replayComplete"`
}

// Event is one frame received from the gateway: its routing fields, read
// once, and the frame's JSON as the gateway sent it. Its typed form is the
// api package's ServerEvent union: Value returns the frame's own type
// (api.TextDeltaEvent, api.StateSnapshot, …) for a type switch, and
// ServerEvent the union itself (AsTurnCompleteEvent() and the like).
type Event struct {
	// Type is the frame's discriminator, e.g. "text_delta".
	Type string
	// SessionID is the session the frame is about ("" for connection frames).
	SessionID string
	// Seq is the session sequence number; 0 for unsequenced frames.
	Seq int64
	// TurnID is the turn a sequenced event belongs to, when it has one.
	TurnID string
	// Ts is the frame's timestamp (Unix ms), when it has one.
	Ts int64
	// RequestID is echoed from the request a reply answers.
	RequestID string
	// Raw is the whole frame.
	Raw json.RawMessage

	env envelope
}

// Sequenced tells a session event (part of the session's history) from
// connection frames and direct replies.
func (e Event) Sequenced() bool { return e.Seq > 0 }

// ReplayIncomplete is true for a state_snapshot whose replayComplete is
// false: the events the client missed were not replayed and must be
// fetched (GetEvents) or the session rebuilt (GetHistory); see the package
// documentation.
func (e Event) ReplayIncomplete() bool {
	return e.Type == TypeStateSnapshot && e.env.ReplayComplete != nil && !*e.env.ReplayComplete
}

// ServerEvent is the frame as the contract's union of server frames.
func (e Event) ServerEvent() (api.ServerEvent, error) {
	var u api.ServerEvent
	if err := u.UnmarshalJSON(e.Raw); err != nil {
		return u, fmt.Errorf("client: decoding %s: %w", e.Type, err)
	}
	return u, nil
}

// Value decodes the frame into its own type in the api package, chosen by
// its type: api.TextDeltaEvent for text_delta, api.StateSnapshot for
// state_snapshot, and so on. A type this version of the contract does not
// know is an error; such frames are to be ignored, the contract grows
// additively.
func (e Event) Value() (any, error) {
	u, err := e.ServerEvent()
	if err != nil {
		return nil, err
	}
	v, err := u.ValueByDiscriminator()
	if err != nil {
		return nil, fmt.Errorf("client: decoding %s: %w", e.Type, err)
	}
	return v, nil
}

// Decode unmarshals the frame into v, one of the api package's frame types
// or any struct of the fields wanted.
func (e Event) Decode(v any) error {
	if err := json.Unmarshal(e.Raw, v); err != nil {
		return fmt.Errorf("client: decoding %s: %w", e.Type, err)
	}
	return nil
}

// Text returns a text_delta's text ("" for other frames).
func (e Event) Text() string {
	if e.Type != TypeTextDelta {
		return ""
	}
	var v api.TextDeltaEvent
	_ = json.Unmarshal(e.Raw, &v)
	return v.Text
}

func (e Event) String() string { return string(e.Raw) }

func parseEvent(raw []byte) (Event, error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return Event{}, fmt.Errorf("client: a frame that is not a JSON object: %w", err)
	}
	if env.Type == "" {
		return Event{}, fmt.Errorf("client: a frame without type: %.200s", raw)
	}
	return Event{Type: env.Type, SessionID: env.SessionID, Seq: env.Seq, TurnID: env.TurnID, Ts: env.Ts,
		RequestID: env.RequestID, Raw: json.RawMessage(raw), env: env}, nil
}
