package client

import (
	"context"
	"time"

	"github.com/diminuendo/diminuendo/api"
)

// cursor is the client's resume position in one joined session: the epoch
// of its event stream and the highest seq delivered.
type cursor struct {
	epoch   string // "" until the first snapshot
	lastSeq int64
	// sentAfter is the afterSeq of the join in flight, nil for a fresh
	// join: after a complete replay from it, lastSeq stands, otherwise
	// live events start after the snapshot's latestSeq.
	sentAfter *int64
	// resyncing is set after a gap, until the re-join's snapshot.
	resyncing bool
}

// snapshot records the position a state_snapshot establishes.
func (c *Client) snapshot(ev Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.sessions[ev.SessionID]
	if cur == nil {
		// A join sent through Request: track it like any other.
		cur = &cursor{}
		c.sessions[ev.SessionID] = cur
	}
	complete := ev.env.ReplayComplete == nil || *ev.env.ReplayComplete
	if !complete || cur.sentAfter == nil {
		cur.lastSeq = ev.env.LatestSeq
	}
	cur.epoch = ev.env.Epoch
	cur.sentAfter = nil
	cur.resyncing = false
}

func (c *Client) forget(sessionID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.sessions, sessionID)
}

// accept drops a sequenced event already delivered. A gap (a seq beyond
// the next) cannot happen on a healthy connection; the client then re-joins
// from the last seq it delivered, so the gateway replays the missing range,
// and drops events of that session that do not follow on until then.
func (c *Client) accept(w *conn, ev Event) bool {
	c.mu.Lock()
	cur := c.sessions[ev.SessionID]
	if cur == nil || cur.epoch == "" {
		c.mu.Unlock()
		return true
	}
	switch {
	case ev.Seq <= cur.lastSeq:
		c.mu.Unlock()
		return false
	case ev.Seq == cur.lastSeq+1:
		cur.lastSeq = ev.Seq
		c.mu.Unlock()
		return true
	}
	if cur.resyncing {
		c.mu.Unlock()
		return false
	}
	cur.resyncing = true
	after, epoch := cur.lastSeq, cur.epoch
	cur.sentAfter = &after
	c.mu.Unlock()
	c.opts.Logger.Warn("seq gap; re-joining", "session", ev.SessionID, "have", after, "got", ev.Seq)
	c.startJoin(w, ev.SessionID, after, epoch)
	return false
}

// rejoin re-joins every session that had a snapshot, from its cursor.
func (c *Client) rejoin(w *conn) {
	type job struct {
		sid, epoch string
		after      int64
	}
	var jobs []job
	c.mu.Lock()
	for sid, cur := range c.sessions {
		if cur.epoch == "" {
			// A join still waiting for its first snapshot: Join sends it
			// (again) itself, or forgets the session when it fails.
			continue
		}
		after := cur.lastSeq
		cur.sentAfter = &after
		cur.resyncing = false
		jobs = append(jobs, job{sid, cur.epoch, after})
	}
	c.mu.Unlock()
	for _, j := range jobs {
		c.startJoin(w, j.sid, j.after, j.epoch)
	}
}

// startJoin sends a join the client makes by itself and waits for its
// answer in the background. The snapshot reaches Events like any other; a
// refusal (the session was deleted meanwhile) ends the client's interest
// in the session.
func (c *Client) startJoin(w *conn, sessionID string, after int64, epoch string) {
	rid := c.newID()
	msg := api.JoinSessionMessage{Type: "join_session", SessionId: sessionID, AfterSeq: &after, Epoch: &epoch, RequestId: &rid}
	ch := c.register(rid)
	if err := c.send(w, msg); err != nil {
		c.unregister(rid)
		return // the connection is gone; the next one re-joins
	}
	go func() {
		defer c.unregister(rid)
		t := time.NewTimer(c.opts.RequestTimeout)
		defer t.Stop()
		select {
		case ev := <-ch:
			if _, err := reply(ev); err != nil {
				c.opts.Logger.Warn("re-join refused", "session", sessionID, "err", err)
				c.forget(sessionID)
			}
		case <-w.lost:
		case <-t.C:
		case <-c.stopped:
		}
	}()
}

// Join joins a session: the reply is its state snapshot, and its events
// follow on Events. Joining a session this client already follows resumes
// from the last seq delivered, with no gap and no duplicate. Use the
// snapshot's State and PendingPrompts as the session's current state.
func (c *Client) Join(ctx context.Context, sessionID string) (*api.StateSnapshot, error) {
	return c.join(ctx, sessionID, nil, "")
}

// Resume joins a session from a position kept elsewhere (a previous run):
// the gateway replays the events after afterSeq of that epoch. If it
// cannot, the snapshot's ReplayComplete is false (see the package
// documentation).
func (c *Client) Resume(ctx context.Context, sessionID string, afterSeq int64, epoch string) (*api.StateSnapshot, error) {
	return c.join(ctx, sessionID, &afterSeq, epoch)
}

func (c *Client) join(ctx context.Context, sessionID string, after *int64, epoch string) (*api.StateSnapshot, error) {
	c.mu.Lock()
	cur, known := c.sessions[sessionID]
	switch {
	case known && after == nil && cur.epoch != "":
		a := cur.lastSeq
		after, epoch = &a, cur.epoch
	case !known:
		cur = &cursor{}
		c.sessions[sessionID] = cur
		if after != nil {
			cur.lastSeq = *after
		}
	}
	cur.sentAfter = after
	c.mu.Unlock()

	rid := c.newID()
	msg := api.JoinSessionMessage{Type: "join_session", SessionId: sessionID, AfterSeq: after, RequestId: &rid}
	if epoch != "" {
		msg.Epoch = &epoch
	}
	ev, err := c.roundTrip(ctx, rid, msg)
	if err != nil {
		if !known {
			c.mu.Lock()
			if c.sessions[sessionID] == cur && cur.epoch == "" {
				delete(c.sessions, sessionID)
			}
			c.mu.Unlock()
		}
		return nil, err
	}
	var snap api.StateSnapshot
	if err := ev.Decode(&snap); err != nil {
		return nil, err
	}
	return &snap, nil
}

// Position is where the client stands in a joined session: the epoch and
// the highest seq delivered. ok is false for a session it does not follow.
// Keep it to Resume in a later run.
func (c *Client) Position(sessionID string) (epoch string, lastSeq int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.sessions[sessionID]
	if cur == nil || cur.epoch == "" {
		return "", 0, false
	}
	return cur.epoch, cur.lastSeq, true
}
