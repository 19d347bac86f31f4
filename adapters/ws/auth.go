package ws

import (
	"context"
	"time"

	"diminuendo/domain"
)

func (s *Server) handleAuthenticate(ctx context.Context, c *conn, _ domain.Identity, raw []byte, rid string) error {
	var m struct {
		Token string `json:"token"`
	}
	if err := decode(raw, &m); err != nil {
		return err
	}
	if s.cfg.DevMode {
		s.authenticated(c, domain.DevIdentity(), time.Time{}, rid)
		return nil
	}
	if ok, retry := s.allowAuth(c.ip); !ok {
		return &domain.Error{Kind: domain.KindAuthRateLimited, Message: "too many failed authentications; retry later", RetryAfter: retry}
	}
	if m.Token == "" {
		s.failAuth(c.ip)
		return domain.E(domain.KindAuthFailed, "token is required")
	}
	id, exp, err := s.verifier.Verify(ctx, m.Token)
	if err != nil {
		if domain.KindOf(err) != domain.KindUpstreamUnavailable {
			s.failAuth(c.ip)
		}
		return err
	}
	if cur, ok := c.identity(); ok && (cur.UserID != id.UserID || cur.TenantID != id.TenantID) {
		s.failAuth(c.ip)
		return domain.E(domain.KindAuthFailed, "a connection keeps its user and tenant; reconnect to switch")
	}
	s.authenticated(c, id, exp, rid)
	return nil
}

// authenticated records the identity and arms the expiry timers: a warning
// ExpiryWarning before exp, and close 4001 at exp.
func (s *Server) authenticated(c *conn, id domain.Identity, exp time.Time, rid string) {
	c.mu.Lock()
	c.ident = &id
	c.expires = exp
	for _, t := range []*time.Timer{c.authTime, c.expTimer, c.warnTime} {
		if t != nil {
			t.Stop()
		}
	}
	c.authTime, c.expTimer, c.warnTime = nil, nil, nil
	if !exp.IsZero() && !c.closed {
		until := time.Until(exp)
		c.warnTime = time.AfterFunc(max(0, until-s.cfg.ExpiryWarning), func() {
			c.push(newReply("auth_expiring", "").with("expiresAt", exp.UnixMilli()).encode())
		})
		c.expTimer = time.AfterFunc(max(0, until), func() {
			c.mu.Lock()
			still := c.expires.Equal(exp)
			c.mu.Unlock()
			if still {
				c.push(s.errorFrame(CodeTokenExpired, "the token expired", ""))
				c.closeWith(CloseAuth, "token expired")
			}
		})
	}
	c.mu.Unlock()
	c.push(newReply("authenticated", rid).with("identity", id).encode())
}
