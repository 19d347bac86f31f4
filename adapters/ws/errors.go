package ws

import (
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/domain"
)

// Wire error codes: the contract's ErrorCode values. This is the one place
// where the WebSocket transport maps domain error kinds to them.
const (
	CodeInvalidJSON         = string(api.ErrorCodeINVALIDJSON)
	CodeInvalidMessage      = string(api.ErrorCodeINVALIDMESSAGE)
	CodeMessageTooLarge     = string(api.ErrorCodeMESSAGETOOLARGE)
	CodeRateLimited         = string(api.ErrorCodeRATELIMITED)
	CodeAuthRequired        = string(api.ErrorCodeAUTHREQUIRED)
	CodeAuthFailed          = string(api.ErrorCodeAUTHFAILED)
	CodeAuthRateLimited     = string(api.ErrorCodeAUTHRATELIMITED)
	CodeTokenExpired        = string(api.ErrorCodeTOKENEXPIRED)
	CodeForbidden           = string(api.ErrorCodeFORBIDDEN)
	CodeSessionNotFound     = string(api.ErrorCodeSESSIONNOTFOUND)
	CodeInvalidState        = string(api.ErrorCodeINVALIDSTATE)
	CodeNotFound            = string(api.ErrorCodeNOTFOUND)
	CodeUpstreamUnavailable = string(api.ErrorCodeUPSTREAMUNAVAILABLE)
	CodeCapacityExceeded    = string(api.ErrorCodeCAPACITYEXCEEDED)
	CodeInternal            = string(api.ErrorCodeINTERNAL)
)

// Close codes (docs/protocol.md).
const (
	CloseGoingAway      = 1001
	CloseInvalidPayload = 1007
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
