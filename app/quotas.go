package app

import (
	"sync"
	"time"

	"github.com/diminuendo/diminuendo/domain"
)

// quotaRetry is the retry hint of a refused connection: places free up as
// other connections of the same tenant or user close.
const quotaRetry = 10 * time.Second

// ConnectionQuotas caps the long-lived connections (sockets and event
// streams) one tenant and one user hold on this instance, so that one
// tenant cannot take the whole connection budget from the others. A limit
// of 0 is no limit.
type ConnectionQuotas struct {
	perTenant, perUser int

	mu      sync.Mutex
	tenants map[string]int
	users   map[string]int // tenant + "\x00" + user
}

// NewConnectionQuotas builds the quotas.
func NewConnectionQuotas(perTenant, perUser int) *ConnectionQuotas {
	return &ConnectionQuotas{perTenant: perTenant, perUser: perUser, tenants: map[string]int{}, users: map[string]int{}}
}

// Acquire takes one place for id, or refuses with CAPACITY_EXCEEDED and a
// retry hint. release gives the place back; calling it more than once is
// harmless.
func (q *ConnectionQuotas) Acquire(id domain.Identity) (release func(), err error) {
	uk := id.TenantID + "\x00" + id.UserID
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.perTenant > 0 && q.tenants[id.TenantID] >= q.perTenant {
		return nil, &domain.Error{Kind: domain.KindCapacityExceeded, RetryAfter: quotaRetry,
			Message: "your organisation holds as many connections as one gateway instance allows; retry later"}
	}
	if q.perUser > 0 && q.users[uk] >= q.perUser {
		return nil, &domain.Error{Kind: domain.KindCapacityExceeded, RetryAfter: quotaRetry,
			Message: "you hold as many connections as one gateway instance allows; close one"}
	}
	q.tenants[id.TenantID]++
	q.users[uk]++
	// The release is kept by every connection for its lifetime: it holds
	// the two keys, not the whole identity.
	tenant := id.TenantID
	var once sync.Once
	return func() {
		once.Do(func() {
			q.mu.Lock()
			defer q.mu.Unlock()
			if q.tenants[tenant]--; q.tenants[tenant] <= 0 {
				delete(q.tenants, tenant)
			}
			if q.users[uk]--; q.users[uk] <= 0 {
				delete(q.users, uk)
			}
		})
	}, nil
}
