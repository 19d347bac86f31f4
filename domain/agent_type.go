package domain

import "strings"

// AgentType is one kind of agent the platform offers for new sessions.
type AgentType struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// AgentTypeName gives an agent type id a display name ("coding-agent" ->
// "Coding agent"), since the runtime names deployments by id alone.
func AgentTypeName(id string) string {
	words := strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	if len(words) == 0 {
		return id
	}
	name := strings.Join(words, " ")
	return strings.ToUpper(name[:1]) + name[1:]
}
