package domain

import "fmt"

// SessionState is the live state of a session's agent.
type SessionState string

const (
	StateInactive     SessionState = "inactive"
	StateActivating   SessionState = "activating"
	StateReady        SessionState = "ready"
	StateRunning      SessionState = "running"
	StateWaiting      SessionState = "waiting"
	StateDeactivating SessionState = "deactivating"
	StateError        SessionState = "error"
)

// AllStates lists the seven states.
var AllStates = []SessionState{StateInactive, StateActivating, StateReady, StateRunning, StateWaiting, StateDeactivating, StateError}

// transitions is the explicit table of legal moves. Anything absent is illegal.
//   - activating may fall back to inactive when the activation is abandoned;
//   - waiting may return straight to ready when a turn is stopped or denied;
//   - error may re-activate, so the next turn works without the client reconnecting.
var transitions = map[SessionState]map[SessionState]bool{
	StateInactive:     {StateActivating: true},
	StateActivating:   {StateReady: true, StateRunning: true, StateWaiting: true, StateError: true, StateInactive: true},
	StateReady:        {StateRunning: true, StateDeactivating: true, StateInactive: true, StateError: true},
	StateRunning:      {StateReady: true, StateWaiting: true, StateError: true, StateDeactivating: true},
	StateWaiting:      {StateRunning: true, StateReady: true, StateError: true, StateDeactivating: true},
	StateDeactivating: {StateInactive: true, StateError: true},
	StateError:        {StateActivating: true, StateDeactivating: true, StateInactive: true},
}

// CanTransition reports whether from→to is legal. Staying put is always legal.
func CanTransition(from, to SessionState) bool {
	return from == to || transitions[from][to]
}

// Transition returns to, or an INVALID_STATE error when the move is illegal.
func Transition(from, to SessionState) (SessionState, error) {
	if !CanTransition(from, to) {
		return from, E(KindInvalidState, fmt.Sprintf("illegal session transition %s → %s", from, to))
	}
	return to, nil
}

// Valid reports whether s is one of the seven states.
func (s SessionState) Valid() bool { _, ok := transitions[s]; return ok }

// Active reports whether the session holds an agent instance.
func (s SessionState) Active() bool {
	return s == StateReady || s == StateRunning || s == StateWaiting
}

// StateAfter is the state a session's event stream implies after ev, so that
// every gateway instance derives the same state from the same history.
// Events that say nothing about the turn leave the state as it is.
func StateAfter(cur SessionState, ev *Event) SessionState {
	var next SessionState
	switch ev.Type {
	case EvUserMessage, EvTurnStarted, EvApprovalResolved:
		next = StateRunning
	case EvQuestionRequested, EvPermissionRequested:
		next = StateWaiting
	case EvTurnComplete, EvTurnError:
		next = StateReady
	default:
		return cur
	}
	if CanTransition(cur, next) {
		return next
	}
	return cur
}
