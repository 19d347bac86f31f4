package podiumsim

import (
	"net/http"
	"sort"

	"github.com/diminuendo/diminuendo/adapters/simkit"
)

// Deployment is one deployed agent build, as Podium lists it.
type Deployment struct {
	DeploymentID string `json:"deployment_id"`
	AgentType    string `json:"agent_type"`
	Version      string `json:"version"`
	Description  string `json:"description"`
}

// descriptions say what each simulated agent does; the list of deployments
// is the agents table itself, so a new agent is offered as soon as it exists.
var descriptions = map[string]string{
	"echo":          "Answers every turn with the user's own text.",
	"coding-agent":  "Thinks, calls a tool, writes a file, runs a command and reports token usage.",
	"guarded-agent": "A coding agent that asks permission before it runs its tool.",
	"asking-agent":  "Asks the user two questions, waits for the answer and replies with it.",
}

// Deployments lists one deployment per agent type, ordered by type.
func (e *Engine) Deployments() []Deployment {
	out := make([]Deployment, 0, len(agents))
	for typ := range agents {
		out = append(out, Deployment{DeploymentID: typ + ":1.0.0@local", AgentType: typ, Version: "1.0.0", Description: descriptions[typ]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AgentType < out[j].AgentType })
	return out
}

func (s *Sim) deployments(w http.ResponseWriter, _ *http.Request) {
	simkit.WriteJSON(w, http.StatusOK, map[string]any{"deployments": s.eng.Deployments()})
}
