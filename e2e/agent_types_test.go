package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// The agent types come from the runtime's deployments, over REST and
// WebSocket alike, to every authenticated role; a session of each can be created.
func TestAgentTypesListedFromTheRuntime(t *testing.T) {
	g, p := startAuthGateway(t, nil)
	want := []string{"asking-agent", "coding-agent", "echo", "guarded-agent"}

	if r := g.rest(t, "GET", "/api/agent-types", "", nil); r.status != 401 || r.errCode() != "AUTH_REQUIRED" {
		t.Fatalf("without a token: %d %s", r.status, r.body)
	}
	guest := mint(t, p, user{"u-guest", "t-a", "guest"}.claims())
	r := g.rest(t, "GET", "/api/agent-types", guest, nil)
	if r.status != 200 {
		t.Fatalf("guest: %d %s", r.status, r.body)
	}
	var list struct {
		AgentTypes []struct{ ID, Name, Description string } `json:"agentTypes"`
	}
	mustUnmarshal(t, r.body, &list)
	var ids []string
	for _, at := range list.AgentTypes {
		ids = append(ids, at.ID)
		if at.Name == "" || at.Description == "" {
			t.Errorf("%s lacks a name or description: %+v", at.ID, at)
		}
	}
	if mustJSON(t, ids) != mustJSON(t, want) {
		t.Fatalf("REST agent types %v, want %v", ids, want)
	}

	dev := mint(t, p, user{"u-dev", "t-a", "developer"}.claims())
	c, _ := g.dialWithToken(t, dev)
	reply := c.call("types", map[string]any{"type": "list_agent_types"})
	if reply["type"] != "agent_types" {
		t.Fatalf("list_agent_types: %v", reply)
	}
	b, _ := json.Marshal(reply["agentTypes"])
	var ws []struct{ ID string }
	mustUnmarshal(t, b, &ws)
	if len(ws) != len(want) {
		t.Fatalf("WebSocket agent types %s", b)
	}
	for i, at := range ws {
		if at.ID != want[i] {
			t.Fatalf("WebSocket agent types %s", b)
		}
		c.send(map[string]any{"type": "create_session", "agentType": at.ID, "requestId": "c-" + at.ID})
		if m := c.expect("session_created"); m["requestId"] != "c-"+at.ID {
			t.Fatalf("create %s: %v", at.ID, m)
		}
	}
}

// An agent type the platform does not offer is refused at create, over
// both transports, with the offered types named; no session is left behind.
func TestCreateRefusesAnAgentTypeNotOffered(t *testing.T) {
	g := startGateway(t, nil)
	r := g.rest(t, "POST", "/api/sessions", "", map[string]any{"agentType": "nope"})
	if r.status != 400 || r.errCode() != "INVALID_MESSAGE" || !strings.Contains(r.errMessage(), "asking-agent, coding-agent, echo, guarded-agent") {
		t.Fatalf("REST create of nope: %d %s", r.status, r.body)
	}
	c := g.dialDev(t)
	c.send(map[string]any{"type": "create_session", "agentType": "nope", "requestId": "bad"})
	if e := c.expect("error"); e["code"] != "INVALID_MESSAGE" || e["requestId"] != "bad" || !strings.Contains(e["message"].(string), "echo") {
		t.Fatalf("WebSocket create of nope: %v", e)
	}
	list := c.call("list", map[string]any{"type": "list_sessions"})
	if n := len(list["sessions"].([]any)); n != 0 {
		t.Fatalf("refused creates left %d sessions", n)
	}
}
