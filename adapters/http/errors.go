package http

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/domain"
)

// The one place where REST maps domain error kinds to a status and a code.
var kindStatus = map[domain.Kind]struct {
	status int
	code   api.ErrorCode
}{
	domain.KindInternal:            {http.StatusInternalServerError, api.ErrorCodeINTERNAL},
	domain.KindInvalidMessage:      {http.StatusBadRequest, api.ErrorCodeINVALIDMESSAGE},
	domain.KindAuthRequired:        {http.StatusUnauthorized, api.ErrorCodeAUTHREQUIRED},
	domain.KindAuthFailed:          {http.StatusUnauthorized, api.ErrorCodeAUTHFAILED},
	domain.KindAuthRateLimited:     {http.StatusTooManyRequests, api.ErrorCodeAUTHRATELIMITED},
	domain.KindTokenExpired:        {http.StatusUnauthorized, api.ErrorCodeTOKENEXPIRED},
	domain.KindForbidden:           {http.StatusForbidden, api.ErrorCodeFORBIDDEN},
	domain.KindSessionNotFound:     {http.StatusNotFound, api.ErrorCodeSESSIONNOTFOUND},
	domain.KindInvalidState:        {http.StatusConflict, api.ErrorCodeINVALIDSTATE},
	domain.KindNotFound:            {http.StatusNotFound, api.ErrorCodeNOTFOUND},
	domain.KindUpstreamUnavailable: {http.StatusServiceUnavailable, api.ErrorCodeUPSTREAMUNAVAILABLE},
	domain.KindCapacityExceeded:    {http.StatusServiceUnavailable, api.ErrorCodeCAPACITYEXCEEDED},
	domain.KindRateLimited:         {http.StatusTooManyRequests, api.ErrorCodeRATELIMITED},
	domain.KindConflict:            {http.StatusConflict, api.ErrorCodeINVALIDSTATE},
}

// statusCodes maps framework errors (binding, routing, limits, validation),
// which carry only a status, to a wire code.
var statusCodes = map[int]api.ErrorCode{
	http.StatusBadRequest:            api.ErrorCodeINVALIDMESSAGE,
	http.StatusUnauthorized:          api.ErrorCodeAUTHREQUIRED,
	http.StatusForbidden:             api.ErrorCodeFORBIDDEN,
	http.StatusNotFound:              api.ErrorCodeNOTFOUND,
	http.StatusMethodNotAllowed:      api.ErrorCodeNOTFOUND,
	http.StatusRequestEntityTooLarge: api.ErrorCodeMESSAGETOOLARGE,
	http.StatusUnsupportedMediaType:  api.ErrorCodeINVALIDMESSAGE,
	http.StatusTooManyRequests:       api.ErrorCodeRATELIMITED,
	http.StatusServiceUnavailable:    api.ErrorCodeUPSTREAMUNAVAILABLE,
}

// errorHandler renders every error as {"error": {code, message, requestId}}.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code, msg := http.StatusInternalServerError, api.ErrorCodeINTERNAL, "internal error"
	var retryAfter int64
	var he *echo.HTTPError
	var de *domain.Error
	switch {
	case errors.As(err, &de):
		m := kindStatus[de.Kind]
		status, code, msg = m.status, m.code, de.Message
		if s.cfg.DevMode && de.Cause != nil {
			msg = de.Error()
		}
		if de.RetryAfter > 0 {
			retryAfter = max(1, de.RetryAfter.Milliseconds())
			c.Response().Header().Set("Retry-After", itoaCeilSeconds(retryAfter))
		}
		if de.Kind == domain.KindInternal || de.Kind == domain.KindUpstreamUnavailable {
			s.log.Warn("request failed", "path", c.Path(), "err", err)
		}
	case errors.As(err, &he):
		status = he.Code
		if c2, ok := statusCodes[he.Code]; ok {
			code = c2
		}
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(he.Code)
		}
	default:
		s.log.Error("unhandled error", "path", c.Path(), "err", err)
	}
	c.Set(wireCodeKey, code)
	rid := c.Response().Header().Get(echo.HeaderXRequestID)
	body := api.ErrorBody{Error: api.ErrorDetail{Code: code, Message: msg}}
	if rid != "" {
		body.Error.RequestId = &rid
	}
	if retryAfter > 0 {
		body.Error.RetryAfterMs = &retryAfter
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, body)
}

// wireCodeKey holds, in the request's context, the code of the error body
// errorHandler sent.
const wireCodeKey = "diminuendo.wireCode"

// WireCode is the wire code of the error response c sent, "" when it sent
// none. It is read after the response is written (by the metrics).
func WireCode(c echo.Context) string {
	code, _ := c.Get(wireCodeKey).(api.ErrorCode)
	return string(code)
}

func itoaCeilSeconds(ms int64) string { return strconv.FormatInt(max(1, (ms+999)/1000), 10) }
