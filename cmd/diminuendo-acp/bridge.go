package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// msg is any JSON-RPC message, kept raw where it is only passed on.
type msg struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   json.RawMessage `json:"error,omitempty"`
}

// mark is the gateway's _meta.diminuendo on an update.
type mark struct {
	Seq          uint64 `json:"seq"`
	Event        string `json:"event"`
	TurnID       string `json:"turnId"`
	ClientTurnID string `json:"clientTurnId"`
	StopReason   string `json:"stopReason"`
	Payload      struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"payload"`
	PromptID string `json:"promptId"`
}

type session struct {
	lastSeq uint64 // the last event passed to the editor
	// One event may make several updates. passed counts those of lastSeq
	// the editor has; seen those of it received since the last reload.
	passed, seen int
	epoch        string
	known        bool // the editor created, loaded or resumed it
}

// prompt is a session/prompt of the editor not yet answered.
type prompt struct {
	editorID     json.RawMessage
	sessionID    string
	clientTurnID string
	turnID       string
	gen          int             // the connection it was sent on
	raw          json.RawMessage // the request, to send again if it never arrived
}

// permission is a request of the gateway the editor is answering.
type permission struct {
	gen       int
	gatewayID json.RawMessage
	promptID  string
}

type bridge struct {
	url   string
	token func() (string, error)
	log   *slog.Logger

	omu sync.Mutex
	out io.Writer

	wmu sync.Mutex // one writer on the gateway connection

	mu          sync.Mutex
	ws          *websocket.Conn // nil while disconnected
	gen         int
	initParams  json.RawMessage
	sessions    map[string]*session
	prompts     map[string]*prompt         // by the editor's request id
	inflight    map[string]msg             // other editor requests not yet answered
	queue       [][]byte                   // editor messages waiting for a connection
	perms       map[string]*permission     // by the id the editor sees
	openPrompt  map[string]string          // gateway prompt id -> editor-facing request id
	answered    map[string]json.RawMessage // prompt id -> the editor's answer, kept while disconnected
	pendingLoad map[string]string          // bridge load id -> session id
	nextID      int
	done        chan struct{}
}

func newBridge(url string, token func() (string, error), out io.Writer, log *slog.Logger) *bridge {
	return &bridge{url: url, token: token, out: out, log: log, sessions: map[string]*session{}, prompts: map[string]*prompt{},
		inflight: map[string]msg{}, perms: map[string]*permission{}, openPrompt: map[string]string{}, answered: map[string]json.RawMessage{},
		pendingLoad: map[string]string{}, done: make(chan struct{})}
}

// run forwards stdin to the gateway until stdin ends.
func (b *bridge) run(stdin io.Reader) error {
	go b.connectLoop()
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	for sc.Scan() {
		line := append([]byte(nil), sc.Bytes()...)
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		b.fromEditor(line)
	}
	close(b.done)
	b.mu.Lock()
	if b.ws != nil {
		_ = b.ws.Close()
	}
	b.mu.Unlock()
	return sc.Err()
}

func (b *bridge) toEditor(v any) {
	var line []byte
	switch x := v.(type) {
	case []byte:
		line = x
	default:
		var err error
		if line, err = json.Marshal(v); err != nil {
			return
		}
	}
	b.omu.Lock()
	defer b.omu.Unlock()
	_, _ = b.out.Write(append(line, '\n'))
}

func idKey(id json.RawMessage) string { return string(id) }

// fromEditor handles one line of the editor.
func (b *bridge) fromEditor(line []byte) {
	var m msg
	if json.Unmarshal(line, &m) != nil {
		b.send(line) // the gateway answers malformed input with the right error
		return
	}
	b.mu.Lock()
	switch {
	case m.Method == "" && len(m.ID) > 0:
		// The editor answers one of the gateway's requests.
		if p := b.perms[idKey(m.ID)]; p != nil {
			delete(b.perms, idKey(m.ID))
			delete(b.openPrompt, p.promptID)
			if p.gen == b.gen && b.ws != nil {
				m.ID = p.gatewayID
				line, _ = json.Marshal(m)
			} else {
				// The request's connection is gone; the prompt will be put
				// again after the reload, and this answer is its answer.
				body := m.Result
				if len(m.Error) > 0 {
					body = json.RawMessage(`{"outcome":{"outcome":"cancelled"}}`)
				}
				b.answered[p.promptID] = body
				b.mu.Unlock()
				return
			}
		}
	case m.Method == "initialize":
		b.initParams = m.Params
		b.inflight[idKey(m.ID)] = m
	case m.Method == "session/prompt" && len(m.ID) > 0:
		var p struct {
			SessionID string `json:"sessionId"`
		}
		_ = json.Unmarshal(m.Params, &p)
		b.nextID++
		ctid := fmt.Sprintf("bridge-%d-%d", time.Now().UnixNano(), b.nextID)
		m.Params = withMeta(m.Params, map[string]any{"clientTurnId": ctid})
		line, _ = json.Marshal(m)
		gen := b.gen
		if b.ws == nil {
			gen = -1 // sent on the next connection
		}
		b.prompts[idKey(m.ID)] = &prompt{editorID: m.ID, sessionID: p.SessionID, clientTurnID: ctid, gen: gen, raw: line}
		b.session(p.SessionID).known = true
	case m.Method == "session/load" && len(m.ID) > 0:
		var p struct {
			SessionID string `json:"sessionId"`
		}
		_ = json.Unmarshal(m.Params, &p)
		s := b.session(p.SessionID)
		s.known, s.lastSeq, s.passed, s.seen = true, 0, 0, 0 // the editor asked for everything
		b.inflight[idKey(m.ID)] = m
	case len(m.ID) > 0:
		if m.Method == "session/resume" {
			var p struct {
				SessionID string `json:"sessionId"`
			}
			_ = json.Unmarshal(m.Params, &p)
			b.session(p.SessionID).known = true
		}
		b.inflight[idKey(m.ID)] = m
	}
	b.mu.Unlock()
	b.send(line)
}

func (b *bridge) session(id string) *session {
	s := b.sessions[id]
	if s == nil {
		s = &session{}
		b.sessions[id] = s
	}
	return s
}

// withMeta sets _meta.diminuendo fields of params.
func withMeta(params json.RawMessage, fields map[string]any) json.RawMessage {
	var p map[string]any
	if json.Unmarshal(params, &p) != nil || p == nil {
		p = map[string]any{}
	}
	meta, _ := p["_meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	d, _ := meta["diminuendo"].(map[string]any)
	if d == nil {
		d = map[string]any{}
	}
	for k, v := range fields {
		d[k] = v
	}
	meta["diminuendo"] = d
	p["_meta"] = meta
	out, _ := json.Marshal(p)
	return out
}

// send writes to the gateway, or queues until the connection is back.
func (b *bridge) send(line []byte) {
	b.mu.Lock()
	ws := b.ws
	if ws == nil {
		b.queue = append(b.queue, line)
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	if err := b.write(ws, line); err != nil {
		b.mu.Lock()
		b.queue = append(b.queue, line)
		b.mu.Unlock()
	}
}

func (b *bridge) write(ws *websocket.Conn, line []byte) error {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return ws.WriteMessage(websocket.TextMessage, line)
}

// connectLoop keeps one connection to the gateway, reconnecting with
// capped backoff until stdin ends.
func (b *bridge) connectLoop() {
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-b.done:
			return
		default:
		}
		ws, err := b.dial()
		if err != nil {
			b.log.Warn("cannot reach the gateway; retrying", "err", err, "in", backoff)
			b.failQueuedAfter(err)
			select {
			case <-b.done:
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 2*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		b.attach(ws)
		b.log.Debug("connected to the gateway", "url", b.url)
		b.readLoop(ws)
		b.mu.Lock()
		b.ws = nil
		b.mu.Unlock()
		b.log.Info("connection to the gateway lost; reconnecting")
	}
}

func (b *bridge) dial() (*websocket.Conn, error) {
	tok, err := b.token()
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	if tok != "" {
		h.Set("Authorization", "Bearer "+tok)
	}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, resp, err := d.Dial(b.url, h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%s: %s", b.url, resp.Status)
		}
		return nil, err
	}
	ws.SetReadLimit(16 << 20)
	return ws, nil
}

// failQueuedAfter answers the editor's queued requests when the gateway
// refuses the connection outright (a bad token): waiting would not help.
func (b *bridge) failQueuedAfter(err error) {
	if !strings.Contains(err.Error(), "401") && !strings.Contains(err.Error(), "403") {
		return
	}
	b.mu.Lock()
	q := b.queue
	b.queue = nil
	b.mu.Unlock()
	for _, line := range q {
		var m msg
		if json.Unmarshal(line, &m) == nil && m.Method != "" && len(m.ID) > 0 {
			b.toEditor(map[string]any{"jsonrpc": "2.0", "id": m.ID, "error": map[string]any{"code": -32000,
				"message": "the gateway refused the token: " + err.Error(), "data": map[string]any{"code": "AUTH_FAILED"}}})
		}
	}
}

// attach makes ws the connection. After a reconnection it first
// initializes again, loads every session after its last event passed on,
// and sends again the editor's requests that got no answer; prompts are
// not sent again unless they never reached the gateway (see loaded).
func (b *bridge) attach(ws *websocket.Conn) {
	b.mu.Lock()
	b.gen++
	again := b.initParams != nil && b.gen > 1
	var lines [][]byte
	if again {
		lines = append(lines, b.internal("initialize", b.initParams))
		for sid, s := range b.sessions {
			if !s.known {
				continue
			}
			// From the last event passed on, whose updates may have been
			// cut off part-way; those the editor has are skipped.
			fields := map[string]any{"afterSeq": max(s.lastSeq, 1) - 1}
			s.seen = 0
			if s.epoch != "" {
				fields["epoch"] = s.epoch
			}
			params := withMeta(json.RawMessage(fmt.Sprintf(`{"sessionId":%q,"cwd":"/","mcpServers":[]}`, sid)), fields)
			line := b.internal("session/load", params)
			var m msg
			_ = json.Unmarshal(line, &m)
			b.pendingLoad[idKey(m.ID)] = sid
			lines = append(lines, line)
		}
		for _, m := range b.inflight {
			if m.Method == "initialize" {
				continue
			}
			l, _ := json.Marshal(m)
			lines = append(lines, l)
		}
	}
	for _, pr := range b.prompts {
		if pr.gen == -1 {
			pr.gen = b.gen
		}
	}
	lines = append(lines, b.queue...)
	b.queue = nil
	b.ws = ws
	b.mu.Unlock()
	for _, l := range lines {
		if err := b.write(ws, l); err != nil {
			return // the read loop sees the failure and we come back here
		}
	}
}

// internal builds a request of the bridge's own; its answer is not the editor's.
func (b *bridge) internal(method string, params json.RawMessage) []byte {
	b.nextID++
	line, _ := json.Marshal(msg{JSONRPC: "2.0", ID: json.RawMessage(strconv.Quote("diminuendo-acp-" + strconv.Itoa(b.nextID))), Method: method, Params: params})
	return line
}

func (b *bridge) readLoop(ws *websocket.Conn) {
	for {
		_, raw, err := ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				b.log.Debug("gateway closed the connection", "code", ce.Code, "reason", ce.Text)
			}
			_ = ws.Close()
			return
		}
		b.fromGateway(raw)
	}
}

func (b *bridge) fromGateway(raw []byte) {
	var m msg
	if json.Unmarshal(raw, &m) != nil {
		return
	}
	switch {
	case m.Method == "session/update":
		b.update(raw, m)
	case m.Method != "" && len(m.ID) > 0:
		b.request(m)
	case m.Method == "":
		b.response(raw, m)
	default:
		b.toEditor(raw)
	}
}

// update passes a session/update on, unless the editor has it already.
func (b *bridge) update(raw []byte, m msg) {
	var p struct {
		SessionID string `json:"sessionId"`
		Update    struct {
			Kind string `json:"sessionUpdate"`
			Meta struct {
				Mark *mark `json:"diminuendo"`
			} `json:"_meta"`
		} `json:"update"`
	}
	_ = json.Unmarshal(m.Params, &p)
	mk := p.Update.Meta.Mark
	if mk == nil || mk.Seq == 0 {
		b.toEditor(raw)
		return
	}
	b.mu.Lock()
	s := b.session(p.SessionID)
	// Events already passed on come again after a reload; one event may
	// make several updates, all with its seq.
	switch {
	case mk.Seq < s.lastSeq:
		b.mu.Unlock()
		return
	case mk.Seq == s.lastSeq && s.seen < s.passed:
		s.seen++
		b.mu.Unlock()
		return
	case mk.Seq == s.lastSeq:
		s.seen++
		s.passed++
	default:
		s.lastSeq, s.seen, s.passed = mk.Seq, 1, 1
	}
	var finish *prompt
	drop := false
	for _, pr := range b.prompts {
		if pr.sessionID != p.SessionID {
			continue
		}
		if mk.Event == "user_message" && mk.ClientTurnID == pr.clientTurnID {
			pr.turnID = mk.TurnID
			drop = p.Update.Kind == "user_message_chunk" // the editor shows its own message
		}
		if (mk.Event == "turn_complete" || mk.Event == "turn_error") && pr.turnID != "" && pr.turnID == mk.TurnID && pr.gen != b.gen {
			finish = pr
			delete(b.prompts, idKey(pr.editorID))
		}
	}
	b.mu.Unlock()
	if !drop {
		b.toEditor(raw)
	}
	if finish != nil {
		// The prompt was sent on a connection that is gone: the gateway
		// cannot answer it, so the bridge does, from the turn's end.
		if mk.Event == "turn_error" || mk.StopReason == "" {
			b.toEditor(map[string]any{"jsonrpc": "2.0", "id": finish.editorID, "error": map[string]any{"code": -32603,
				"message": "the turn failed: " + mk.Payload.Message, "data": map[string]any{"code": mk.Payload.Code}}})
			return
		}
		b.toEditor(map[string]any{"jsonrpc": "2.0", "id": finish.editorID, "result": map[string]any{"stopReason": mk.StopReason}})
	}
}

// request passes on a request of the gateway (a permission) under an id of
// the bridge: ids restart with each connection, and a prompt put again
// after a reload must reach the editor's open request, not a second one.
func (b *bridge) request(m msg) {
	var p struct {
		Meta struct {
			Mark *mark `json:"diminuendo"`
		} `json:"_meta"`
	}
	_ = json.Unmarshal(m.Params, &p)
	promptID := ""
	if p.Meta.Mark != nil {
		promptID = p.Meta.Mark.PromptID
	}
	b.mu.Lock()
	ws, gen := b.ws, b.gen
	if promptID != "" {
		if ans, ok := b.answered[promptID]; ok {
			delete(b.answered, promptID)
			b.mu.Unlock()
			line, _ := json.Marshal(msg{JSONRPC: "2.0", ID: m.ID, Result: ans})
			if ws != nil {
				_ = b.write(ws, line)
			}
			return
		}
		if eid, ok := b.openPrompt[promptID]; ok {
			b.perms[eid] = &permission{gen: gen, gatewayID: m.ID, promptID: promptID}
			b.mu.Unlock()
			b.log.Debug("prompt asked again; the editor's open request stands for it", "prompt", promptID)
			return
		}
	}
	b.nextID++
	eid := strconv.Quote("diminuendo-acp-" + strconv.Itoa(b.nextID))
	b.perms[eid] = &permission{gen: gen, gatewayID: m.ID, promptID: promptID}
	if promptID != "" {
		b.openPrompt[promptID] = eid
	}
	b.mu.Unlock()
	m.ID = json.RawMessage(eid)
	b.toEditor(m)
}

// response passes on the answer to an editor request, and takes those to
// the bridge's own.
func (b *bridge) response(raw []byte, m msg) {
	k := idKey(m.ID)
	b.mu.Lock()
	if sid, ok := b.pendingLoad[k]; ok {
		delete(b.pendingLoad, k)
		// Every event up to the reload is in: a prompt of this session
		// whose turn never started never reached the gateway. Send it now.
		var again [][]byte
		for _, pr := range b.prompts {
			if pr.sessionID == sid && pr.turnID == "" && pr.gen != b.gen {
				pr.gen = b.gen
				again = append(again, pr.raw)
			}
		}
		ws := b.ws
		b.mu.Unlock()
		for _, l := range again {
			if ws != nil {
				_ = b.write(ws, l)
			}
		}
		return
	}
	if strings.HasPrefix(k, `"diminuendo-acp-`) {
		b.mu.Unlock()
		return // the answer to a re-initialize
	}
	req, wasInflight := b.inflight[k]
	delete(b.inflight, k)
	delete(b.prompts, k)
	if wasInflight && len(m.Result) > 0 {
		var r struct {
			SessionID string `json:"sessionId"`
			Meta      struct {
				D struct {
					Epoch string `json:"epoch"`
				} `json:"diminuendo"`
			} `json:"_meta"`
		}
		_ = json.Unmarshal(m.Result, &r)
		sid := r.SessionID
		if sid == "" && (req.Method == "session/load" || req.Method == "session/resume") {
			var p struct {
				SessionID string `json:"sessionId"`
			}
			_ = json.Unmarshal(req.Params, &p)
			sid = p.SessionID
		}
		if sid != "" {
			s := b.session(sid)
			s.known = true
			if r.Meta.D.Epoch != "" {
				s.epoch = r.Meta.D.Epoch
			}
		}
	}
	b.mu.Unlock()
	b.toEditor(raw)
}
