package domain

import "testing"

func TestAgentTypeName(t *testing.T) {
	for id, want := range map[string]string{
		"coding-agent": "Coding agent", "echo": "Echo", "guarded_agent": "Guarded agent", "a.b-c": "A b c", "": "", "--": "--",
	} {
		if got := AgentTypeName(id); got != want {
			t.Errorf("AgentTypeName(%q) = %q, want %q", id, got, want)
		}
	}
}
