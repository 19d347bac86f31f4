package app

import (
	"context"
	"time"

	"github.com/diminuendo/diminuendo/domain"
)

// Snapshot is what a joining client learns before any event.
type Snapshot struct {
	Session        domain.SessionMeta
	State          domain.SessionState
	Epoch          string
	LatestSeq      uint64
	PendingPrompts []domain.Event
	ReplayComplete bool
}

// JoinRequest is a join_session: AfterSeq set means "resume after it".
type JoinRequest struct {
	SessionID string
	AfterSeq  *uint64
	Epoch     string
}

// Join activates the session if needed and attaches sub. sub receives, in
// this order and with nothing between: the snapshot (encoded by the caller's
// transport), every event after AfterSeq, then live events. A replay that
// cannot be served completely is not sent at all and the snapshot says
// replayComplete:false.
func (h *Hub) Join(ctx context.Context, id domain.Identity, req JoinRequest, sub Subscriber, encode func(Snapshot) Frame) error {
	if err := id.Require(domain.PermSessionsRead); err != nil {
		return err
	}
	rec, err := lookup(ctx, h.reg, id, req.SessionID)
	if err != nil {
		return err
	}
	ls, err := h.session(rec)
	if err != nil {
		return err
	}
	if err := ls.ensureActive(ctx); err != nil {
		return err
	}
	if req.AfterSeq != nil {
		ls.awaitCursor(ctx, req)
	}
	// An older cursor than the window holds is served from Podium's history,
	// fetched without holding the session lock; the window may move on
	// meanwhile, so this converges in a few rounds at most.
	var older []domain.Event
	unservable := false // the history fetch failed: answer replayComplete:false
	for round := 0; round < 4; round++ {
		ls.mu.Lock()
		if ls.gone {
			ls.mu.Unlock()
			return domain.ErrSessionNotFound()
		}
		if err := ls.roomFor(id.UserID); err != nil {
			ls.mu.Unlock()
			return err
		}
		replay, complete, need := ls.replayPlan(req, older, unservable)
		if need == nil {
			snap := ls.snapshot(complete)
			switch {
			case !complete:
				h.stats.ReplaysRefused.Add(1)
			case len(older) > 0:
				h.stats.ReplaysFromStore.Add(1)
			case len(replay) > 0:
				h.stats.ReplaysFromWindow.Add(1)
			}
			sf := encode(snap)
			sf.CatchUp = true
			if !sub.Send(sf) {
				ls.mu.Unlock()
				return nil
			}
			ok := true
			if complete {
				for _, fr := range replay {
					fr.CatchUp = true
					if ok = sub.Send(fr); !ok {
						break
					}
				}
			}
			if ok {
				ls.subs[sub] = id.UserID
			}
			ls.touch()
			ls.mu.Unlock()
			return nil
		}
		rec := ls.rec
		ls.mu.Unlock()
		fetched, err := h.eventsFromHistory(ctx, &rec, need.from, need.to)
		if err != nil {
			h.log.Info("replay from history failed", "session", req.SessionID, "err", err)
			older, unservable = nil, true
			continue
		}
		if n := len(older); n > 0 && older[n-1].Seq == need.from {
			older = append(older, fetched...)
		} else {
			older = fetched
		}
	}
	return domain.E(domain.KindUpstreamUnavailable, "could not assemble the replay; retry")
}

// framesOf turns window entries into frames, sharing their bytes.
func framesOf(es []domain.Encoded) []Frame {
	out := make([]Frame, len(es))
	for i, e := range es {
		out[i] = Frame{Seq: e.Seq, Type: e.Type, Data: e.JSON}
	}
	return out
}

type seqRange struct{ from, to uint64 } // (from, to]

// replayPlan decides what a join replays. need is non-nil when events older
// than the window must first be fetched. Caller holds mu.
func (ls *liveSession) replayPlan(req JoinRequest, older []domain.Event, unservable bool) (replay []Frame, complete bool, need *seqRange) {
	if req.AfterSeq == nil {
		return nil, true, nil
	}
	if unservable {
		return nil, false, nil
	}
	after := *req.AfterSeq
	if req.Epoch != "" && req.Epoch != ls.rec.Epoch || after > ls.latest {
		return nil, false, nil
	}
	if after == ls.latest {
		return nil, true, nil
	}
	if uint64(ls.h.limits.MaxReplayEvents) < ls.latest-after {
		return nil, false, nil
	}
	first := ls.win.First()
	if ls.win.Len() > 0 && after+1 >= first {
		evs, ok := ls.win.Since(after, 0)
		return framesOf(evs), ok, nil
	}
	// Events (after, first) must come from history. Use what was fetched if
	// it reaches the window (or the live end when the window is empty).
	end := ls.latest
	if ls.win.Len() > 0 {
		end = first - 1
	}
	if len(older) > 0 && older[0].Seq == after+1 && older[len(older)-1].Seq >= end {
		var out []Frame
		for _, ev := range older {
			if ev.Seq <= end {
				out = append(out, encodeEvent(ev))
			}
		}
		if ls.win.Len() > 0 {
			rest, _ := ls.win.Since(end, 0)
			out = append(out, framesOf(rest)...)
		}
		return out, true, nil
	}
	// Fetch what is still missing up to the live end, not just up to the
	// window's first event: the window slides on while the fetch runs, and
	// only a fetch that overlaps it can still meet it afterwards.
	from := after
	if len(older) > 0 && older[0].Seq == after+1 {
		from = older[len(older)-1].Seq
	}
	return nil, false, &seqRange{from: from, to: ls.latest}
}

// catchUpWait bounds how long a join waits for this instance's agent stream
// to reach a cursor the client already holds.
const catchUpWait = 5 * time.Second

// awaitCursor waits until the session has applied the join's cursor, when
// the cursor is of the current epoch and Podium holds the events up to it:
// this instance has just attached and is still replaying, or the client
// comes from another gateway instance that is slightly ahead. Otherwise it
// returns at once and replayPlan answers as before.
func (ls *liveSession) awaitCursor(ctx context.Context, req JoinRequest) {
	after := *req.AfterSeq
	ls.mu.Lock()
	rec := ls.rec
	behind := after > ls.latest && (req.Epoch == "" || req.Epoch == rec.Epoch)
	ls.mu.Unlock()
	if !behind {
		return
	}
	gen, open := rec.Current()
	if !open {
		return
	}
	if info, err := ls.h.rt.GetInstance(ctx, gen.InstanceID); err != nil || gen.BaseSeq+info.LatestSeq < after {
		return
	}
	limit := time.NewTimer(catchUpWait)
	defer limit.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		ls.mu.Lock()
		done := ls.latest >= after || ls.gone || ls.stream == nil
		ls.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-limit.C:
			return
		case <-tick.C:
		}
	}
}

func (ls *liveSession) snapshot(replayComplete bool) Snapshot {
	pending := make([]domain.Event, len(ls.pending))
	copy(pending, ls.pending)
	return Snapshot{
		Session:        ls.rec.Meta(ls.state, ls.latest),
		State:          ls.state,
		Epoch:          ls.rec.Epoch,
		LatestSeq:      ls.latest,
		PendingPrompts: pending,
		ReplayComplete: replayComplete,
	}
}

// Leave detaches sub from the session.
func (h *Hub) Leave(id domain.Identity, sessionID string, sub Subscriber) error {
	ls := h.peek(id.TenantID, sessionID)
	if ls == nil {
		return domain.ErrSessionNotFound()
	}
	ls.detach(sub)
	return nil
}

// Detach removes sub from every session it joined (the connection closed).
func (h *Hub) Detach(id domain.Identity, sessionIDs []string, sub Subscriber) {
	for _, sid := range sessionIDs {
		if ls := h.peek(id.TenantID, sid); ls != nil {
			ls.detach(sub)
		}
	}
}

// Reauthorize applies a connection's changed identity (a re-authentication
// with another role) to the sessions sub has joined: sub is detached at once
// from each one the new identity may no longer read, and those ids are
// returned for the transport to forget and report.
func (h *Hub) Reauthorize(id domain.Identity, sessionIDs []string, sub Subscriber) []string {
	var lost []string
	for _, sid := range sessionIDs {
		ls := h.peek(id.TenantID, sid)
		if ls == nil {
			continue // nothing live to be attached to
		}
		ls.mu.Lock()
		rec := ls.rec
		ls.mu.Unlock()
		if id.Can(domain.PermSessionsRead) && id.Sees(&rec) {
			continue
		}
		ls.detach(sub)
		lost = append(lost, sid)
	}
	return lost
}

// roomFor checks the session's subscriber caps for one more connection of
// userID: the session's own, and a smaller one per user, so that no single
// user (a viewer holding many streams) can fill a session and lock its
// owner out. Caller holds ls.mu.
func (ls *liveSession) roomFor(userID string) error {
	lim := ls.h.limits
	if lim.MaxSubscribers > 0 && len(ls.subs) >= lim.MaxSubscribers {
		return domain.E(domain.KindCapacityExceeded, "too many connections on this session")
	}
	if lim.MaxSubscribersPerUser > 0 {
		n := 0
		for _, u := range ls.subs {
			if u == userID {
				n++
			}
		}
		if n >= lim.MaxSubscribersPerUser {
			return domain.E(domain.KindCapacityExceeded, "too many of your connections on this session; close one")
		}
	}
	return nil
}
