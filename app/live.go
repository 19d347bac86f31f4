package app

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// liveSession is a session active on this instance: its agent stream, its
// derived state, its replay window and its attached connections. Every
// sequenced event passes through publish under mu, which is what makes the
// order seen by each subscriber identical and gapless.
type liveSession struct {
	h        *Hub
	key      string
	tenantID string
	id       string

	mu          sync.Mutex
	rec         domain.SessionRecord
	state       domain.SessionState
	latest      uint64
	win         *domain.Window
	enc         *domain.UpstreamEncoder // maps and encodes the agent stream's events
	subs        map[Subscriber]string   // attached connections, by user id
	pending     []domain.Event          // unanswered prompts, oldest first
	turnID      string
	turnPending bool // a user message was sent and its echo not yet seen
	turnSentAt  time.Time
	gen         domain.Generation
	stream      ports.AgentStream
	stopStream  context.CancelFunc
	activating  chan struct{}
	lastUsed    time.Time
	gone        bool // deleted or forgotten: refuse new work
}

func newLiveSession(h *Hub, rec domain.SessionRecord) *liveSession {
	return &liveSession{
		h: h, key: liveKey(rec.TenantID, rec.ID), tenantID: rec.TenantID, id: rec.ID,
		rec: rec, state: domain.StateInactive, latest: rec.ClosedSeq(),
		win:      domain.NewWindow(h.limits.WindowEvents, h.limits.WindowBytes),
		enc:      domain.NewUpstreamEncoder(rec.ID),
		subs:     map[Subscriber]string{},
		lastUsed: h.clock.Now(),
	}
}

// publish sequences ev into the session: window, derived state, prompts,
// fan-out. Caller holds mu and has checked ev.Seq == latest+1.
func (ls *liveSession) publish(ev domain.Event) { ls.publishEncoded(&ev, encodeEvent(ev)) }

// publishEncoded is publish of an event already encoded as f. Of ev it
// reads the envelope, and Data only of the prompt types.
func (ls *liveSession) publishEncoded(ev *domain.Event, f Frame) {
	ls.h.stats.EventsPublished.Add(1)
	// Activity from any gateway instance reaches every instance following
	// the stream, so none deactivates a session another is driving.
	ls.touch()
	ls.win.Append(domain.Encoded{Seq: ev.Seq, Type: ev.Type, JSON: f.Data})
	ls.latest = ev.Seq
	switch ev.Type {
	case domain.EvUserMessage:
		ls.turnPending = false
		ls.turnID = ev.TurnID
	case domain.EvTurnStarted:
		ls.turnID = ev.TurnID
	case domain.EvQuestionRequested, domain.EvPermissionRequested:
		ls.pending = append(ls.pending, *ev)
	case domain.EvApprovalResolved:
		id := ev.Str("promptId")
		for i, p := range ls.pending {
			if p.Str("promptId") == id {
				ls.pending = append(ls.pending[:i:i], ls.pending[i+1:]...)
				break
			}
		}
	case domain.EvTurnComplete, domain.EvTurnError:
		ls.pending = nil
		ls.turnID = ""
	}
	prev := ls.state
	next := domain.StateAfter(prev, ev)
	if next != prev {
		// Most events leave the state as it is; not storing it then spares
		// a pointer write (and its barrier while the GC marks).
		ls.state = next
	}
	ls.deliver(f)
	if next != prev {
		ls.deliverState(prev, "")
	}
}

// setState moves the live state through the domain table; an illegal move is
// a bug upstream of here and is refused.
func (ls *liveSession) setState(to domain.SessionState, reason string) error {
	prev := ls.state
	next, err := domain.Transition(prev, to)
	if err != nil {
		return err
	}
	ls.state = next
	if next != prev {
		ls.deliverState(prev, reason)
	}
	return nil
}

// forceState is for teardown paths that must end in a known state whatever
// happened before (the stream is gone; there is nothing left to guard).
func (ls *liveSession) forceState(to domain.SessionState, reason string) {
	prev := ls.state
	ls.state = to
	if prev != to {
		ls.deliverState(prev, reason)
	}
}

func (ls *liveSession) deliver(f Frame) {
	if len(ls.subs) == 0 {
		return // a session nobody watches still sequences every event
	}
	for s := range ls.subs {
		if !s.Send(f) {
			delete(ls.subs, s)
			ls.h.stats.SubscribersCut.Add(1)
		}
	}
	ls.h.stats.FramesDelivered.Add(int64(len(ls.subs)))
}

type sessionStateFrame struct {
	Type          string              `json:"type"`
	SessionID     string              `json:"sessionId"`
	State         domain.SessionState `json:"state"`
	PreviousState domain.SessionState `json:"previousState"`
	Reason        string              `json:"reason,omitempty"`
}

func (ls *liveSession) deliverState(prev domain.SessionState, reason string) {
	if len(ls.subs) == 0 {
		return
	}
	b, _ := json.Marshal(sessionStateFrame{Type: "session_state", SessionID: ls.id, State: ls.state, PreviousState: prev, Reason: reason})
	ls.deliver(Frame{Type: "session_state", Data: b})
}

// touch records activity for the idle janitor. Caller holds mu.
func (ls *liveSession) touch() { ls.lastUsed = ls.h.clock.Now() }

// idleSince is how long the session has had no connection and no turn.
func (ls *liveSession) idleSince(now time.Time) time.Duration {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if len(ls.subs) > 0 || ls.activating != nil || ls.turnPending ||
		ls.state == domain.StateRunning || ls.state == domain.StateWaiting || ls.state == domain.StateDeactivating {
		return 0
	}
	return now.Sub(ls.lastUsed)
}

func (ls *liveSession) detach(s Subscriber) {
	ls.mu.Lock()
	delete(ls.subs, s)
	ls.touch()
	ls.mu.Unlock()
}

// shutdown drops the agent stream without stopping the instance.
func (ls *liveSession) shutdown() {
	ls.mu.Lock()
	stop := ls.stopStream
	ls.stopStream, ls.stream = nil, nil
	ls.gone = true
	ls.mu.Unlock()
	if stop != nil {
		stop()
	}
}
