package http

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/labstack/echo/v4"
)

// maxRequestIDLen bounds a caller's X-Request-Id, as requestId is bounded
// on the WebSocket.
const maxRequestIDLen = 128

// requestID names every request: the caller's X-Request-Id when it is a
// short token of safe characters, a fresh random id otherwise. The id is
// echoed in a header and in error bodies and logged, so anything else (a
// megabyte, control bytes, markup) is replaced, never echoed.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rid := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID(rid) {
			rid = newRequestID()
		}
		c.Request().Header.Set(echo.HeaderXRequestID, rid)
		c.Response().Header().Set(echo.HeaderXRequestID, rid)
		return next(c)
	}
}

func validRequestID(s string) bool {
	if s == "" || len(s) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b == '-', b == '_', b == '.', b == ':':
		default:
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
