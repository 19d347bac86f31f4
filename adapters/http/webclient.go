package http

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// webClientRoute catches every GET and HEAD no API route takes: the browser client
// and its assets.
const webClientRoute = "/*"

// WithWebClient serves the browser client (package web) on every path that
// is not the API's. Public: the page holds no data; the WebSocket it opens
// and the API calls it makes authenticate like any other client's.
func (s *Server) WithWebClient(h http.Handler) *Server {
	s.e.Match([]string{http.MethodGet, http.MethodHead}, webClientRoute, func(c echo.Context) error {
		if apiPath(c.Request().URL.Path) {
			return echo.ErrNotFound // an unknown API path stays a JSON 404
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	})
	return s
}

func apiPath(p string) bool {
	return p == "/api" || strings.HasPrefix(p, "/api/") || p == "/ws" || p == "/metrics" || p == "/livez" || p == "/readyz"
}
