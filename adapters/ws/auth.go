package ws

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/adapters/apiconv"
	"github.com/diminuendo/diminuendo/adapters/auth"
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/domain"
)

func (s *Server) handleAuthenticate(ctx context.Context, c *conn, _ domain.Identity, raw []byte, rid string) error {
	var m api.AuthenticateMessage
	if err := decode(raw, &m); err != nil {
		return err
	}
	if s.cfg.DevMode {
		s.authenticated(c, domain.DevIdentity(), time.Time{}, rid)
		return nil
	}
	id, exp, err := s.authenticateMessage(ctx, c, m.Token)
	if err != nil {
		s.logAuthFailure(c.ip, err)
		return err
	}
	if cur, ok := c.identity(); ok {
		if err := cur.Refresh(id); err != nil {
			s.gate().Fail(c.ip)
			s.logAuthFailure(c.ip, err)
			return err
		}
		s.reauthorize(c, id)
	}
	s.authenticated(c, id, exp, rid)
	return nil
}

// authenticateMessage verifies the token of an authenticate message; an
// empty one counts as a failed attempt.
func (s *Server) authenticateMessage(ctx context.Context, c *conn, token string) (domain.Identity, time.Time, error) {
	g := s.gate()
	if token == "" {
		if err := g.Admit(c.ip); err != nil {
			return domain.Identity{}, time.Time{}, err
		}
		g.Fail(c.ip)
		return domain.Identity{}, time.Time{}, domain.E(domain.KindAuthFailed, "token is required")
	}
	return g.Verify(ctx, c.ip, token)
}

// reauthorize detaches c, before its new identity takes effect, from every
// joined session that identity may not see (a downgrade), and tells the
// client with session_left.
func (s *Server) reauthorize(c *conn, id domain.Identity) {
	for _, sid := range s.hub.Reauthorize(id, c.joinedIDs(), c) {
		c.mu.Lock()
		delete(c.joined, sid)
		c.mu.Unlock()
		c.push(encode(api.SessionLeftReply{Type: api.SessionLeftReplyTypeSessionLeft, SessionId: sid}))
	}
}

// authenticated records the identity and arms the expiry timer: a warning
// ExpiryWarning before exp, and close 4001 at exp.
func (s *Server) authenticated(c *conn, id domain.Identity, exp time.Time, rid string) {
	if domain.CheckTenantHint(id, c.tenantHint) != nil {
		c.push(s.errorFrame(CodeForbidden, "the tenant hint in the URL does not match your token's tenant; send your own tenant or none", rid))
		c.closeWith(ClosePolicy, "tenant hint mismatch")
		return
	}
	if !s.takeQuota(c, id, rid) {
		return
	}
	c.mu.Lock()
	c.ident = &id
	c.expires = exp
	for _, t := range []*time.Timer{c.authTime, c.expTimer} {
		if t != nil {
			t.Stop()
		}
	}
	c.authTime, c.expTimer = nil, nil
	if !exp.IsZero() && !c.closed {
		// One timer per connection: it fires ExpiryWarning before exp
		// with auth_expiring, then again at exp with the close. It acts
		// only while its token is still the connection's (a refresh may
		// replace it as it fires).
		warned := false // touched only by the timer's runs, one at a time
		c.expTimer = time.AfterFunc(max(0, time.Until(exp)-s.cfg.ExpiryWarning), func() {
			c.mu.Lock()
			if !c.expires.Equal(exp) || c.closed {
				c.mu.Unlock()
				return
			}
			first := !warned
			warned = true
			again := first && time.Until(exp) > 0
			if again {
				c.expTimer.Reset(time.Until(exp))
			}
			c.mu.Unlock()
			if first {
				c.push(encode(api.AuthExpiring{Type: api.AuthExpiringTypeAuthExpiring, ExpiresAt: exp.UnixMilli()}))
			}
			if again {
				return
			}
			c.push(s.errorFrame(CodeTokenExpired, "the token expired", ""))
			c.closeWith(CloseAuth, "token expired")
		})
	}
	c.mu.Unlock()
	c.push(encode(api.Authenticated{Type: api.AuthenticatedTypeAuthenticated, RequestId: optional(rid), Identity: apiconv.Identity(id)}))
}

// takeQuota gives a connection its place in the per-tenant and per-user
// connection quotas when it first authenticates (a refresh keeps its user
// and tenant, so its place). Over a quota the client gets CAPACITY_EXCEEDED
// with a retry hint and close 1013. Dev mode has one identity and no quotas.
func (s *Server) takeQuota(c *conn, id domain.Identity, rid string) bool {
	if s.quotas == nil || s.cfg.DevMode {
		return true
	}
	c.mu.Lock()
	held := c.quota != nil
	c.mu.Unlock()
	if held {
		return true
	}
	release, err := s.quotas.Acquire(id)
	if err != nil {
		s.countError(CodeCapacityExceeded)
		c.push(encodeError(err, rid, "", s.cfg.DevMode))
		c.closeWith(CloseTryAgainLater, "over quota")
		return false
	}
	c.mu.Lock()
	closed := c.closed
	if !closed {
		c.quota = release
	}
	c.mu.Unlock()
	if closed {
		release()
		return false
	}
	return true
}

// authenticateUpgrade checks the upgrade request before any WebSocket
// exists: tokens in the query string are refused, and a bearer token in the
// Authorization header or in a TokenProtocolPrefix subprotocol, when present
// outside dev mode, must be valid.
// No token is fine: the client then has AuthTimeout to send authenticate.
// Errors are *domain.Error, so the refusal carries the same code as REST's.
func (s *Server) authenticateUpgrade(r *http.Request) (*domain.Identity, time.Time, error) {
	if auth.QueryToken(r) {
		return nil, time.Time{}, domain.E(domain.KindAuthFailed,
			"tokens in the query string are refused; use the authenticate message or the Authorization header")
	}
	// Only a Bearer header is ours: a browser may attach Basic credentials
	// cached for a proxy in front of us, and must still be able to send
	// authenticate.
	tok, ok := auth.BearerToken(r.Header.Get("Authorization"))
	ptok, pok, err := protocolToken(websocket.Subprotocols(r))
	if err != nil {
		return nil, time.Time{}, err
	}
	if ok && pok {
		return nil, time.Time{}, domain.E(domain.KindInvalidMessage,
			"a token in the Authorization header and another in Sec-WebSocket-Protocol; send one")
	}
	if pok {
		tok, ok = ptok, true
	}
	if !ok || s.cfg.DevMode {
		return nil, time.Time{}, nil
	}
	id, exp, err := s.gate().Verify(r.Context(), clientIP(r), tok)
	if err != nil {
		return nil, time.Time{}, err
	}
	return &id, exp, nil
}

// protocolToken finds the token among the subprotocols a client named. It
// must come with one the server selects, or a browser would fail the
// upgrade on a response that selects none, and it must come once.
func protocolToken(offered []string) (tok string, ok bool, err error) {
	selectable := false
	for _, p := range offered {
		switch {
		case p == BatchProtocol || p == PlainProtocol:
			selectable = true
		case strings.HasPrefix(p, TokenProtocolPrefix):
			if ok {
				return "", false, domain.E(domain.KindInvalidMessage, "more than one token in Sec-WebSocket-Protocol")
			}
			tok, ok = strings.TrimPrefix(p, TokenProtocolPrefix), true
		}
	}
	if ok && !selectable {
		return "", false, domain.E(domain.KindInvalidMessage,
			"a token in Sec-WebSocket-Protocol needs "+PlainProtocol+" or "+BatchProtocol+" named beside it")
	}
	return tok, ok, nil
}

// gate verifies tokens as every front door does. No goroutine of the
// connection's life runs it: the upgrade's HTTP goroutine ends with the
// upgrade, and a message's handler runs on a goroutine of its own.
func (s *Server) gate() auth.Gate {
	return auth.Gate{Verifier: s.verifier, Limiter: s.limiter}
}
