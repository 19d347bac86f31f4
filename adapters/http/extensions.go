package http

import (
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

// extensions are the Server's dependencies beyond New's arguments, set with
// the With* setters before Start, and the bookkeeping of its event streams.
type extensions struct {
	members    *app.Members
	models     *app.Models
	agentTypes *app.AgentTypes
	quotas     *app.ConnectionQuotas // nil: none
	rates      *app.RequestRates     // nil: none
	files      Files
	sse        SSEConfig
	signIn     app.SignIn
	metrics    echo.MiddlewareFunc // nil: none

	streamsMu     sync.Mutex
	streamsClosed bool
	streamsStop   chan struct{} // closed by endStreams
}

// WithQuotas applies per-tenant and per-user connection quotas to event
// streams, shared with the WebSocket server.
func (s *Server) WithQuotas(q *app.ConnectionQuotas) *Server {
	s.ext.quotas = q
	return s
}

// WithRequestRates limits each identity's REST requests.
func (s *Server) WithRequestRates(r *app.RequestRates) *Server {
	s.ext.rates = r
	return s
}

// rateLimit refuses an identity's request over its rate (429 RATE_LIMITED
// with Retry-After). It runs after authenticate: public routes carry no
// identity and are not limited here.
func (s *Server) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.ext.rates != nil {
			if id, ok := c.Request().Context().Value(identityKey{}).(domain.Identity); ok {
				if err := s.ext.rates.Allow(id, time.Now()); err != nil {
					return err
				}
			}
		}
		return next(c)
	}
}
