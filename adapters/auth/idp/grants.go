package idp

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// Bounds of the authorization-code flow's state. A code is exchanged within
// seconds of being issued; one that is not is dropped.
const (
	CodeTTL          = time.Minute
	RefreshTTL       = 24 * time.Hour
	MaxPendingCodes  = 1024
	MaxRefreshTokens = 1024
)

// grant is what a code or refresh token stands for.
type grant struct {
	clientID    string
	redirectURI string
	challenge   string // PKCE S256 code_challenge; codes only
	nonce       string
	scope       string
	audience    string
	user        Claims
	expires     time.Time
}

// grantStore holds single-use secrets (codes, refresh tokens) with a hard
// cap, so a client that keeps asking and never redeems cannot grow it.
type grantStore struct {
	mu  sync.Mutex
	max int
	m   map[string]grant
}

func newGrantStore(max int) *grantStore { return &grantStore{max: max, m: map[string]grant{}} }

// put stores g under a new random secret. When the store is full after
// dropping expired entries it refuses, rather than evicting a live grant
// someone is about to redeem.
func (s *grantStore) put(g grant, now time.Time) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.max {
		for k, v := range s.m {
			if !now.Before(v.expires) {
				delete(s.m, k)
			}
		}
		if len(s.m) >= s.max {
			return "", false
		}
	}
	secret := randomSecret()
	s.m[secret] = g
	return secret, true
}

// take removes and returns the grant: whatever the caller does next, the
// secret is never accepted again.
func (s *grantStore) take(secret string, now time.Time) (grant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.m[secret]
	if !ok {
		return grant{}, false
	}
	delete(s.m, secret)
	return g, now.Before(g.expires)
}

func (s *grantStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
