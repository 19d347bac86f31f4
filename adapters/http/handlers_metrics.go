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

// WithWebClient serves the browser client (package web) at / and its
// assets. Public: the page holds no data; the WebSocket it opens
// authenticates like any other client.
func (s *Server) WithWebClient(h http.Handler) *Server {
	for _, p := range []string{"/", "/index.html", "/app.js"} {
		s.public[p] = true
		s.e.GET(p, echo.WrapHandler(h))
	}
	return s
}
