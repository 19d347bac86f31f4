// The browser client of Diminuendo: one WebSocket, the protocol of
// docs/protocol.md, and lossless resume. It keeps, per session, the highest
// seq it holds and the epoch; on reconnect it rejoins with both, so the
// gateway (any instance) replays exactly what was missed. Events are
// applied once, by seq.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  ws: null,
  backoff: 500,
  sessions: new Map(), // id -> meta
  current: null,       // session id shown
  books: new Map(),    // id -> {lastSeq, epoch, turns: Map(turnId -> element)}
  nextReq: 1,
};

function book(id) {
  if (!state.books.has(id)) state.books.set(id, { lastSeq: 0, epoch: "", turns: new Map(), live: false, rebuilding: false, held: [] });
  return state.books.get(id);
}

function send(msg) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return false;
  msg.requestId = msg.requestId || "r" + state.nextReq++;
  state.ws.send(JSON.stringify(msg));
  return true;
}

function connect() {
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  const ws = new WebSocket(url);
  state.ws = ws;
  $("conn").textContent = "connecting…";
  ws.onmessage = (m) => handle(JSON.parse(m.data));
  ws.onclose = (e) => {
    $("conn").textContent = "disconnected (" + e.code + "), reconnecting…";
    for (const b of state.books.values()) b.live = false;
    if (e.code === 4001) localStorage.removeItem("diminuendo.token");
    // 1013: the instance is full; back off longer. Everything else resumes.
    const wait = e.code === 1013 ? 5000 : state.backoff;
    state.backoff = Math.min(state.backoff * 2, 8000);
    setTimeout(connect, wait + Math.random() * 250);
  };
}

function authenticate() {
  let token = localStorage.getItem("diminuendo.token");
  if (!token) {
    token = prompt("Access token (not needed in dev mode):") || "";
    localStorage.setItem("diminuendo.token", token);
  }
  send({ type: "authenticate", token });
}

// ?demo=AGENT:TEXT creates a session of AGENT and runs TEXT once joined:
// a scripted first turn for demos and for the browser test.
const demo = new URLSearchParams(location.search).get("demo");
let demoPending = demo ? { agent: demo.split(":")[0], text: demo.split(":").slice(1).join(":") } : null;

function handle(m) {
  switch (m.type) {
    case "welcome":
      if (m.requiresAuth) authenticate();
      return;
    case "authenticated":
      state.backoff = 500;
      $("conn").textContent = m.identity.email + " · " + m.identity.tenantId + " · " + m.identity.role;
      send({ type: "list_sessions" });
      if (state.current) join(state.current);
      if (demoPending && !state.current) send({ type: "create_session", agentType: demoPending.agent, name: "demo" });
      return;
    case "auth_expiring":
      localStorage.removeItem("diminuendo.token");
      authenticate();
      return;
    case "session_list":
      state.sessions = new Map(m.sessions.map((s) => [s.id, s]));
      renderSessions();
      return;
    case "session_created":
      state.sessions.set(m.session.id, m.session);
      renderSessions();
      select(m.session.id);
      return;
    case "state_snapshot":
      onSnapshot(m);
      return;
    case "session_state":
      if (m.sessionId === state.current) $("state").textContent = m.state;
      return;
    case "events":
      onEventsPage(m);
      return;
    case "session_deleted":
      state.sessions.delete(m.sessionId);
      renderSessions();
      return;
    case "error":
      if (m.sessionId === state.current || !m.sessionId) note("error", m.code + ": " + m.message);
      return;
    case "heartbeat": case "pong": case "connected": case "steer_accepted": case "session_updated": case "session_left":
      return;
  }
  if (typeof m.seq === "number") apply(m);
}

function join(id) {
  const b = book(id);
  // Always a cursor: from 0 the gateway replays the whole session in order
  // before live events, so nothing races the history.
  const msg = { type: "join_session", sessionId: id, afterSeq: b.lastSeq };
  if (b.epoch) msg.epoch = b.epoch;
  send(msg);
}

function onSnapshot(m) {
  const b = book(m.sessionId);
  $("state").textContent = m.state;
  b.epoch = m.epoch;
  b.live = true;
  if (demoPending && m.sessionId === state.current) {
    send({ type: "run_turn", sessionId: m.sessionId, text: demoPending.text });
    demoPending = null;
  }
  if (!m.replayComplete) {
    // The gateway could not replay from our cursor (another epoch, or too far
    // behind): rebuild from the durable event stream, holding live events
    // back until the pages are in, so they apply in seq order.
    b.lastSeq = 0; b.turns.clear(); b.rebuilding = true; b.held = [];
    if (m.sessionId === state.current) $("log").innerHTML = "";
    send({ type: "get_events", sessionId: m.sessionId, afterSeq: 0, limit: 1000 });
    return;
  }
}

function onEventsPage(m) {
  const b = book(m.sessionId);
  for (const ev of m.events) apply(ev, true);
  if (m.hasMore && m.events.length) {
    send({ type: "get_events", sessionId: m.sessionId, afterSeq: m.events[m.events.length - 1].seq, limit: 1000 });
    return;
  }
  b.rebuilding = false;
  const held = b.held;
  b.held = [];
  for (const ev of held) apply(ev);
}

// apply renders one sequenced event exactly once.
function apply(ev, fromPage) {
  const b = book(ev.sessionId);
  if (b.rebuilding && !fromPage) { b.held.push(ev); return; }
  if (ev.seq <= b.lastSeq) return;
  b.lastSeq = ev.seq;
  if (ev.sessionId !== state.current) return;
  $("seq").textContent = "seq " + b.lastSeq;
  const turn = turnEl(b, ev.turnId);
  switch (ev.type) {
    case "user_message": add(turn, "div", "user", ev.text); break;
    case "text_delta": part(turn, "agent").textContent += ev.text; break;
    case "thinking.progress": part(turn, "thinking").textContent += ev.text; break;
    case "tool_call": add(turn, "div", "tool", "▶ " + ev.toolName + " " + JSON.stringify(ev.input)); break;
    case "tool_result": add(turn, "div", "tool", (ev.isError ? "✗ " : "✓ ") + String(ev.output)); break;
    case "tool_error": add(turn, "div", "error", "tool error: " + ev.message); break;
    case "terminal.stream": part(turn, "terminal").textContent += ev.data; break;
    case "steer_applied": add(turn, "div", "muted", "steer: " + ev.text); break;
    case "permission_requested": case "question_requested": promptEl(turn, ev); break;
    case "approval_resolved": {
      const p = turn.querySelector('[data-prompt="' + CSS.escape(ev.promptId) + '"]');
      if (p) p.replaceWith(Object.assign(document.createElement("div"),
        { className: "muted", textContent: ev.approved ? "approved" : "denied" }));
      break;
    }
    case "turn_complete": {
      const u = ev.usage || {};
      add(turn, "div", "muted", ev.stopReason + " · " + (u.inputTokens || 0) + " in / " + (u.outputTokens || 0) + " out");
      break;
    }
    case "turn_error": add(turn, "div", "error", ev.code + ": " + ev.message); break;
  }
  $("log").scrollTop = $("log").scrollHeight;
}

function turnEl(b, turnId) {
  const key = turnId || "_";
  let el = b.turns.get(key);
  if (!el) {
    el = document.createElement("div");
    el.className = "turn";
    $("log").appendChild(el);
    b.turns.set(key, el);
  }
  return el;
}

function add(parent, tag, cls, text) {
  const el = document.createElement(tag);
  el.className = cls;
  el.textContent = text;
  parent.appendChild(el);
  return el;
}

// part returns the turn's last block of class cls, so consecutive deltas
// extend one block and a tool call in between starts a new one.
function part(turn, cls) {
  const last = turn.lastElementChild;
  return last && last.className === cls ? last : add(turn, "div", cls, "");
}

function promptEl(turn, ev) {
  if (turn.querySelector('[data-prompt="' + CSS.escape(ev.promptId) + '"]')) return;
  const box = add(turn, "div", "prompt", ev.description || "The agent asks a question");
  box.dataset.prompt = ev.promptId;
  const answer = (approved) => send({ type: "answer_question", sessionId: ev.sessionId, promptId: ev.promptId, approved });
  const yes = add(box, "button", "primary", "Approve");
  const no = add(box, "button", "", "Deny");
  yes.style.marginLeft = "8px";
  no.style.marginLeft = "4px";
  yes.onclick = () => answer(true);
  no.onclick = () => answer(false);
}

function note(cls, text) { add($("log"), "div", cls, text); }

function renderSessions() {
  const list = $("sessions");
  list.innerHTML = "";
  for (const s of state.sessions.values()) {
    const el = add(list, "div", "session" + (s.id === state.current ? " active" : ""), "");
    add(el, "span", "", s.name);
    add(el, "span", "muted", s.agentType);
    el.onclick = () => select(s.id);
  }
}

function select(id) {
  if (state.current && state.current !== id) send({ type: "leave_session", sessionId: state.current });
  state.current = id;
  const b = book(id);
  b.lastSeq = 0; b.turns.clear(); // re-render from the session's events
  $("log").innerHTML = "";
  $("title").textContent = (state.sessions.get(id) || {}).name || id;
  renderSessions();
  join(id);
}

$("new").onclick = () => send({ type: "create_session", agentType: $("agent").value });
$("stop").onclick = () => state.current && send({ type: "stop_turn", sessionId: state.current });
function submit() {
  const text = $("text").value.trim();
  if (!text || !state.current) return;
  const busy = ["running", "waiting"].includes($("state").textContent);
  send(busy ? { type: "steer", sessionId: state.current, text }
            : { type: "run_turn", sessionId: state.current, text, clientTurnId: "c" + Date.now() });
  $("text").value = "";
}
$("send").onclick = submit;
$("text").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) submit(); });
connect();
