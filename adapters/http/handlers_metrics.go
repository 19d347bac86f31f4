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
	s.ext.metrics = mw
	if h != nil {
		s.e.GET("/metrics", echo.WrapHandler(h))
	}
	return s
}

// observe runs the metrics middleware first of all, so it counts every
// response with the status and code the client got, including refusals by
// authentication, the rate limit, the body limit and the validator, which
// answer before any handler runs.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.ext.metrics == nil {
			return next(c)
		}
		return s.ext.metrics(next)(c)
	}
}

// WithHandlerWrapper wraps the whole handler at Start (tracing).
func (s *Server) WithHandlerWrapper(wrap func(http.Handler) http.Handler) *Server {
	s.wrap = wrap
	return s
}
