package acp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

// ProtocolVersion is the ACP version spoken here.
const ProtocolVersion = 1

type methodFunc func(c *conn, ctx context.Context, id json.RawMessage, params json.RawMessage)

var methods map[string]methodFunc

var notifications = map[string]func(c *conn, params json.RawMessage){
	"session/cancel": (*conn).cancelPrompt,
}

func init() {
	// Assigned here: the handlers refer back to the table through dispatch.
	methods = map[string]methodFunc{
		"initialize":                (*conn).initialize,
		"session/new":               (*conn).newSession,
		"session/set_config_option": (*conn).setConfigOption,
		"session/prompt":            (*conn).promptSession,
		"session/load":              (*conn).loadSession,
		"session/resume":            (*conn).resumeSession,
		"session/list":              (*conn).listSessions,
		"session/close":             (*conn).closeSession,
		"session/delete":            (*conn).deleteSession,
	}
}

// gatewayMeta is the gateway's entry in a request's _meta.
type gatewayMeta struct {
	AgentType    string  `json:"agentType"`
	Name         string  `json:"name"`
	ClientTurnID string  `json:"clientTurnId"`
	AfterSeq     *uint64 `json:"afterSeq"`
	Epoch        string  `json:"epoch"`
}

type withMeta struct {
	Meta struct {
		Gateway   gatewayMeta `json:"diminuendo"`
		AgentType string      `json:"agentType"`
	} `json:"_meta"`
}

func (c *conn) initialize(_ context.Context, id json.RawMessage, params json.RawMessage) {
	var p struct {
		ProtocolVersion *int64 `json:"protocolVersion"`
		Caps            struct {
			Meta        map[string]any  `json:"_meta"`
			Elicitation json.RawMessage `json:"elicitation"`
		} `json:"clientCapabilities"`
	}
	if err := decodeParams(params, &p); err != nil {
		c.fail(id, err)
		return
	}
	if p.ProtocolVersion == nil || *p.ProtocolVersion < 0 || *p.ProtocolVersion > 65535 {
		c.fail(id, invalidParams("protocolVersion must be an integer from 0 to 65535"))
		return
	}
	c.mu.Lock()
	c.inited = true
	c.caps.terminalMeta = p.Caps.Meta["terminal_output"] == true
	c.caps.elicitation = len(p.Caps.Elicitation) > 0 && string(p.Caps.Elicitation) != "null"
	c.mu.Unlock()
	// The client's version if spoken here, else the latest spoken here:
	// the client then decides whether it can go on.
	c.reply(id, map[string]any{
		"protocolVersion": ProtocolVersion,
		"agentCapabilities": map[string]any{
			"loadSession":        true,
			"promptCapabilities": map[string]any{"image": false, "audio": false, "embeddedContext": true},
			"mcpCapabilities":    map[string]any{"http": false, "sse": false},
			"sessionCapabilities": map[string]any{
				"list": map[string]any{}, "resume": map[string]any{}, "close": map[string]any{}, "delete": map[string]any{},
			},
		},
		"agentInfo":   map[string]any{"name": "diminuendo", "title": "Diminuendo", "version": c.srv.cfg.Version},
		"authMethods": []any{},
		"_meta":       map[string]any{metaKey: map[string]any{"tenantId": c.id.TenantID, "userId": c.id.UserID}},
	})
}

// agentTypeOption is the config option that picks a session's agent.
const agentTypeOption = "agent_type"

func (c *conn) configOptions(ctx context.Context, current string) ([]any, error) {
	types, err := c.srv.agentTypes.List(ctx, c.id)
	if err != nil {
		return nil, err
	}
	sort.Slice(types, func(i, j int) bool { return types[i].ID < types[j].ID })
	opts := make([]any, 0, len(types))
	for _, t := range types {
		o := map[string]any{"value": t.ID, "name": t.ID}
		if t.Description != "" {
			o["description"] = t.Description
		}
		opts = append(opts, o)
	}
	return []any{map[string]any{"id": agentTypeOption, "name": "Agent", "description": "The platform agent that runs this session's turns; fixed once the first prompt starts it.",
		"type": "select", "currentValue": current, "options": opts}}, nil
}

func (c *conn) newSession(ctx context.Context, id json.RawMessage, params json.RawMessage) {
	var p struct {
		withMeta
		Cwd        *string           `json:"cwd"`
		McpServers []json.RawMessage `json:"mcpServers"`
	}
	if err := decodeParams(params, &p); err != nil {
		c.fail(id, err)
		return
	}
	if p.Cwd == nil || p.McpServers == nil {
		c.fail(id, invalidParams("cwd and mcpServers are required"))
		return
	}
	agentType := c.srv.cfg.DefaultAgentType
	if s := p.Meta.Gateway.AgentType; s != "" {
		agentType = s
	} else if s := p.Meta.AgentType; s != "" {
		agentType = s
	}
	meta, err := c.srv.hub.CreateSession(ctx, c.id, agentType, p.Meta.Gateway.Name, "")
	if err != nil {
		c.fail(id, err)
		return
	}
	a := c.attachment(meta.ID)
	c.mu.Lock()
	a.cwd = *p.Cwd
	c.mu.Unlock()
	opts, err := c.configOptions(ctx, meta.AgentType)
	if err != nil {
		c.fail(id, err)
		return
	}
	c.reply(id, map[string]any{"sessionId": meta.ID, "configOptions": opts,
		"_meta": map[string]any{metaKey: map[string]any{"agentType": meta.AgentType, "epoch": meta.Epoch}}})
}

func (c *conn) setConfigOption(ctx context.Context, id json.RawMessage, params json.RawMessage) {
	var p struct {
		SessionID string          `json:"sessionId"`
		ConfigID  string          `json:"configId"`
		Value     json.RawMessage `json:"value"`
	}
	if err := decodeParams(params, &p); err != nil {
		c.fail(id, err)
		return
	}
	var value string
	if p.SessionID == "" || p.ConfigID == "" || json.Unmarshal(p.Value, &value) != nil {
		c.fail(id, invalidParams("sessionId, configId and a string value are required"))
		return
	}
	if p.ConfigID != agentTypeOption {
		c.fail(id, invalidParams("unknown config option "+strconv.Quote(p.ConfigID)+"; the one option is "+agentTypeOption))
		return
	}
	meta, err := c.srv.hub.SetAgentType(ctx, c.id, p.SessionID, value)
	if err != nil {
		c.fail(id, err)
		return
	}
	opts, err := c.configOptions(ctx, meta.AgentType)
	if err != nil {
		c.fail(id, err)
		return
	}
	c.reply(id, map[string]any{"configOptions": opts})
}

// contentBlock is the part of an ACP content block a turn can use.
type contentBlock struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	URI      string `json:"uri"`
	Name     string `json:"name"`
	Resource *struct {
		URI  string  `json:"uri"`
		Text *string `json:"text"`
	} `json:"resource"`
}

// turnText joins a prompt's content blocks into a turn's text: text as is,
// a resource link as its URI, an embedded text resource fenced under its URI.
func turnText(blocks []contentBlock) (string, error) {
	var parts []string
	for _, b := range blocks {
		switch b.Type {
		case "text":
			parts = append(parts, b.Text)
		case "resource_link":
			if b.URI == "" {
				return "", invalidParams("a resource_link needs a uri")
			}
			parts = append(parts, b.URI)
		case "resource":
			if b.Resource == nil || b.Resource.Text == nil {
				return "", invalidParams("only text resources can be embedded (promptCapabilities.embeddedContext)")
			}
			parts = append(parts, b.Resource.URI+"\n```\n"+*b.Resource.Text+"\n```")
		default:
			return "", invalidParams("content of type " + strconv.Quote(b.Type) + " is not supported; see promptCapabilities")
		}
	}
	text := strings.Join(parts, "\n\n")
	if strings.TrimSpace(text) == "" {
		return "", invalidParams("the prompt has no text")
	}
	return text, nil
}

func (c *conn) promptSession(ctx context.Context, id json.RawMessage, params json.RawMessage) {
	var p struct {
		withMeta
		SessionID string         `json:"sessionId"`
		Prompt    []contentBlock `json:"prompt"`
	}
	if err := decodeParams(params, &p); err != nil {
		c.fail(id, err)
		return
	}
	if p.SessionID == "" || p.Prompt == nil {
		c.fail(id, invalidParams("sessionId and prompt are required"))
		return
	}
	text, err := turnText(p.Prompt)
	if err != nil {
		c.fail(id, err)
		return
	}
	ctid := p.Meta.Gateway.ClientTurnID
	if ctid == "" || len(ctid) > 128 {
		ctid = "acp-" + randomHex(8)
	}
	a := c.attachment(p.SessionID)
	c.mu.Lock()
	if a.prompt != nil {
		c.mu.Unlock()
		c.fail(id, domain.E(domain.KindInvalidState, "a prompt is already running in this session"))
		return
	}
	pr := &prompt{rpcID: id, clientTurnID: ctid}
	a.prompt = pr
	joined := a.joined
	c.mu.Unlock()
	abandon := func(err error) {
		c.mu.Lock()
		if a.prompt == pr {
			a.prompt = nil
		}
		c.mu.Unlock()
		c.fail(id, err)
	}
	if !joined {
		pending, _, err := c.join(ctx, a, nil, "")
		if err != nil {
			abandon(err)
			return
		}
		c.after(func() { c.askPending(a, pending) })
	}
	c.mu.Lock()
	cancelled := pr.cancel
	c.mu.Unlock()
	if cancelled {
		c.endPrompt(a, map[string]any{"stopReason": "cancelled"}, nil)
		return
	}
	if err := c.srv.hub.RunTurn(ctx, c.id, p.SessionID, text, ctid); err != nil {
		abandon(err)
	}
	// The pump answers when the turn's turn_complete has been translated.
}

// cancelPrompt stops the session's running turn; its prompt then ends with
// cancelled. A turn not yet started is stopped as soon as it starts.
func (c *conn) cancelPrompt(params json.RawMessage) {
	var p struct {
		SessionID string `json:"sessionId"`
	}
	if json.Unmarshal(params, &p) != nil || p.SessionID == "" {
		return // a notification gets no answer, not even an error
	}
	c.mu.Lock()
	a := c.sessions[p.SessionID]
	var started, none bool
	if a != nil && a.prompt != nil {
		a.prompt.cancel = true
		started = a.prompt.turnID != ""
	} else {
		none = true // a turn another client started: stop it all the same
	}
	c.mu.Unlock()
	if started || none {
		ctx, cancel := context.WithTimeout(c.ctx, requestTimeout)
		defer cancel()
		_ = c.srv.hub.StopTurn(ctx, c.id, p.SessionID)
	}
}

type sessionRef struct {
	withMeta
	SessionID string  `json:"sessionId"`
	Cwd       *string `json:"cwd"`
}

// loadSession replays the session's whole history (or, with
// _meta.diminuendo.afterSeq, what follows that seq) as session/update
// notifications, attaches to its live events, then answers. History comes
// from the platform, so any gateway instance serves it after any restart.
func (c *conn) loadSession(ctx context.Context, id json.RawMessage, params json.RawMessage) {
	var p sessionRef
	if err := decodeParams(params, &p); err != nil {
		c.fail(id, err)
		return
	}
	if p.SessionID == "" || p.Cwd == nil {
		c.fail(id, invalidParams("sessionId, cwd and mcpServers are required"))
		return
	}
	if _, err := c.srv.hub.GetSession(ctx, c.id, p.SessionID); err != nil {
		c.fail(id, err)
		return
	}
	a := c.attachment(p.SessionID)
	c.mu.Lock()
	if a.prompt != nil {
		c.mu.Unlock()
		c.fail(id, domain.E(domain.KindInvalidState, "a prompt of this connection is running in this session"))
		return
	}
	a.cwd = *p.Cwd
	c.mu.Unlock()
	after := uint64(0)
	if p.Meta.Gateway.AfterSeq != nil {
		after = *p.Meta.Gateway.AfterSeq
	}
	// Frames of an earlier attachment still queued are written first; the
	// replay starts from a fresh translation after them.
	c.leave(a)
	restart := func(from uint64) {
		c.after(func() {
			c.mu.Lock()
			a.lastSeq = from
			a.replayUntil = ^uint64(0) // until the join says where history ends
			a.asked = map[string]bool{}
			c.mu.Unlock()
			a.st = mapState{}
		})
	}
	restart(after)
	epoch := p.Meta.Gateway.Epoch
	// Page the history through the pump, then join after the last event:
	// the join replays what came meanwhile and goes on live.
	for round := 0; round < 1000; round++ {
		page, err := c.srv.hub.GetEvents(ctx, c.id, p.SessionID, after, app.MaxEventsPage)
		if err != nil {
			c.fail(id, err)
			return
		}
		if epoch != "" && page.Epoch != epoch && after > 0 {
			// Another event stream: the cursor means nothing in it.
			after, epoch = 0, ""
			restart(0)
			continue
		}
		epoch = page.Epoch
		for _, ev := range page.Events {
			b, err := json.Marshal(ev)
			if err != nil {
				continue
			}
			a.c.enqueue(item{att: a, frame: app.Frame{Seq: ev.Seq, Type: ev.Type, Data: b}})
			after = ev.Seq
		}
		if !page.HasMore || len(page.Events) == 0 {
			break
		}
	}
	pending, _, err := c.join(ctx, a, &after, epoch)
	if err != nil {
		c.fail(id, err)
		return
	}
	c.after(func() {
		c.reply(id, map[string]any{"_meta": map[string]any{metaKey: map[string]any{"epoch": epoch}}})
		c.askPending(a, pending)
	})
}

// resumeSession attaches to the session's live events without a replay.
func (c *conn) resumeSession(ctx context.Context, id json.RawMessage, params json.RawMessage) {
	var p sessionRef
	if err := decodeParams(params, &p); err != nil {
		c.fail(id, err)
		return
	}
	if p.SessionID == "" || p.Cwd == nil {
		c.fail(id, invalidParams("sessionId and cwd are required"))
		return
	}
	a := c.attachment(p.SessionID)
	pending, seq, err := c.join(ctx, a, nil, "")
	if err != nil {
		c.forgetIdle(a)
		c.fail(id, err)
		return
	}
	c.mu.Lock()
	a.cwd = *p.Cwd
	c.mu.Unlock()
	c.after(func() {
		c.reply(id, map[string]any{"_meta": map[string]any{metaKey: map[string]any{"latestSeq": seq}}})
		c.askPending(a, pending)
	})
}

// forgetIdle drops an attachment that never got attached.
func (c *conn) forgetIdle(a *attachment) {
	c.mu.Lock()
	if !a.joined && a.prompt == nil && c.sessions[a.sid] == a {
		delete(c.sessions, a.sid)
	}
	c.mu.Unlock()
}

// listPage is the most sessions one session/list answer holds.
const listPage = 100

func (c *conn) listSessions(ctx context.Context, id json.RawMessage, params json.RawMessage) {
	var p struct {
		Cwd    *string `json:"cwd"`
		Cursor *string `json:"cursor"`
	}
	if len(params) > 0 && string(params) != "null" {
		if err := json.Unmarshal(params, &p); err != nil {
			c.fail(id, invalidParams("params have the wrong shape"))
			return
		}
	}
	start := 0
	if p.Cursor != nil && *p.Cursor != "" {
		n, err := strconv.Atoi(*p.Cursor)
		if err != nil || n < 0 {
			c.fail(id, invalidParams("unknown cursor"))
			return
		}
		start = n
	}
	list, err := c.srv.hub.ListSessions(ctx, c.id, false)
	if err != nil {
		c.fail(id, err)
		return
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].UpdatedAt > list[j].UpdatedAt })
	// Sessions live on the platform, not in a directory: every session is
	// listed, under the directory asked about (or the one it was opened in).
	out := []any{}
	end := min(len(list), start+listPage)
	for _, m := range list[min(start, len(list)):end] {
		cwd := "/"
		if p.Cwd != nil && *p.Cwd != "" {
			cwd = *p.Cwd
		} else {
			c.mu.Lock()
			if a := c.sessions[m.ID]; a != nil && a.cwd != "" {
				cwd = a.cwd
			}
			c.mu.Unlock()
		}
		out = append(out, map[string]any{"sessionId": m.ID, "cwd": cwd, "title": m.Name,
			"updatedAt": time.UnixMilli(m.UpdatedAt).UTC().Format(time.RFC3339Nano),
			"_meta":     map[string]any{metaKey: map[string]any{"agentType": m.AgentType, "state": m.State, "latestSeq": m.LatestSeq, "createdBy": m.CreatedBy}}})
	}
	res := map[string]any{"sessions": out}
	if end < len(list) {
		res["nextCursor"] = strconv.Itoa(end)
	}
	c.reply(id, res)
}

// closeSession stops this connection's prompt in the session, if any, and
// detaches from it; the session itself stays, to be loaded again.
func (c *conn) closeSession(ctx context.Context, id json.RawMessage, params json.RawMessage) {
	var p sessionRef
	if err := decodeParams(params, &p); err != nil {
		c.fail(id, err)
		return
	}
	if p.SessionID == "" {
		c.fail(id, invalidParams("sessionId is required"))
		return
	}
	if _, err := c.srv.hub.GetSession(ctx, c.id, p.SessionID); err != nil {
		c.fail(id, err)
		return
	}
	c.mu.Lock()
	a := c.sessions[p.SessionID]
	delete(c.sessions, p.SessionID)
	running := a != nil && a.prompt != nil
	c.mu.Unlock()
	if running {
		_ = c.srv.hub.StopTurn(ctx, c.id, p.SessionID)
	}
	if a != nil {
		_ = c.srv.hub.Leave(c.id, p.SessionID, a)
		c.after(func() { c.endPrompt(a, map[string]any{"stopReason": "cancelled"}, nil) })
	}
	c.after(func() { c.reply(id, nil) })
}

func (c *conn) deleteSession(ctx context.Context, id json.RawMessage, params json.RawMessage) {
	var p sessionRef
	if err := decodeParams(params, &p); err != nil {
		c.fail(id, err)
		return
	}
	if p.SessionID == "" {
		c.fail(id, invalidParams("sessionId is required"))
		return
	}
	a := c.attachment(p.SessionID)
	if err := c.srv.hub.DeleteSession(ctx, c.id, p.SessionID, a); err != nil {
		c.forgetIdle(a)
		c.fail(id, err)
		return
	}
	c.mu.Lock()
	delete(c.sessions, p.SessionID)
	c.mu.Unlock()
	c.after(func() {
		c.endPrompt(a, map[string]any{"stopReason": "cancelled"}, nil)
		c.reply(id, nil)
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
