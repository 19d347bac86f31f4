package acp

import (
	"context"
	"encoding/json"

	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

// attachment is one session as seen by one connection: the app.Subscriber
// that Join attaches, the translation state, and the prompt in flight.
// Its fields are guarded by conn.mu, except st, which only the pump uses.
type attachment struct {
	c   *conn
	sid string
	cwd string

	joined      bool
	lastSeq     uint64 // the last event translated: nothing is sent twice
	replayUntil uint64 // events up to here are history, not live
	prompt      *prompt
	asked       map[string]bool // prompts with a request open on this connection

	st mapState
}

// prompt is a session/prompt waiting for its turn to end.
type prompt struct {
	rpcID        json.RawMessage
	clientTurnID string
	turnID       string // known once the turn's user_message arrives
	cancel       bool   // session/cancel came: stop the turn once it is known
}

var _ app.Subscriber = (*attachment)(nil)

// Send queues a frame for the pump; it never blocks.
func (a *attachment) Send(f app.Frame) bool { return a.c.enqueue(item{att: a, frame: f}) }

// attachment returns the connection's view of sid, creating it.
func (c *conn) attachment(sid string) *attachment {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.sessions[sid]
	if a == nil {
		a = &attachment{c: c, sid: sid, asked: map[string]bool{}}
		c.sessions[sid] = a
	}
	return a
}

// join attaches a to its session. With after set the session's events after
// it are replayed first (a load); without, only live events follow. It
// returns the snapshot's unanswered prompts and latest seq.
func (c *conn) join(ctx context.Context, a *attachment, after *uint64, epoch string) ([]domain.Event, uint64, error) {
	c.leave(a)
	var pending []domain.Event
	var latest uint64
	err := c.srv.hub.Join(ctx, c.id, app.JoinRequest{SessionID: a.sid, AfterSeq: after, Epoch: epoch}, a, func(snap app.Snapshot) app.Frame {
		pending, latest = snap.PendingPrompts, snap.LatestSeq
		// Through the pump, so it takes effect between the frames queued
		// before the join and the replay that follows.
		c.after(func() {
			c.mu.Lock()
			a.replayUntil = snap.LatestSeq
			if after == nil {
				a.lastSeq = max(a.lastSeq, snap.LatestSeq)
			}
			c.mu.Unlock()
		})
		return app.Frame{Type: "snapshot"}
	})
	if err != nil {
		return nil, 0, err
	}
	c.mu.Lock()
	a.joined = true
	c.mu.Unlock()
	return pending, latest, nil
}

// leave detaches a from its session if it is attached.
func (c *conn) leave(a *attachment) {
	c.mu.Lock()
	was := a.joined
	a.joined = false
	c.mu.Unlock()
	if was {
		_ = c.srv.hub.Leave(c.id, a.sid, a)
	}
}

// deliver translates one frame of a's session and writes its updates; it
// runs on the pump only.
func (c *conn) deliver(a *attachment, f app.Frame) {
	switch {
	case f.Type == "snapshot":
		return
	case f.Seq == 0:
		// Unsequenced: session_state and session_deleted. No ACP update
		// stands for them; they travel in _meta.
		var payload map[string]any
		_ = json.Unmarshal(f.Data, &payload)
		c.notify("session/update", map[string]any{"sessionId": a.sid, "update": update{"sessionUpdate": "session_info_update",
			"_meta": map[string]any{metaKey: map[string]any{"event": f.Type, "payload": payload}}}})
		if f.Type == "session_deleted" {
			c.endPrompt(a, nil, domain.ErrSessionNotFound())
		}
		return
	}
	var ev domain.Event
	if err := json.Unmarshal(f.Data, &ev); err != nil {
		c.srv.log.Error("acp: undecodable session event", "session", a.sid, "err", err)
		return
	}
	c.mu.Lock()
	if ev.Seq <= a.lastSeq {
		c.mu.Unlock()
		return
	}
	a.lastSeq = ev.Seq
	replay := ev.Seq <= a.replayUntil
	p := a.prompt
	own := false
	// A runtime that does not echo clientTurnId: the session runs one turn
	// at a time, and RunTurn was accepted, so the next user message is ours.
	if p != nil && ev.Type == domain.EvUserMessage && p.turnID == "" && (ev.Str("clientTurnId") == p.clientTurnID || ev.Str("clientTurnId") == "") {
		p.turnID, own = ev.TurnID, true
	} else if p != nil && p.turnID != "" && ev.TurnID == p.turnID {
		own = true
	}
	stop := own && ev.Type == domain.EvUserMessage && p.cancel
	mc := mapCtx{echoUser: replay || !own, terminalMeta: c.caps.terminalMeta}
	c.mu.Unlock()

	if stop {
		go func() { _ = c.srv.hub.StopTurn(c.ctx, c.id, a.sid) }()
	}
	for _, u := range translate(&a.st, &ev, mc) {
		c.notify("session/update", map[string]any{"sessionId": a.sid, "update": u})
	}
	switch ev.Type {
	case domain.EvPermissionRequested, domain.EvQuestionRequested:
		if !replay {
			c.ask(a, ev)
		}
	case domain.EvTurnComplete:
		if own {
			reason, ok := stopReasons[ev.Str("stopReason")]
			if !ok {
				c.endPrompt(a, nil, domain.E(domain.KindInternal, "the turn ended with an error"))
				return
			}
			c.endPrompt(a, map[string]any{"stopReason": reason, "_meta": map[string]any{metaKey: map[string]any{"turnId": ev.TurnID, "seq": ev.Seq}}}, nil)
		}
	case domain.EvTurnError:
		if own {
			c.endPrompt(a, nil, &rpcError{Code: codeInternal, Message: "the turn failed: " + ev.Str("message"),
				Data: &errorData{Code: ev.Str("code")}})
		}
	}
}

// endPrompt answers a's prompt, if one is waiting, with result or err.
func (c *conn) endPrompt(a *attachment, result any, err error) {
	c.mu.Lock()
	p := a.prompt
	a.prompt = nil
	c.mu.Unlock()
	if p == nil {
		return
	}
	if err != nil {
		c.fail(p.rpcID, err)
		return
	}
	c.reply(p.rpcID, result)
}

// permissionOptions are offered for every permission prompt.
var permissionOptions = []map[string]any{
	{"optionId": "allow_once", "name": "Allow", "kind": "allow_once"},
	{"optionId": "reject_once", "name": "Reject", "kind": "reject_once"},
}

// ask puts an open permission (or question) prompt to the client as
// session/request_permission, once per connection, and answers the prompt
// with the outcome: an allow option approves; a reject option, or
// cancelled, denies (a question is dismissed).
func (c *conn) ask(a *attachment, ev domain.Event) {
	promptID := ev.Str("promptId")
	c.mu.Lock()
	if a.asked[promptID] {
		c.mu.Unlock()
		return
	}
	a.asked[promptID] = true
	c.mu.Unlock()
	question := ev.Type == domain.EvQuestionRequested
	tc := map[string]any{"toolCallId": permissionToolCallID(promptID), "status": "pending"}
	if question {
		tc["title"] = "The agent asks a question"
		tc["rawInput"] = map[string]any{"questions": ev.Data["questions"]}
	} else {
		tc["title"], tc["kind"] = permissionTitle(&ev), toolKind(ev.Str("toolName"))
	}
	params := map[string]any{"sessionId": a.sid, "toolCall": tc, "options": permissionOptions,
		"_meta": map[string]any{metaKey: map[string]any{"promptId": promptID, "seq": ev.Seq, "event": ev.Type}}}
	c.request("session/request_permission", params, func(result json.RawMessage, rerr *rpcError) {
		c.mu.Lock()
		delete(a.asked, promptID)
		c.mu.Unlock()
		var r struct {
			Outcome struct {
				Outcome  string `json:"outcome"`
				OptionID string `json:"optionId"`
			} `json:"outcome"`
		}
		if rerr == nil {
			_ = json.Unmarshal(result, &r)
		}
		approved := rerr == nil && r.Outcome.Outcome == "selected" && (r.Outcome.OptionID == "allow_once" || r.Outcome.OptionID == "allow_always")
		ctx, cancel := context.WithTimeout(c.ctx, requestTimeout)
		defer cancel()
		var err error
		if question {
			dismissed := !approved
			err = c.srv.hub.Answer(ctx, c.id, a.sid, promptID, nil, map[string]any{}, &dismissed)
		} else {
			err = c.srv.hub.Answer(ctx, c.id, a.sid, promptID, &approved, nil, nil)
		}
		if err != nil {
			// Another client answered first, or the turn ended: nothing to do.
			c.srv.log.Debug("acp: permission answer not taken", "session", a.sid, "err", err)
		}
	})
}

// askPending asks the prompts still open after a load or resume.
func (c *conn) askPending(a *attachment, pending []domain.Event) {
	for _, ev := range pending {
		c.ask(a, ev)
	}
}
