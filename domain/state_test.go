package domain

import "testing"

// The whole 7×7 table, spelled out: changing the state machine must change
// this test.
func TestTransitionTableExhaustive(t *testing.T) {
	legal := map[SessionState][]SessionState{
		StateInactive:     {StateActivating},
		StateActivating:   {StateReady, StateRunning, StateWaiting, StateError, StateInactive},
		StateReady:        {StateRunning, StateDeactivating, StateInactive, StateError},
		StateRunning:      {StateReady, StateWaiting, StateError, StateDeactivating},
		StateWaiting:      {StateRunning, StateReady, StateError, StateDeactivating},
		StateDeactivating: {StateInactive, StateError},
		StateError:        {StateActivating, StateDeactivating, StateInactive},
	}
	for _, from := range AllStates {
		allowed := map[SessionState]bool{from: true}
		for _, to := range legal[from] {
			allowed[to] = true
		}
		for _, to := range AllStates {
			got, err := Transition(from, to)
			if allowed[to] {
				if err != nil || got != to {
					t.Errorf("%s → %s should be legal: %v", from, to, err)
				}
				continue
			}
			if err == nil || KindOf(err) != KindInvalidState || got != from {
				t.Errorf("%s → %s should be INVALID_STATE, got %v %v", from, to, got, err)
			}
		}
	}
	if SessionState("paused").Valid() || !StateWaiting.Valid() {
		t.Error("Valid")
	}
}

func TestStateAfterEvents(t *testing.T) {
	cases := []struct {
		from SessionState
		ev   string
		want SessionState
	}{
		{StateReady, EvUserMessage, StateRunning},
		{StateReady, EvTurnStarted, StateRunning},
		{StateRunning, EvTextDelta, StateRunning},
		{StateRunning, EvPermissionRequested, StateWaiting},
		{StateRunning, EvQuestionRequested, StateWaiting},
		{StateWaiting, EvApprovalResolved, StateRunning},
		{StateWaiting, EvTurnComplete, StateReady},
		{StateRunning, EvTurnComplete, StateReady},
		{StateRunning, EvTurnError, StateReady},
		{StateActivating, EvTurnStarted, StateRunning},
		// Events cannot drag a session out of a state the gateway owns.
		{StateInactive, EvTurnStarted, StateInactive},
		{StateDeactivating, EvUserMessage, StateDeactivating},
		{StateReady, EvAgentEvent, StateReady},
	}
	for _, c := range cases {
		if got := StateAfter(c.from, &Event{Type: c.ev}); got != c.want {
			t.Errorf("%s after %s = %s, want %s", c.from, c.ev, got, c.want)
		}
	}
}
