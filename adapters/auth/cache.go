package auth

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/diminuendo/diminuendo/domain"
)

// tokenCache remembers verified tokens so that a client reconnecting, or a
// REST call per request, costs a hash rather than an RSA verification. Keys
// are SHA-256 digests so the cache never holds a usable token.
//
// Only a token seen a second time is cached. Most tokens open one socket
// and are never presented again; caching each would keep an entry per
// connection (the identity, its permissions, the LRU's element and map
// slot) for nothing. The first sight leaves only a fingerprint in seen, a
// fixed table allocated once, so a storm of single-use tokens retains no
// memory per token, and a reused token costs one extra verification.
type tokenCache struct {
	lru  *lru.Cache[[sha256.Size]byte, cachedIdentity]
	seen []atomic.Uint64 // direct-mapped fingerprints of tokens verified once
	mask uint64
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
	slots := uint64(64)
	for slots < uint64(size) {
		slots <<= 1
	}
	return &tokenCache{lru: c, seen: make([]atomic.Uint64, slots), mask: slots - 1}, nil
}

// seenBefore reports whether key was verified before and, if not, records
// it. A collision (another token's fingerprint in the slot) at worst admits
// a token one sight early or late: entries are looked up by the full key.
func (c *tokenCache) seenBefore(key [sha256.Size]byte) bool {
	fp := binary.LittleEndian.Uint64(key[:8]) | 1 // never the empty slot's 0
	slot := &c.seen[binary.LittleEndian.Uint64(key[8:16])&c.mask]
	if slot.Load() == fp {
		return true
	}
	slot.Store(fp)
	return false
}

func tokenKey(token string) [sha256.Size]byte { return sum256(token) }

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

// put caches id, if key was verified before (seenBefore), until the token
// expires or MaxCachedFor passes, whichever is first. Clock skew is
// deliberately not added: a token in its grace period is verified afresh
// each time, never served from here past its exp.
func (c *tokenCache) put(key [sha256.Size]byte, id domain.Identity, exp, now time.Time) {
	till := now.Add(MaxCachedFor)
	if exp.Before(till) {
		till = exp
	}
	if !till.After(now) || !c.seenBefore(key) {
		return
	}
	id.Permissions = slices.Clone(id.Permissions)
	c.lru.Add(key, cachedIdentity{id: id, exp: exp, servedTill: till})
}
