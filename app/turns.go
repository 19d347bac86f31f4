package app

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// active resolves the caller's session, checks perm, and activates it.
func (h *Hub) active(ctx context.Context, id domain.Identity, sessionID string, perm domain.Permission) (*liveSession, error) {
	if err := id.Require(perm); err != nil {
		return nil, err
	}
	rec, err := lookup(ctx, h.reg, id, sessionID)
	if err != nil {
		return nil, err
	}
	if rec.Archived {
		return nil, domain.E(domain.KindInvalidState, "the session is archived")
	}
	ls, err := h.session(rec)
	if err != nil {
		return nil, err
	}
	if err := ls.ensureActive(ctx); err != nil {
		return nil, err
	}
	return ls, nil
}

// send hands cmd to the session's agent if the session is in one of the
// states in allowed; check runs under the lock for extra preconditions.
func (ls *liveSession) send(ctx context.Context, cmd ports.AgentCommand, action string, check func() error, allowed ...domain.SessionState) error {
	ls.mu.Lock()
	ok := false
	for _, s := range allowed {
		ok = ok || ls.state == s
	}
	if !ok || ls.stream == nil {
		st := ls.state
		ls.mu.Unlock()
		return domain.ErrInvalidState(st, action)
	}
	if check != nil {
		if err := check(); err != nil {
			ls.mu.Unlock()
			return err
		}
	}
	stream := ls.stream
	ls.touch()
	ls.mu.Unlock()
	if err := stream.Send(ctx, cmd); err != nil {
		return domain.As(err)
	}
	return nil
}

// turnEchoTimeout is how long a sent user message may go unechoed before
// the session accepts another one.
const turnEchoTimeout = 10 * time.Second

// RunTurn sends the user's text to the agent. The turn's events, starting
// with user_message, reach every attached client through the stream.
func (h *Hub) RunTurn(ctx context.Context, id domain.Identity, sessionID, text, clientTurnID string) error {
	if text == "" || len(text) > domain.MaxTurnTextLen || !utf8.ValidString(text) {
		return domain.E(domain.KindInvalidMessage, "text must be non-empty valid UTF-8 of at most 512 KiB")
	}
	if len(clientTurnID) > 128 {
		return domain.E(domain.KindInvalidMessage, "clientTurnId is at most 128 characters")
	}
	ls, err := h.active(ctx, id, sessionID, domain.PermSessionsWrite)
	if err != nil {
		return err
	}
	err = ls.send(ctx, ports.AgentCommand{Type: ports.CmdUserMessage, Text: text, ClientTurnID: clientTurnID}, "run a turn",
		func() error {
			// A user message whose echo never came (the runtime refused it,
			// or lost it) must not block the session for good.
			if ls.turnPending && ls.h.clock.Now().Sub(ls.turnSentAt) < turnEchoTimeout {
				return domain.ErrInvalidState(domain.StateRunning, "run a turn")
			}
			ls.turnPending = true
			ls.turnSentAt = ls.h.clock.Now()
			return nil
		}, domain.StateReady)
	if err != nil && domain.KindOf(err) != domain.KindInvalidState {
		ls.mu.Lock()
		ls.turnPending = false
		ls.mu.Unlock()
	}
	return err
}

// StopTurn interrupts the running turn; it ends with turn_complete
// {stopReason: "cancelled"}.
func (h *Hub) StopTurn(ctx context.Context, id domain.Identity, sessionID string) error {
	ls, err := h.active(ctx, id, sessionID, domain.PermSessionsWrite)
	if err != nil {
		return err
	}
	return ls.send(ctx, ports.AgentCommand{Type: ports.CmdInterrupt}, "stop a turn", nil, domain.StateRunning, domain.StateWaiting)
}

// Steer sends guidance to the running turn and returns its id.
func (h *Hub) Steer(ctx context.Context, id domain.Identity, sessionID, text string) (string, error) {
	if text == "" || len(text) > domain.MaxTurnTextLen || !utf8.ValidString(text) {
		return "", domain.E(domain.KindInvalidMessage, "text must be non-empty valid UTF-8 of at most 512 KiB")
	}
	ls, err := h.active(ctx, id, sessionID, domain.PermSessionsWrite)
	if err != nil {
		return "", err
	}
	var turnID string
	err = ls.send(ctx, ports.AgentCommand{Type: ports.CmdSteer, Text: text}, "steer", func() error {
		turnID = ls.turnID
		return nil
	}, domain.StateRunning, domain.StateWaiting)
	return turnID, err
}

// Answer resolves a pending question or permission prompt. Every attached
// client sees approval_resolved when the agent takes the answer.
func (h *Hub) Answer(ctx context.Context, id domain.Identity, sessionID, promptID string, approved *bool, answers map[string]any, dismissed *bool) error {
	if promptID == "" {
		return domain.E(domain.KindInvalidMessage, "promptId is required")
	}
	ls, err := h.active(ctx, id, sessionID, domain.PermSessionsWrite)
	if err != nil {
		return err
	}
	return ls.send(ctx, ports.AgentCommand{Type: ports.CmdAnswer, PromptID: promptID, Approved: approved, Answers: answers, Dismissed: dismissed},
		"answer", func() error {
			for _, p := range ls.pending {
				if p.Str("promptId") == promptID {
					return nil
				}
			}
			return domain.E(domain.KindNotFound, "no pending prompt with that id")
		}, domain.StateWaiting, domain.StateRunning)
}
