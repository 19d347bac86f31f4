import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import {
  BATCH_PROTOCOL,
  DiminuendoClient,
  DiminuendoError,
  type ConnectionState,
  type ServerEvent,
  type SessionEvent,
  type WebSocketConstructor,
  type WebSocketLike,
} from "../src/index.js";
import { startGateway, type Gateway } from "./gateway.js";

/** Bounds every wait: a hung test fails rather than blocking the suite. */
const WAIT_MS = 15_000;

function within<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Reads a session's frames from the iterator until `last` is seen. */
async function collectUntil(
  it: AsyncIterator<ServerEvent>,
  last: (ev: ServerEvent) => boolean,
): Promise<ServerEvent[]> {
  const out: ServerEvent[] = [];
  for (;;) {
    const r = await within(it.next(), "waiting for the end of the turn");
    if (r.done) throw new Error(`stream ended after ${out.map((e) => e.type).join(",")}`);
    out.push(r.value);
    if (last(r.value)) return out;
  }
}

const isSequenced = (ev: ServerEvent): ev is SessionEvent => typeof (ev as { seq?: unknown }).seq === "number";
const turnOver = (ev: ServerEvent) => ev.type === "turn_complete" || ev.type === "turn_error";

/** The `ws` WebSocket, remembering each socket it opens so a test can cut one. */
function recordingWebSocket(): { WS: WebSocketConstructor; sockets: WebSocket[] } {
  const sockets: WebSocket[] = [];
  class Recording extends WebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  return { WS: Recording, sockets };
}

/**
 * A `ws` WebSocket behind a faulty relay: each frame from the gateway goes
 * through relay, which may deliver it, hold it back, repeat it or drop it,
 * as a misbehaving proxy could.
 */
function relayed(relay: (data: unknown, deliver: (data: unknown) => void) => void): WebSocketConstructor {
  return class Relayed implements WebSocketLike {
    private readonly ws: WebSocket;
    onopen: ((ev: unknown) => void) | null = null;
    onmessage: ((ev: { data: unknown }) => void) | null = null;
    onclose: ((ev: unknown) => void) | null = null;
    onerror: ((ev: unknown) => void) | null = null;

    constructor(url: string) {
      this.ws = new WebSocket(url);
      this.ws.onopen = (ev) => this.onopen?.(ev);
      this.ws.onclose = (ev) => this.onclose?.(ev);
      this.ws.onerror = (ev) => this.onerror?.(ev);
      this.ws.onmessage = (ev) => relay(ev.data, (data) => this.onmessage?.({ data }));
    }
    get readyState(): number {
      return this.ws.readyState;
    }
    send(data: string): void {
      this.ws.send(data);
    }
    close(code?: number, reason?: string): void {
      this.ws.close(code, reason);
    }
  };
}

const seqOf = (data: unknown): number | undefined => {
  const seq = (JSON.parse(String(data)) as { seq?: unknown }).seq;
  return typeof seq === "number" ? seq : undefined;
};

describe("DiminuendoClient against a gateway", () => {
  let gw: Gateway;
  const clients: DiminuendoClient[] = [];
  const client = (extra: Partial<ConstructorParameters<typeof DiminuendoClient>[0]> = {}) => {
    const c = new DiminuendoClient({
      url: gw.wsUrl,
      WebSocket,
      minBackoffMs: 20,
      maxBackoffMs: 200,
      requestTimeoutMs: 10_000,
      ...extra,
    });
    clients.push(c);
    return c;
  };

  before(async () => {
    gw = await startGateway();
  });
  after(async () => {
    for (const c of clients) c.close();
    await gw?.stop();
  });

  it("connects in dev mode and runs an echo turn", async () => {
    const c = client();
    const states: ConnectionState[] = [];
    c.onState((s) => states.push(s));
    const identity = await within(c.connect(), "connect");
    assert.equal(identity.userId, "dev-user-001");
    assert.equal(c.state, "open");
    assert.deepEqual(states, ["connecting", "authenticating", "open"]);

    const session = await c.createSession({ agentType: "echo", name: "ts echo" });
    assert.equal(session.agentType, "echo");
    const snap = await c.join(session.id);
    assert.equal(snap.sessionId, session.id);
    assert.equal(snap.replayComplete, true);

    const events = c.events(session.id);
    const deltas: string[] = [];
    c.onType("text_delta", (ev) => deltas.push(ev.text)); // ev narrowed to TextDeltaEvent
    const clientTurnId = await c.runTurn(session.id, "hello from typescript");
    const got = await collectUntil(events, turnOver);
    await events.return?.();

    const seq = got.filter(isSequenced);
    const first = seq[0];
    assert.ok(first && first.type === "user_message");
    assert.equal(first.clientTurnId, clientTurnId);
    assert.equal(first.text, "hello from typescript");
    const done = seq.at(-1);
    assert.ok(done && done.type === "turn_complete");
    assert.equal(done.stopReason, "end_turn");
    assert.ok(done.finalText.length > 0);
    assert.equal(deltas.join(""), done.finalText);
    assert.deepEqual(
      seq.map((e) => e.seq),
      seq.map((_, i) => i + 1),
    );
  });

  it("streams a coding-agent turn's thinking, tool, terminal and usage events", async () => {
    const c = client();
    await within(c.connect(), "connect");
    const session = await c.createSession({ agentType: "coding-agent" });
    await c.join(session.id);
    const events = c.events(session.id);
    await c.runTurn(session.id, "write the notes");
    const got = await collectUntil(events, turnOver);
    await events.return?.();
    const types = new Set(got.map((e) => e.type));
    for (const t of [
      "user_message",
      "turn_started",
      "thinking.start",
      "thinking.progress",
      "thinking.complete",
      "tool_call_start",
      "tool_call",
      "tool_result",
      "terminal.stream",
      "terminal.complete",
      "text_delta",
      "turn_complete",
      "session_state",
    ]) {
      assert.ok(types.has(t as ServerEvent["type"]), `no ${t} in ${[...types].join(", ")}`);
    }
    const tool = got.find((e) => e.type === "tool_result");
    assert.ok(tool && tool.type === "tool_result" && !tool.isError);

    const files = await c.listFiles(session.id);
    assert.ok(files.entries.length > 0, "the tool wrote a file");
    const entry = files.entries.find((e) => e.type === "file");
    assert.ok(entry);
    const content = await c.readFile(session.id, entry.path);
    assert.equal(content.type, "file_content");
    assert.equal(content.path, entry.path);
  });

  it("resumes a cut socket mid-turn with every seq once, in order", async () => {
    const { WS, sockets } = recordingWebSocket();
    const c = client({ WebSocket: WS });
    const states: ConnectionState[] = [];
    c.onState((s) => states.push(s));
    await within(c.connect(), "connect");
    const session = await c.createSession({ agentType: "coding-agent" });
    await c.join(session.id);

    const seen: SessionEvent[] = [];
    let cut = false;
    c.on((ev) => {
      if (!isSequenced(ev) || ev.sessionId !== session.id) return;
      seen.push(ev);
      if (!cut && ev.seq === 3) {
        // The network goes away mid-turn: no close frame, the gateway keeps producing events.
        cut = true;
        sockets[0]?.terminate();
      }
    });
    const events = c.events(session.id);
    // The cut may come before the gateway's confirmation of run_turn (the pong behind it): then
    // runTurn cannot know and says CONNECTION_LOST, while the turn itself goes on.
    const started = c.runTurn(session.id, "survive a drop", "ct-drop").catch((e: unknown) => e);
    await collectUntil(events, turnOver);
    await events.return?.();
    const outcome = await started;
    assert.ok(
      outcome === "ct-drop" || (outcome instanceof DiminuendoError && outcome.code === "CONNECTION_LOST"),
      String(outcome),
    );
    const first = seen[0];
    assert.ok(first?.type === "user_message" && first.clientTurnId === "ct-drop");

    assert.ok(cut, "the socket was cut");
    assert.ok(sockets.length >= 2, "the client reconnected");
    assert.ok(states.includes("reconnecting"), `states: ${states.join(",")}`);
    assert.equal(c.state, "open");
    const seqs = seen.map((e) => e.seq);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
      "gapless, no duplicates",
    );

    // What was delivered is exactly the session's stored history.
    const page = await c.getEvents(session.id, 0);
    assert.equal(page.latestSeq, seqs.length);
    assert.deepEqual(
      page.events.map((e) => `${e.seq}:${e.type}`),
      seen.map((e) => `${e.seq}:${e.type}`),
    );
  });

  it("asks for batched frames and takes each line of a frame as one message", async () => {
    const sockets: WebSocket[] = [];
    const lines: number[] = [];
    class Batching extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        sockets.push(this);
        this.on("message", (data) => lines.push(String(data).split("\n").length));
      }
    }
    const c = client({ WebSocket: Batching });
    await within(c.connect(), "connect");
    assert.equal(sockets[0]?.protocol, BATCH_PROTOCOL, "the gateway accepted the batch subprotocol");
    const session = await c.createSession({ agentType: "coding-agent" });
    await c.join(session.id);
    const seen: SessionEvent[] = [];
    c.on((ev) => {
      if (isSequenced(ev)) seen.push(ev);
    });
    const events = c.events(session.id);
    await c.runTurn(session.id, "batch it");
    await collectUntil(events, turnOver);
    await events.return?.();
    const seqs = seen.map((e) => e.seq);
    assert.ok(seqs.length > 5);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
      "every event once, in order",
    );
    const messages = lines.reduce((a, b) => a + b, 0);
    assert.ok(messages >= seqs.length, `${messages} messages in ${lines.length} frames`);
  });

  it("delivers each sequenced event once when frames arrive twice", async () => {
    // Every frame twice, the second time after the next one: duplicates and stale redeliveries.
    let held: unknown;
    const repeating = relayed((data, deliver) => {
      deliver(data);
      if (held !== undefined) deliver(held);
      held = data;
    });
    const c = client({ WebSocket: repeating });
    await within(c.connect(), "connect");
    const session = await c.createSession({ agentType: "coding-agent" });
    await c.join(session.id);
    const seen: SessionEvent[] = [];
    c.on((ev) => {
      if (isSequenced(ev)) seen.push(ev);
    });
    const events = c.events(session.id);
    await c.runTurn(session.id, "say it once");
    await collectUntil(events, turnOver);
    await events.return?.();
    const seqs = seen.map((e) => e.seq);
    assert.ok(seqs.length > 5);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
    );
  });

  it("fills a gap in the seqs by re-joining from the last one delivered", async () => {
    // seq 4 is lost on the way: the client sees 5 follow 3.
    let dropped = 0;
    const lossy = relayed((data, deliver) => {
      if (seqOf(data) === 4 && dropped === 0) dropped += 1;
      else deliver(data);
    });
    const c = client({ WebSocket: lossy });
    await within(c.connect(), "connect");
    const session = await c.createSession({ agentType: "coding-agent" });
    await c.join(session.id);
    const seen: SessionEvent[] = [];
    const snapshots: number[] = [];
    c.on((ev) => {
      if (isSequenced(ev)) seen.push(ev);
      if (ev.type === "state_snapshot") snapshots.push(ev.latestSeq);
    });
    const events = c.events(session.id);
    await c.runTurn(session.id, "lose one");
    await collectUntil(events, turnOver);
    await events.return?.();
    assert.equal(dropped, 1);
    assert.equal(snapshots.length, 1, "one re-join");
    const seqs = seen.map((e) => e.seq);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
    );
  });

  it("matches replies by requestId and rejects refusals with a typed error", async () => {
    const c = client();
    await within(c.connect(), "connect");
    const pong = await c.request({ type: "ping", ts: 42, requestId: "my-ping" });
    assert.equal(pong.type, "pong");
    assert.ok(pong.type === "pong" && pong.ts === 42);
    assert.equal((pong as { requestId?: string }).requestId, "my-ping");

    // Several requests in flight each get their own reply.
    const [a, b] = await Promise.all([c.createSession({ agentType: "echo", name: "a" }), c.createSession({ agentType: "echo", name: "b" })]);
    assert.equal(a.name, "a");
    assert.equal(b.name, "b");

    const missing = "ses_does_not_exist_" + Math.random().toString(36).slice(2);
    await assert.rejects(c.join(missing), (e: unknown) => {
      assert.ok(e instanceof DiminuendoError);
      assert.equal(e.code, "SESSION_NOT_FOUND");
      assert.ok(e.requestId && e.requestId.length > 0);
      return true;
    });
    // A command with no reply on success still surfaces its refusal.
    await assert.rejects(c.runTurn(missing, "nobody home"), (e: unknown) => e instanceof DiminuendoError && e.code === "SESSION_NOT_FOUND");
    // And a refusal does not break the connection.
    assert.equal(c.state, "open");
    const sessions = await c.listSessions();
    assert.ok(sessions.some((s) => s.id === a.id));
  });

  it("lists the agent types the gateway offers", async () => {
    const c = client();
    await within(c.connect(), "connect");
    const types = await c.listAgentTypes();
    assert.deepEqual(
      types.map((t) => t.id),
      ["asking-agent", "coding-agent", "echo", "guarded-agent"],
    );
    assert.ok(types.every((t) => t.name.length > 0));
  });

  it("ends events() iterators and rejects requests once closed", async () => {
    const c = client();
    await within(c.connect(), "connect");
    const it = c.events();
    c.close();
    assert.equal(c.state, "closed");
    const r = await within(it.next(), "iterator end");
    assert.equal(r.done, true);
    await assert.rejects(c.listSessions(), (e: unknown) => e instanceof DiminuendoError && e.code === "CLOSED");
  });

  it("rejects connect() with CLOSED when closed while still connecting", async () => {
    const c = client();
    const connecting = c.connect();
    assert.equal(c.state, "connecting");
    c.close();
    await assert.rejects(within(connecting, "connect"), (e: unknown) => e instanceof DiminuendoError && e.code === "CLOSED");
    assert.equal(c.state, "closed");
    // The same client can connect again afterwards.
    const again = await within(c.connect(), "second connect");
    assert.equal(again.userId, "dev-user-001");
  });
});
