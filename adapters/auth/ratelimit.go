package auth

import (
	"math"
	"net/netip"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// Defaults of RateLimitConfig.
const (
	DefaultFailuresPerMinute = 10
	DefaultFailureBurst      = 5
	DefaultRateLimitSize     = 10_000
)

// RateLimitConfig configures an AuthRateLimiter.
type RateLimitConfig struct {
	// FailuresPerMinute is the sustained rate of failed attempts allowed
	// per address. Default 10.
	FailuresPerMinute int
	// Burst is how many failures in a row an address gets before it has to
	// wait. Default 5.
	Burst int
	// Size bounds the number of addresses tracked; the least recently
	// failing are forgotten first. Default 10,000.
	Size int
	// Clock is the time source. Default: the wall clock.
	Clock ports.Clock
}

// AuthRateLimiter limits failed authentication attempts per client address,
// so guessing or replaying tokens from one address is slowed to a crawl while
// every other address is unaffected. Only failures are counted: a client
// that authenticates successfully never uses up its allowance.
//
// Callers ask Allow (or Check) before verifying and call Fail after a
// verification fails. Addresses are grouped as a client controls them: an
// IPv4 address alone, an IPv6 address by its /64, since one host is
// routinely handed a whole /64.
type AuthRateLimiter struct {
	every rate.Limit
	burst int
	clock ports.Clock
	addrs *lru.Cache[string, *rate.Limiter]
}

// NewAuthRateLimiter builds a limiter, filling in defaults.
func NewAuthRateLimiter(cfg RateLimitConfig) (*AuthRateLimiter, error) {
	if cfg.FailuresPerMinute <= 0 {
		cfg.FailuresPerMinute = DefaultFailuresPerMinute
	}
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultFailureBurst
	}
	if cfg.Size <= 0 {
		cfg.Size = DefaultRateLimitSize
	}
	if cfg.Clock == nil {
		cfg.Clock = wallClock{}
	}
	addrs, err := lru.New[string, *rate.Limiter](cfg.Size)
	if err != nil {
		return nil, err
	}
	return &AuthRateLimiter{
		every: rate.Limit(float64(cfg.FailuresPerMinute) / 60),
		burst: cfg.Burst,
		clock: cfg.Clock,
		addrs: addrs,
	}, nil
}

// Allow reports whether ip may attempt to authenticate now, and if not, how
// long until it may.
func (l *AuthRateLimiter) Allow(ip string) (ok bool, retryAfter time.Duration) {
	lim, found := l.addrs.Peek(addrKey(ip))
	if !found {
		return true, 0
	}
	tokens := lim.TokensAt(l.clock.Now())
	if tokens >= 1 {
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - tokens) / float64(l.every) * float64(time.Second)))
	return false, max(wait, time.Millisecond)
}

// Check is Allow as the error the transports send: AUTH_RATE_LIMITED with
// RetryAfter set, or nil.
func (l *AuthRateLimiter) Check(ip string) error {
	if ok, wait := l.Allow(ip); !ok {
		return &domain.Error{Kind: domain.KindAuthRateLimited, Message: "too many failed authentication attempts", RetryAfter: wait}
	}
	return nil
}

// Fail records a failed attempt from ip.
func (l *AuthRateLimiter) Fail(ip string) {
	key := addrKey(ip)
	lim, found := l.addrs.Get(key)
	if !found {
		fresh := rate.NewLimiter(l.every, l.burst)
		if prev, raced, _ := l.addrs.PeekOrAdd(key, fresh); raced {
			lim = prev
		} else {
			lim = fresh
		}
	}
	lim.AllowN(l.clock.Now(), 1)
}

// addrKey groups addresses by what one client controls. Anything that does
// not parse is used as given, cut short so it cannot bloat the cache.
func addrKey(ip string) string {
	if ap, err := netip.ParseAddrPort(ip); err == nil {
		return prefixKey(ap.Addr())
	}
	if a, err := netip.ParseAddr(ip); err == nil {
		return prefixKey(a)
	}
	if len(ip) > 64 {
		ip = ip[:64]
	}
	return ip
}

func prefixKey(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
