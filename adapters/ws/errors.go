package ws

import "github.com/diminuendo/diminuendo/domain"

// Wire error codes (PROTOCOL.md). This is the one place where the WebSocket
// transport maps domain error kinds to them.
const (
	CodeInvalidJSON         = "INVALID_JSON"
	CodeInvalidMessage      = "INVALID_MESSAGE"
	CodeMessageTooLarge     = "MESSAGE_TOO_LARGE"
	CodeRateLimited         = "RATE_LIMITED"
	CodeAuthRequired        = "AUTH_REQUIRED"
	CodeAuthFailed          = "AUTH_FAILED"
	CodeAuthRateLimited     = "AUTH_RATE_LIMITED"
	CodeTokenExpired        = "TOKEN_EXPIRED"
	CodeForbidden           = "FORBIDDEN"
	CodeSessionNotFound     = "SESSION_NOT_FOUND"
	CodeInvalidState        = "INVALID_STATE"
	CodeNotFound            = "NOT_FOUND"
	CodeUpstreamUnavailable = "UPSTREAM_UNAVAILABLE"
	CodeCapacityExceeded    = "CAPACITY_EXCEEDED"
	CodeInternal            = "INTERNAL"
)

// Close codes (PROTOCOL.md).
const (
	CloseGoingAway      = 1001
	ClosePolicy         = 1008
	CloseTooBig         = 1009
	CloseServiceRestart = 1012
	CloseTryAgainLater  = 1013
	CloseAuth           = 4001
	CloseSlowConsumer   = 4008
)

var kindCodes = map[domain.Kind]string{
	domain.KindInternal:            CodeInternal,
	domain.KindInvalidMessage:      CodeInvalidMessage,
	domain.KindAuthRequired:        CodeAuthRequired,
	domain.KindAuthFailed:          CodeAuthFailed,
	domain.KindAuthRateLimited:     CodeAuthRateLimited,
	domain.KindTokenExpired:        CodeTokenExpired,
	domain.KindForbidden:           CodeForbidden,
	domain.KindSessionNotFound:     CodeSessionNotFound,
	domain.KindInvalidState:        CodeInvalidState,
	domain.KindNotFound:            CodeNotFound,
	domain.KindUpstreamUnavailable: CodeUpstreamUnavailable,
	domain.KindCapacityExceeded:    CodeCapacityExceeded,
	domain.KindRateLimited:         CodeRateLimited,
	// A lost compare-and-set race is the client's to retry, like a state change.
	domain.KindConflict: CodeInvalidState,
}

// codeOf maps an error to its wire code.
func codeOf(err error) string {
	if c, ok := kindCodes[domain.KindOf(err)]; ok {
		return c
	}
	return CodeInternal
}
