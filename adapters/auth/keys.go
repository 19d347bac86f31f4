package auth

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"sync"
	"time"

	"gopkg.in/go-jose/go-jose.v2"

	"github.com/diminuendo/diminuendo/domain"
)

const (
	minRSABits   = 2048
	fetchTimeout = 10 * time.Second
)

var errNoUsableKeys = errors.New("JWKS holds no usable RS256 signing key")

// keySet caches the IdP's RS256 signing keys by kid. The middleware's own
// CachingProvider cannot look up a kid nor refetch when one is missing, so
// fetching goes through its plain jwks.Provider and the caching is here.
//
// Rules: keys are refreshed after ttl; a stale set keeps serving while one
// caller refreshes it; a kid not in the set causes at most one refetch per
// refetchInterval, whatever the kid, and concurrent callers share that fetch.
type keySet struct {
	fetch           func(context.Context) (any, error)
	now             func() time.Time
	ttl             time.Duration
	refetchInterval time.Duration

	mu        sync.RWMutex
	keys      map[string]*rsa.PublicKey
	fetchedAt time.Time

	// fetchMu serialises fetches; the fields below are guarded by it.
	fetchMu     sync.Mutex
	retryAt     time.Time // after a failed fetch, none before this
	lastRefetch time.Time // last fetch caused by an unknown kid
}

func (s *keySet) lookup(kid string) (k *rsa.PublicKey, found, fresh bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, found = s.keys[kid]
	return k, found, s.freshRLocked()
}

func (s *keySet) fresh() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.freshRLocked()
}

func (s *keySet) freshRLocked() bool {
	return !s.fetchedAt.IsZero() && s.now().Sub(s.fetchedAt) < s.ttl
}

func (s *keySet) empty() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.keys) == 0
}

// key returns the signing key for kid, or a domain error: AUTH_FAILED for a
// kid the IdP does not publish, UPSTREAM_UNAVAILABLE when no keys can be had.
func (s *keySet) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	k, found, fresh := s.lookup(kid)
	if found && fresh {
		return k, nil
	}
	if found {
		// Stale but known: one caller refreshes, the rest keep verifying with
		// the key they have instead of queueing behind the network.
		if s.fetchMu.TryLock() {
			s.refreshStaleLocked(ctx)
			s.fetchMu.Unlock()
		}
		if k, found, _ = s.lookup(kid); found {
			return k, nil
		}
		// The refresh retired this kid.
		return nil, domain.E(domain.KindAuthFailed, "unknown signing key")
	}

	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	fetched, err := s.refreshStaleLocked(ctx)
	if err != nil && s.empty() {
		return nil, errIdPUnavailable(err)
	}
	if k, found, _ = s.lookup(kid); found {
		return k, nil
	}
	now := s.now()
	if fetched {
		// The fetch just made is as fresh as a refetch would be.
		s.lastRefetch = now
		return nil, domain.E(domain.KindAuthFailed, "unknown signing key")
	}
	if !s.lastRefetch.IsZero() && now.Sub(s.lastRefetch) < s.refetchInterval {
		return nil, domain.E(domain.KindAuthFailed, "unknown signing key")
	}
	s.lastRefetch = now
	if err := s.fetchLocked(ctx); err != nil {
		return nil, errIdPUnavailable(err)
	}
	if k, found, _ = s.lookup(kid); found {
		return k, nil
	}
	return nil, domain.E(domain.KindAuthFailed, "unknown signing key")
}

// refreshStaleLocked fetches when the set is stale and no failed fetch is
// being backed off from. fetched reports whether a fetch succeeded.
func (s *keySet) refreshStaleLocked(ctx context.Context) (fetched bool, err error) {
	if s.fresh() {
		return false, nil
	}
	if s.now().Before(s.retryAt) {
		return false, errors.New("backing off after a failed JWKS fetch")
	}
	if err := s.fetchLocked(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// fetchLocked replaces the set with the IdP's. A failed fetch, or one with no
// usable key (an error page decoded as an empty set), keeps the old set and
// holds off further fetches for refetchInterval.
func (s *keySet) fetchLocked(ctx context.Context) error {
	// Detached from the caller: the result serves every waiting caller, and
	// one of them hanging up must not fail it for the rest.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	keys, err := s.fetchKeys(fctx)
	if err != nil {
		s.retryAt = s.now().Add(s.refetchInterval)
		return err
	}
	s.mu.Lock()
	s.keys, s.fetchedAt = keys, s.now()
	s.mu.Unlock()
	s.retryAt = time.Time{}
	return nil
}

func (s *keySet) fetchKeys(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	v, err := s.fetch(ctx)
	if err != nil {
		return nil, err
	}
	set, ok := v.(*jose.JSONWebKeySet)
	if !ok {
		return nil, fmt.Errorf("JWKS provider returned %T", v)
	}
	keys := make(map[string]*rsa.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		pub, ok := k.Key.(*rsa.PublicKey)
		switch {
		case !ok || k.KeyID == "":
		case k.Use != "" && k.Use != "sig":
		case k.Algorithm != "" && k.Algorithm != "RS256":
		case pub.N.BitLen() < minRSABits:
		default:
			keys[k.KeyID] = pub
		}
	}
	if len(keys) == 0 {
		return nil, errNoUsableKeys
	}
	return keys, nil
}

func errIdPUnavailable(cause error) *domain.Error {
	return domain.Wrap(domain.KindUpstreamUnavailable, "identity provider unavailable", cause)
}
