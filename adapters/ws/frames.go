package ws

import (
	"encoding/json"
	"time"

	"github.com/diminuendo/diminuendo/domain"
)

// ProtocolVersion is the wire protocol spoken (PROTOCOL.md: v1 plus additive extensions).
const ProtocolVersion = 1

// reply is a direct, unsequenced server message. Fields holds the
// message-specific fields; RequestID echoes the request.
type reply map[string]any

func newReply(typ, requestID string) reply {
	r := reply{"type": typ}
	if requestID != "" {
		r["requestId"] = requestID
	}
	return r
}

func (r reply) with(k string, v any) reply { r[k] = v; return r }

func (r reply) encode() []byte {
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(errorFrame{Type: "error", Code: CodeInternal, Message: "could not encode reply"})
	}
	return b
}

type errorFrame struct {
	Type         string `json:"type"`
	Code         string `json:"code"`
	Message      string `json:"message"`
	RequestID    string `json:"requestId,omitempty"`
	RetryAfterMs int64  `json:"retryAfterMs,omitempty"`
	SessionID    string `json:"sessionId,omitempty"`
}

// encodeError builds the error frame for err. Outside dev mode the message
// is the domain's client-safe one; causes are logged, never sent.
func encodeError(err error, requestID, sessionID string, verbose bool) []byte {
	de := domain.As(err)
	msg := de.Message
	if verbose && de.Cause != nil {
		msg = de.Error()
	}
	f := errorFrame{Type: "error", Code: codeOf(err), Message: msg, RequestID: requestID, SessionID: sessionID}
	if de.RetryAfter > 0 {
		f.RetryAfterMs = max(1, de.RetryAfter.Milliseconds())
	}
	b, _ := json.Marshal(f)
	return b
}

func errorBytes(code, msg, requestID string) []byte {
	b, _ := json.Marshal(errorFrame{Type: "error", Code: code, Message: msg, RequestID: requestID})
	return b
}

func nowMs() int64 { return time.Now().UnixMilli() }
