package acp

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/diminuendo/diminuendo/domain"
)

// formElicitation reports whether the advertised clientCapabilities.elicitation
// offers form mode ({"form": {}}), the only mode a question prompt can use.
// Anything else, malformed included, is no form support: the permission
// fallback still answers the prompt.
func formElicitation(raw json.RawMessage) bool {
	var e struct {
		Form json.RawMessage `json:"form"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &e) != nil {
		return false
	}
	return len(e.Form) > 0 && e.Form[0] == '{'
}

// question is one field of a question prompt's form: the key its answer is
// stored under and the text shown.
type question struct{ id, text string }

// questionsOf reads an agent's free-form questions as the web client does:
// a list of strings or of objects ({id|key, question|text|label}), or an
// object of id → text; anything else is one free-text "answer".
func questionsOf(v any) []question {
	var out []question
	seen := map[string]bool{}
	add := func(id, text string) {
		if id == "" || seen[id] {
			return
		}
		seen[id] = true
		if text == "" {
			text = id
		}
		out = append(out, question{id, text})
	}
	switch qs := v.(type) {
	case []any:
		for i, x := range qs {
			switch q := x.(type) {
			case string:
				add(fmt.Sprint(i), q)
			case map[string]any:
				add(firstString(q, fmt.Sprint(i), "id", "key"), firstString(q, "", "question", "text", "label"))
			default:
				add(fmt.Sprint(i), "")
			}
		}
	case map[string]any:
		for id, text := range qs {
			s, _ := text.(string)
			add(id, s)
		}
		// a map has no order: show the fields in a stable one
		slices.SortFunc(out, func(a, b question) int { return strings.Compare(a.id, b.id) })
	}
	if len(out) == 0 {
		out = []question{{"answer", "Answer"}}
	}
	return out
}

func firstString(m map[string]any, def string, keys ...string) string {
	for _, k := range keys {
		switch v := m[k].(type) {
		case string:
			if v != "" {
				return v
			}
		case float64:
			return fmt.Sprint(v)
		}
	}
	return def
}

// elicitationParams builds elicitation/create in form mode for a question
// prompt: one string field per question, none required, so the user may
// leave one blank.
func elicitationParams(sid string, ev *domain.Event) map[string]any {
	qs := questionsOf(ev.Data["questions"])
	props := make(map[string]any, len(qs))
	texts := make([]string, len(qs))
	for i, q := range qs {
		props[q.id] = map[string]any{"type": "string", "title": q.text}
		texts[i] = q.text
	}
	return map[string]any{
		"sessionId": sid,
		"mode":      "form",
		"message":   "The agent asks: " + strings.Join(texts, " "),
		"requestedSchema": map[string]any{
			"type": "object", "title": "The agent asks a question", "properties": props,
		},
		"_meta": map[string]any{metaKey: map[string]any{"promptId": ev.Str("promptId"), "seq": ev.Seq, "event": ev.Type}},
	}
}

// elicitationAnswer reads the client's answer: accept gives the content as
// the answers; decline, cancel (ACP's answer after session/cancel), an
// unknown action and an error dismiss the question.
func elicitationAnswer(result json.RawMessage, rerr *rpcError) (answers map[string]any, dismissed bool) {
	var r struct {
		Action  string         `json:"action"`
		Content map[string]any `json:"content"`
	}
	if rerr != nil || json.Unmarshal(result, &r) != nil || r.Action != "accept" {
		return nil, true
	}
	if r.Content == nil {
		r.Content = map[string]any{}
	}
	return r.Content, false
}

// elicit puts a question prompt to a client that advertised form
// elicitation; the answer goes to the answer_question use case.
func (c *conn) elicit(a *attachment, ev domain.Event) {
	promptID := ev.Str("promptId")
	c.request("elicitation/create", elicitationParams(a.sid, &ev), func(result json.RawMessage, rerr *rpcError) {
		c.mu.Lock()
		delete(a.asked, promptID)
		c.mu.Unlock()
		answers, dismissed := elicitationAnswer(result, rerr)
		var d *bool
		if dismissed {
			d = &dismissed
		}
		ctx, cancel := context.WithTimeout(c.ctx, requestTimeout)
		defer cancel()
		if err := c.srv.hub.Answer(ctx, c.id, a.sid, promptID, nil, answers, d); err != nil {
			// Another client answered first, or the turn ended: nothing to do.
			c.srv.log.Debug("acp: question answer not taken", "session", a.sid, "err", err)
		}
	})
}
