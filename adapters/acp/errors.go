package acp

import (
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/domain"
)

// JSON-RPC 2.0 error codes, and the ones ACP adds. Codes from -32000 to
// -32099 are the implementation's own; the gateway's code rides in data.
const (
	codeParseError      = -32700
	codeInvalidRequest  = -32600
	codeMethodNotFound  = -32601
	codeInvalidParams   = -32602
	codeInternal        = -32603
	codeAuthRequired    = -32000 // ACP: authentication required
	codeForbidden       = -32001
	codeNotFound        = -32002 // ACP: resource not found
	codeInvalidState    = -32003
	codeUnavailable     = -32004
	codeRateLimited     = -32005
	codeRequestCanceled = -32800 // ACP: request cancelled
)

// kindErrors is the one place where the ACP transport maps domain error
// kinds to a JSON-RPC code and the gateway's wire code.
var kindErrors = map[domain.Kind]struct {
	rpc  int
	wire api.ErrorCode
}{
	domain.KindInternal:            {codeInternal, api.ErrorCodeINTERNAL},
	domain.KindInvalidMessage:      {codeInvalidParams, api.ErrorCodeINVALIDMESSAGE},
	domain.KindAuthRequired:        {codeAuthRequired, api.ErrorCodeAUTHREQUIRED},
	domain.KindAuthFailed:          {codeAuthRequired, api.ErrorCodeAUTHFAILED},
	domain.KindAuthRateLimited:     {codeRateLimited, api.ErrorCodeAUTHRATELIMITED},
	domain.KindTokenExpired:        {codeAuthRequired, api.ErrorCodeTOKENEXPIRED},
	domain.KindForbidden:           {codeForbidden, api.ErrorCodeFORBIDDEN},
	domain.KindSessionNotFound:     {codeNotFound, api.ErrorCodeSESSIONNOTFOUND},
	domain.KindInvalidState:        {codeInvalidState, api.ErrorCodeINVALIDSTATE},
	domain.KindNotFound:            {codeNotFound, api.ErrorCodeNOTFOUND},
	domain.KindUpstreamUnavailable: {codeUnavailable, api.ErrorCodeUPSTREAMUNAVAILABLE},
	domain.KindCapacityExceeded:    {codeUnavailable, api.ErrorCodeCAPACITYEXCEEDED},
	domain.KindRateLimited:         {codeRateLimited, api.ErrorCodeRATELIMITED},
	domain.KindConflict:            {codeInvalidState, api.ErrorCodeINVALIDSTATE},
}

// rpcError is a JSON-RPC error object.
type rpcError struct {
	Code    int        `json:"code"`
	Message string     `json:"message"`
	Data    *errorData `json:"data,omitempty"`
}

// errorData carries the gateway's own code, so a client can act on it the
// way a /ws client acts on an error frame.
type errorData struct {
	Code         string `json:"code"`
	RetryAfterMs int64  `json:"retryAfterMs,omitempty"`
}

func (e *rpcError) Error() string { return e.Message }

// errorOf maps any error to its JSON-RPC error; an untyped one reveals nothing.
func errorOf(err error) *rpcError {
	if re, ok := err.(*rpcError); ok {
		return re
	}
	de := domain.As(err)
	m, ok := kindErrors[de.Kind]
	if !ok {
		m = kindErrors[domain.KindInternal]
	}
	out := &rpcError{Code: m.rpc, Message: de.Message, Data: &errorData{Code: string(m.wire)}}
	if de.RetryAfter > 0 {
		out.Data.RetryAfterMs = max(1, de.RetryAfter.Milliseconds())
	}
	return out
}

func invalidParams(msg string) *rpcError {
	return &rpcError{Code: codeInvalidParams, Message: msg, Data: &errorData{Code: string(api.ErrorCodeINVALIDMESSAGE)}}
}
