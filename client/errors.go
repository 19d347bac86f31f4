package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/diminuendo/diminuendo/api"
)

// Error is a refusal by the gateway: an error frame answering a request.
// Code is one of the protocol's error codes (docs/protocol.md §7).
type Error struct {
	Code      string
	Message   string
	RequestID string
	SessionID string
	// RetryAfter is set for RATE_LIMITED and AUTH_RATE_LIMITED.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.SessionID != "" {
		return fmt.Sprintf("%s: %s (session %s)", e.Code, e.Message, e.SessionID)
	}
	return e.Code + ": " + e.Message
}

// Is makes errors.Is(err, &client.Error{Code: "NOT_FOUND"}) match by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.RequestID == ""
}

// IsCode tells whether err is a gateway Error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

func errorOf(ev Event) *Error {
	var f api.ErrorEvent
	_ = json.Unmarshal(ev.Raw, &f)
	e := &Error{Code: string(f.Code), Message: f.Message, RequestID: ev.RequestID}
	if f.SessionId != nil {
		e.SessionID = *f.SessionId
	}
	if f.RetryAfterMs != nil {
		e.RetryAfter = time.Duration(*f.RetryAfterMs) * time.Millisecond
	}
	return e
}

var (
	// ErrClosed is returned by calls on a client that has stopped.
	ErrClosed = errors.New("client: closed")
	// ErrConnectionLost is returned by a request whose connection dropped
	// before the reply came. The request may or may not have been served;
	// the client reconnects by itself.
	ErrConnectionLost = errors.New("client: connection lost before the reply")
)

// CloseError is why the client stopped when the gateway closed the
// connection for good (close code 1008, policy violation).
type CloseError struct {
	Code   int // the WebSocket close code
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("client: gateway closed the connection: %d %s", e.Code, e.Reason)
}
