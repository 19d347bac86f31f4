package auth

import (
	"crypto/sha256"
	"slices"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/diminuendo/diminuendo/domain"
)

// tokenCache remembers verified tokens so that a client reconnecting, or a
// REST call per request, costs a hash rather than an RSA verification. Keys
// are SHA-256 digests so the cache never holds a usable token.
type tokenCache struct {
	lru *lru.Cache[[sha256.Size]byte, cachedIdentity]
}

type cachedIdentity struct {
	id         domain.Identity
	exp        time.Time
	servedTill time.Time // min(exp, cached at + MaxCachedFor)
}

func newTokenCache(size int) (*tokenCache, error) {
	c, err := lru.New[[sha256.Size]byte, cachedIdentity](size)
	if err != nil {
		return nil, err
	}
	return &tokenCache{lru: c}, nil
}

func tokenKey(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

// get returns a copy of the cached identity, so a caller editing it cannot
// change what the next caller gets.
func (c *tokenCache) get(key [sha256.Size]byte, now time.Time) (domain.Identity, time.Time, bool) {
	e, ok := c.lru.Get(key)
	if !ok {
		return domain.Identity{}, time.Time{}, false
	}
	if !now.Before(e.servedTill) {
		c.lru.Remove(key)
		return domain.Identity{}, time.Time{}, false
	}
	id := e.id
	id.Permissions = slices.Clone(id.Permissions)
	return id, e.exp, true
}

// put caches id until the token expires or MaxCachedFor passes, whichever is
// first. Clock skew is deliberately not added: a token in its grace period is
// verified afresh each time, never served from here past its exp.
func (c *tokenCache) put(key [sha256.Size]byte, id domain.Identity, exp, now time.Time) {
	till := now.Add(MaxCachedFor)
	if exp.Before(till) {
		till = exp
	}
	if !till.After(now) {
		return
	}
	id.Permissions = slices.Clone(id.Permissions)
	c.lru.Add(key, cachedIdentity{id: id, exp: exp, servedTill: till})
}
