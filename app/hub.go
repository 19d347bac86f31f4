package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// Limits are the hub's budgets; each is configuration, and going over one is
// a clear refusal (CAPACITY_EXCEEDED), never a crash.
type Limits struct {
	// MaxActiveSessions caps sessions holding a live agent stream here, and
	// MaxActiveSessionsPerTenant one tenant's among them.
	MaxActiveSessions          int
	MaxActiveSessionsPerTenant int
	// WindowEvents and WindowBytes bound each session's replay window.
	WindowEvents int
	WindowBytes  int
	// MaxReplayEvents caps what a join replays; an older cursor gets
	// replayComplete:false and pages with get_events instead.
	MaxReplayEvents int
	// IdleTimeout deactivates a session with no connection and no turn.
	IdleTimeout time.Duration
	// UpstreamGrace is how long a lost agent stream may take to come back
	// before the running turn is failed.
	UpstreamGrace time.Duration
	// MaxSubscribers caps connections attached to one session, and
	// MaxSubscribersPerUser those of one user among them.
	MaxSubscribers        int
	MaxSubscribersPerUser int
}

// DefaultLimits are the per-instance budgets.
func DefaultLimits() Limits {
	return Limits{
		MaxActiveSessions: 5000,
		WindowEvents:      1000,
		WindowBytes:       1 << 20,
		MaxReplayEvents:   2000,
		IdleTimeout:       30 * time.Minute,
		UpstreamGrace:     1500 * time.Millisecond,
		MaxSubscribers:    256,
		// A person has a few tabs and devices open; more is a script.
		MaxSubscribersPerUser: 16,
	}
}

// Hub owns the sessions that are live on this instance and the use cases
// that drive them. It is the only writer of a session's sequenced stream.
type Hub struct {
	reg    ports.SessionRegistry
	rt     ports.AgentRuntime
	clock  ports.Clock
	log    *slog.Logger
	limits Limits

	mu        sync.Mutex
	live      map[string]*liveSession
	perTenant map[string]int // live sessions by tenant
	stats     Stats
	// secrets are forwarded to every new agent instance (sealed by the
	// runtime adapter; never logged).
	secrets map[string]string

	ctx    context.Context // lives until Close: owns the agent streams
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewHub builds the hub.
func NewHub(reg ports.SessionRegistry, rt ports.AgentRuntime, clock ports.Clock, log *slog.Logger, limits Limits) *Hub {
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{reg: coalesce(reg), rt: rt, clock: clock, log: log, limits: limits, live: map[string]*liveSession{}, perTenant: map[string]int{}, ctx: ctx, cancel: cancel}
	return h
}

// SetAgentSecrets sets the secrets every new agent instance receives.
func (h *Hub) SetAgentSecrets(s map[string]string) {
	h.mu.Lock()
	h.secrets = s
	h.mu.Unlock()
}

func (h *Hub) agentSecrets() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.secrets
}

// Start runs the idle janitor.
func (h *Hub) Start() {
	h.wg.Add(1)
	go h.janitor()
}

// Close detaches every stream. Agent instances keep running: any instance
// of the gateway can pick their sessions up again from Podium's history.
func (h *Hub) Close() {
	h.cancel()
	h.mu.Lock()
	all := make([]*liveSession, 0, len(h.live))
	for _, ls := range h.live {
		all = append(all, ls)
	}
	h.mu.Unlock()
	for _, ls := range all {
		ls.shutdown()
	}
	h.wg.Wait()
}

// ActiveSessions is the number of sessions live here.
func (h *Hub) ActiveSessions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.live)
}

// capacityRetry is the retry hint of a refused activation: sessions go idle
// and free their places within minutes.
const capacityRetry = 30 * time.Second

func liveKey(tenantID, sessionID string) string { return tenantID + "\x00" + sessionID }

// session returns the live session for rec, creating its (inactive) shell.
func (h *Hub) session(rec domain.SessionRecord) (*liveSession, error) {
	k := liveKey(rec.TenantID, rec.ID)
	h.mu.Lock()
	defer h.mu.Unlock()
	if ls, ok := h.live[k]; ok {
		return ls, nil
	}
	if h.limits.MaxActiveSessions > 0 && len(h.live) >= h.limits.MaxActiveSessions {
		return nil, &domain.Error{Kind: domain.KindCapacityExceeded, RetryAfter: capacityRetry,
			Message: "this gateway instance has no room for another active session"}
	}
	if h.limits.MaxActiveSessionsPerTenant > 0 && h.perTenant[rec.TenantID] >= h.limits.MaxActiveSessionsPerTenant {
		return nil, &domain.Error{Kind: domain.KindCapacityExceeded, RetryAfter: capacityRetry,
			Message: "your organisation has as many active sessions as one gateway instance allows; retry when one goes idle"}
	}
	ls := newLiveSession(h, rec)
	h.live[k] = ls
	h.perTenant[rec.TenantID]++
	return ls, nil
}

// peek returns the live session if there is one, without creating it.
func (h *Hub) peek(tenantID, sessionID string) *liveSession {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.live[liveKey(tenantID, sessionID)]
}

func (h *Hub) forget(ls *liveSession) {
	h.mu.Lock()
	if h.live[ls.key] == ls {
		delete(h.live, ls.key)
		if h.perTenant[ls.tenantID]--; h.perTenant[ls.tenantID] <= 0 {
			delete(h.perTenant, ls.tenantID)
		}
	}
	h.mu.Unlock()
}

func (h *Hub) janitor() {
	defer h.wg.Done()
	period := h.limits.IdleTimeout / 4
	if period <= 0 || period > time.Minute {
		period = time.Minute
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
			h.deactivateIdle()
		}
	}
}

func (h *Hub) deactivateIdle() {
	h.mu.Lock()
	var idle []*liveSession
	now := h.clock.Now()
	for _, ls := range h.live {
		if ls.idleSince(now) >= h.limits.IdleTimeout {
			idle = append(idle, ls)
		}
	}
	h.mu.Unlock()
	for _, ls := range idle {
		ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
		if err := ls.deactivate(ctx, "idle"); err != nil {
			h.log.Warn("idle deactivation failed", "session", ls.id, "err", err)
		}
		cancel()
	}
}

// newEpoch names a fresh event stream of a session.
func newEpoch() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newID returns a random identifier with a readable prefix.
func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// encodeEvent encodes a sequenced event once for every subscriber.
func encodeEvent(ev domain.Event) Frame {
	b, err := json.Marshal(ev)
	if err != nil {
		// Data comes from decoded JSON, so this cannot fail; keep the seq
		// intact rather than leaving a gap.
		b, _ = json.Marshal(domain.Event{Type: domain.EvAgentEvent, SessionID: ev.SessionID, Seq: ev.Seq, TS: ev.TS})
	}
	return Frame{Seq: ev.Seq, Type: ev.Type, Data: b}
}
