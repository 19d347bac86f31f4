package ws

import (
	"encoding/json"
	"time"

	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/domain"
)

// ProtocolVersion is the wire protocol spoken (docs/protocol.md: v1 plus additive extensions).
const ProtocolVersion = 1

// encode marshals a server frame. Every frame this adapter writes is one of
// the types generated from openapi.yaml's ServerEvent members (api.Welcome,
// api.Pong, api.SessionListReply, ...), so clients generated from the same
// schemas read exactly what is sent; sequenced events keep the encoding of
// domain.Event, made once per event.
func encode(frame any) []byte {
	b, err := json.Marshal(frame)
	if err != nil {
		return errorBytes(CodeInternal, "could not encode reply", "")
	}
	return b
}

// optional is a frame's optional string field: absent when empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// encodeError builds the error frame for err. Outside dev mode the message
// is the domain's client-safe one; causes are logged, never sent.
func encodeError(err error, requestID, sessionID string, verbose bool) []byte {
	de := domain.As(err)
	msg := de.Message
	if verbose && de.Cause != nil {
		msg = de.Error()
	}
	f := errorEvent(codeOf(err), msg, requestID)
	f.SessionId = optional(sessionID)
	if de.RetryAfter > 0 {
		retryMs := max(1, de.RetryAfter.Milliseconds())
		f.RetryAfterMs = &retryMs
	}
	return encode(f)
}

func errorEvent(code, msg, requestID string) api.ErrorEvent {
	return api.ErrorEvent{Type: api.ErrorEventTypeError, Code: api.ErrorCode(code), Message: msg, RequestId: optional(requestID)}
}

func errorBytes(code, msg, requestID string) []byte {
	b, _ := json.Marshal(errorEvent(code, msg, requestID)) // strings only: cannot fail
	return b
}

func nowMs() int64 { return time.Now().UnixMilli() }
