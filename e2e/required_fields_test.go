package e2e

import (
	"strings"
	"testing"
)

// A message missing a field its schema requires, or carrying one of the
// wrong type or out of range, is INVALID_MESSAGE with requestId echoed and
// names the field; it is never served with a default. The connection
// stays open.
func TestMissingRequiredFieldsAreInvalidMessages(t *testing.T) {
	g := startGateway(t, nil)
	c := g.dialDev(t)
	sid := c.createSession("echo")["id"].(string)
	for _, m := range []struct {
		msg   map[string]any
		field string
	}{
		{map[string]any{"type": "get_events", "sessionId": sid}, "afterSeq"},
		{map[string]any{"type": "leave_session"}, "sessionId"},
		{map[string]any{"type": "authenticate"}, "token"},
		{map[string]any{"type": "join_session"}, "sessionId"},
		{map[string]any{"type": "run_turn", "sessionId": sid}, "text"},
		{map[string]any{"type": "rename_session", "sessionId": sid}, "name"},
		{map[string]any{"type": "answer_question", "sessionId": sid}, "promptId"},
		{map[string]any{"type": "file_at_iteration", "sessionId": sid, "path": "a.txt"}, "iteration"},
		{map[string]any{"type": "manage_members"}, "action"},
		{map[string]any{"type": "get_events", "sessionId": sid, "afterSeq": "zero"}, "afterSeq"},
		{map[string]any{"type": "get_events", "sessionId": sid, "afterSeq": 0, "limit": 5000}, "limit"},
		{map[string]any{"type": "manage_members", "action": "promote"}, "action"},
	} {
		rid := "r-" + m.msg["type"].(string) + "-" + m.field
		m.msg["requestId"] = rid
		c.sendInvalid(m.msg)
		e := c.expect("error")
		if e["code"] != "INVALID_MESSAGE" || e["requestId"] != rid || !strings.Contains(e["message"].(string), m.field) {
			t.Errorf("%v: %v", m.msg, e)
		}
	}
	c.alive("still-open")
}
