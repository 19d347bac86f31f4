package app

import (
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/diminuendo/diminuendo/domain"
)

// maxRatedIdentities bounds the identities whose request rate is tracked;
// the least recently seen is forgotten first (about 0.5 KiB each at the
// default limit).
const maxRatedIdentities = 50_000

// RequestRates limits each identity's REST requests to the rate one
// WebSocket connection may send messages at, so the REST twins of the
// messages are no way around it.
type RequestRates struct {
	limit  int
	window time.Duration

	mu      sync.Mutex
	windows *lru.Cache[string, *domain.SlidingWindow]
}

// NewRequestRates allows limit requests per window per identity; a limit
// of 0 or less allows everything.
func NewRequestRates(limit int, window time.Duration) *RequestRates {
	c, _ := lru.New[string, *domain.SlidingWindow](maxRatedIdentities) // size > 0: cannot fail
	return &RequestRates{limit: limit, window: window, windows: c}
}

// Allow admits one request of id at now, or refuses it with RATE_LIMITED
// and how long to wait.
func (r *RequestRates) Allow(id domain.Identity, now time.Time) error {
	if r.limit <= 0 {
		return nil
	}
	key := id.TenantID + "\x00" + id.UserID
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.windows.Get(key)
	if !ok {
		w = domain.NewSlidingWindow(r.limit, r.window)
		r.windows.Add(key, w)
	}
	if ok, retry := w.Allow(now); !ok {
		return &domain.Error{Kind: domain.KindRateLimited, Message: "too many requests; slow down", RetryAfter: retry}
	}
	return nil
}
