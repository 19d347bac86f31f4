package domain

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies a failure. Each transport maps a Kind to its wire code in
// exactly one place (adapters/ws/errors.go, adapters/http/errors.go).
type Kind int

const (
	KindInternal Kind = iota
	KindInvalidMessage
	KindAuthRequired
	KindAuthFailed
	KindAuthRateLimited
	KindTokenExpired
	KindForbidden
	KindSessionNotFound
	KindInvalidState
	KindNotFound
	KindUpstreamUnavailable
	KindCapacityExceeded
	KindRateLimited
	KindConflict
)

var kindNames = [...]string{
	KindInternal:            "internal",
	KindInvalidMessage:      "invalid message",
	KindAuthRequired:        "authentication required",
	KindAuthFailed:          "authentication failed",
	KindAuthRateLimited:     "authentication rate limited",
	KindTokenExpired:        "token expired",
	KindForbidden:           "forbidden",
	KindSessionNotFound:     "session not found",
	KindInvalidState:        "invalid state",
	KindNotFound:            "not found",
	KindUpstreamUnavailable: "upstream unavailable",
	KindCapacityExceeded:    "capacity exceeded",
	KindRateLimited:         "rate limited",
	KindConflict:            "conflict",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is the one error type that crosses from the core to the transports.
// Message is safe to show to a client; Cause is for logs only.
type Error struct {
	Kind       Kind
	Message    string
	RetryAfter time.Duration
	Cause      error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// E builds an Error of kind k with a client-safe message.
func E(k Kind, msg string) *Error { return &Error{Kind: k, Message: msg} }

// Wrap builds an Error of kind k that keeps cause for the logs.
func Wrap(k Kind, msg string, cause error) *Error { return &Error{Kind: k, Message: msg, Cause: cause} }

// KindOf returns the Kind of err, KindInternal for anything untyped.
func KindOf(err error) Kind {
	var de *Error
	if errors.As(err, &de) {
		return de.Kind
	}
	return KindInternal
}

// As returns err as *Error, wrapping untyped errors as internal ones whose
// message reveals nothing.
func As(err error) *Error {
	var de *Error
	if errors.As(err, &de) {
		return de
	}
	return &Error{Kind: KindInternal, Message: "internal error", Cause: err}
}

// Common errors. Callers compare with errors.Is through KindOf, never by identity.
func ErrSessionNotFound() *Error { return E(KindSessionNotFound, "session not found") }

func ErrInvalidState(from SessionState, action string) *Error {
	return E(KindInvalidState, fmt.Sprintf("cannot %s while the session is %s", action, from))
}

func ErrForbidden(p Permission) *Error {
	return E(KindForbidden, "missing permission "+string(p))
}

func ErrUpstream(service string, cause error) *Error {
	return Wrap(KindUpstreamUnavailable, service+" is unavailable", cause)
}
