package http

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// WithMetrics serves h on GET /metrics and counts every request with mw.
// The metrics hold counters only, no tenant data, so the route needs no
// token; keep it off the public load balancer in production.
func (s *Server) WithMetrics(h http.Handler, mw echo.MiddlewareFunc) *Server {
	s.e.Use(mw)
	s.e.GET("/metrics", echo.WrapHandler(h))
	return s
}

// WithHandlerWrapper wraps the whole handler at Start (tracing).
func (s *Server) WithHandlerWrapper(wrap func(http.Handler) http.Handler) *Server {
	s.wrap = wrap
	return s
}
