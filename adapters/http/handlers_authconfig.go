package http

import (
	"context"

	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app"
)

// authConfigPath is public: a browser reads it before it has a token.
const authConfigPath = "/api/auth/config"

// WithSignIn gives the server the settings GET /api/auth/config serves.
func (s *Server) WithSignIn(si app.SignIn) *Server {
	s.ext.signIn = si
	return s
}

func (h *handlers) GetAuthConfig(context.Context, api.GetAuthConfigRequestObject) (api.GetAuthConfigResponseObject, error) {
	si := h.s.ext.signIn
	// A server built without WithSignIn still tells the truth about dev mode.
	return api.GetAuthConfig200JSONResponse{Domain: si.Domain, ClientId: si.ClientID, Audience: si.Audience,
		DevMode: si.DevMode || h.s.cfg.DevMode}, nil
}
