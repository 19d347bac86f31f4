package http

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// WithMetrics counts every request with mw and, when h is not nil, serves
// it on GET /metrics of this listener. The metrics hold counters only, no
// tenant data, so the route needs no token; in production serve them on an
// internal address instead (METRICS_ADDR), and pass h nil here.
func (s *Server) WithMetrics(h http.Handler, mw echo.MiddlewareFunc) *Server {
	s.e.Use(mw)
	if h != nil {
		s.e.GET("/metrics", echo.WrapHandler(h))
	}
	return s
}

// WithHandlerWrapper wraps the whole handler at Start (tracing).
func (s *Server) WithHandlerWrapper(wrap func(http.Handler) http.Handler) *Server {
	s.wrap = wrap
	return s
}
