import { backoffDelay } from "./backoff.js";
import { DiminuendoError } from "./errors.js";
import type {
  AgentType,
  ClientMessage,
  ErrorEvent,
  EventsReply,
  FileContentReply,
  FileHistoryReply,
  FileListReply,
  HistoryReply,
  Identity,
  JoinSessionMessage,
  Member,
  Role,
  ServerEvent,
  SessionEvent,
  SessionMeta,
  StateSnapshot,
  SteerAcceptedReply,
} from "./frames.js";
import { EventStream } from "./stream.js";

/** The frame of `ServerEvent` whose `type` is T. */
export type EventOf<T extends ServerEvent["type"]> = Extract<ServerEvent, { type: T }>;

export type ConnectionState = "idle" | "connecting" | "authenticating" | "open" | "reconnecting" | "closed";

/**
 * The part of the WebSocket API the client uses: the browser's WebSocket and
 * the `ws` package's both fit. Handler parameters are `any` so that either
 * implementation's own event types are accepted.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: any) => void) | null;
  onclose: ((ev: any) => void) | null;
  onerror: ((ev: any) => void) | null;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/**
 * The subprotocol the client asks for: the gateway may then put several
 * messages into one frame, joined by "\n" (docs/protocol.md, "Batched frames").
 */
export const BATCH_PROTOCOL = "diminuendo.v1.batch";

/**
 * The subprotocol that carries a token on the upgrade, `diminuendo.v1.bearer.<jwt>`
 * (docs/protocol.md, "Subprotocol"): the gateway verifies it before the upgrade,
 * which saves the `authenticate` message's round trip.
 */
export const TOKEN_PROTOCOL_PREFIX = "diminuendo.v1.bearer.";

export interface DiminuendoClientOptions {
  /** The gateway's WebSocket endpoint, `ws(s)://host/ws`. */
  url: string;
  /**
   * Called for a token before every connection and on `auth_expiring`. Return
   * undefined where the gateway authenticates by itself (dev mode).
   */
  getToken?: () => string | undefined | Promise<string | undefined>;
  /**
   * How a connection presents its token. "protocol" (the default): as the
   * subprotocol `diminuendo.v1.bearer.<jwt>` on the upgrade, one round trip
   * fewer; a socket refused before it opens (a bad token: browsers do not say
   * why) is retried at once with the token in a message, whose answer does.
   * "message": always as the first message (`authenticate`). A token refreshed
   * on a live socket always goes as a message.
   */
  tokenIn?: "protocol" | "message";
  /** The WebSocket implementation; defaults to `globalThis.WebSocket` (browsers, Node 22+). */
  WebSocket?: WebSocketConstructor;
  /** First reconnect delay, doubled per failed attempt up to maxBackoffMs (jittered). Default 250. */
  minBackoffMs?: number;
  /** Default 10 000. */
  maxBackoffMs?: number;
  /** How long a request waits for its reply, and for the connection to be open. Default 30 000. */
  requestTimeoutMs?: number;
}

type Listener = (ev: ServerEvent) => void;

interface Pending {
  resolve(f: ServerEvent): void;
  reject(e: DiminuendoError): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Where the client is in one joined session's event stream. */
interface Cursor {
  /** The highest seq delivered; undefined until the first snapshot says where the stream is. */
  lastSeq: number | undefined;
  epoch: string | undefined;
  resyncing: boolean;
}

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: DiminuendoError): void;
}

const OPEN = 1;
/** The gateway sends a heartbeat this often unless `connected` says otherwise. */
const DEFAULT_HEARTBEAT_MS = 30_000;
/** How long past a missed heartbeat a silent socket counts as dead. */
const HEARTBEAT_GRACE_MS = 5_000;
/** Codes after which reconnecting cannot help. */
const FINAL_CLOSE_CODES = new Set([1008]);
/** Authentication failures worth another attempt (with a fresh token) after a backoff. */
const RETRYABLE_AUTH = new Set(["AUTH_RATE_LIMITED", "UPSTREAM_UNAVAILABLE", "CAPACITY_EXCEEDED", "TIMEOUT", "CONNECTION_LOST"]);

function isSequenced(f: ServerEvent): f is SessionEvent {
  const o = f as { seq?: unknown; sessionId?: unknown };
  return typeof o.seq === "number" && typeof o.sessionId === "string";
}

function errorOf(f: ErrorEvent): DiminuendoError {
  return new DiminuendoError(f.code, f.message, {
    requestId: f.requestId,
    retryAfterMs: f.retryAfterMs,
    sessionId: f.sessionId,
  });
}

/**
 * A WebSocket connection to the gateway that authenticates with a token
 * callback, keeps itself connected (jittered exponential backoff), resumes
 * every joined session where it left off (`afterSeq` + `epoch`), drops
 * sequenced events it already delivered, and matches replies to requests by
 * `requestId`.
 */
export class DiminuendoClient {
  private readonly url: string;
  private readonly getToken: DiminuendoClientOptions["getToken"];
  private readonly WS: WebSocketConstructor;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly requestTimeoutMs: number;
  private readonly tokenInProtocol: boolean;

  private current: ConnectionState = "idle";
  /** The token fetched for the current socket, and whether the upgrade carried it. */
  private handshakeToken: string | undefined;
  private tokenOnUpgrade = false;
  /** Counts openSocket calls and close(), so a token that arrives late opens nothing. */
  private dialGen = 0;
  private who: Identity | undefined;
  private ws: WebSocketLike | undefined;
  private wanted = false;
  private everOpened = false;
  private attempt = 0;
  private heartbeatMs = DEFAULT_HEARTBEAT_MS;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: ReturnType<typeof setTimeout> | undefined;

  private readonly listeners = new Set<Listener>();
  private readonly stateListeners = new Set<(s: ConnectionState) => void>();
  private readonly streams = new Set<EventStream<ServerEvent>>();
  private readonly pending = new Map<string, Pending>();
  private readonly cursors = new Map<string, Cursor>();
  private connectWaiters: Waiter<Identity>[] = [];
  private openWaiters: Waiter<void>[] = [];
  private readonly idPrefix = Math.random().toString(36).slice(2, 8);
  private nextId = 0;

  constructor(opts: DiminuendoClientOptions) {
    this.url = opts.url;
    this.getToken = opts.getToken;
    const WS = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) {
      throw new Error("no WebSocket implementation: pass one as options.WebSocket (in Node 20, the `ws` package's)");
    }
    this.WS = WS;
    this.minBackoffMs = opts.minBackoffMs ?? 250;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.tokenInProtocol = opts.tokenIn !== "message";
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** Who the gateway says we are; set once authenticated. */
  get identity(): Identity | undefined {
    return this.who;
  }

  /**
   * Opens the connection and resolves once it is authenticated. A first
   * connection that fails rejects (and the client is `closed`); once open,
   * drops are repaired by reconnecting.
   */
  connect(): Promise<Identity> {
    if (this.current === "open" && this.who) return Promise.resolve(this.who);
    const p = new Promise<Identity>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
    if (this.current === "idle" || this.current === "closed") {
      this.wanted = true;
      this.everOpened = false;
      this.attempt = 0;
      this.openSocket();
    }
    return p;
  }

  /** Closes the connection for good: pending requests fail with CLOSED and every `events()` iterator ends. */
  close(): void {
    this.wanted = false;
    this.dialGen += 1;
    this.cursors.clear();
    const ws = this.ws;
    this.detach();
    if (ws) {
      try {
        ws.close(1000, "client closed");
      } catch {
        // already closing
      }
    }
    this.finish(new DiminuendoError("CLOSED", "the client was closed"));
  }

  /** Every frame, in order; sequenced events already delivered are dropped. Returns an unsubscribe function. */
  on(cb: Listener): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Frames of one type, typed as that frame. */
  onType<T extends ServerEvent["type"]>(type: T, cb: (ev: EventOf<T>) => void): () => void {
    return this.on((ev) => {
      if (ev.type === type) cb(ev as EventOf<T>);
    });
  }

  onState(cb: (s: ConnectionState) => void): () => void {
    this.stateListeners.add(cb);
    return () => this.stateListeners.delete(cb);
  }

  /**
   * The frames from now on (those naming `sessionId` only, when given) as an
   * async iterator; it ends when the client is closed, and `break` unsubscribes.
   */
  events(sessionId?: string): AsyncIterableIterator<ServerEvent> {
    let off: () => void = () => undefined;
    const stream: EventStream<ServerEvent> = new EventStream<ServerEvent>(() => {
      off();
      this.streams.delete(stream);
    });
    off = this.on((ev) => {
      if (sessionId === undefined || (ev as { sessionId?: unknown }).sessionId === sessionId) stream.push(ev);
    });
    this.streams.add(stream);
    if (this.current === "closed") stream.end();
    return stream;
  }

  /**
   * Sends a message with a fresh requestId (unless it has one) once the
   * connection is open, and resolves with the frame answering it. An `error`
   * answer rejects with a DiminuendoError carrying its code.
   */
  async request(msg: ClientMessage): Promise<ServerEvent> {
    await this.whenOpen();
    return this.send(msg);
  }

  // ---- sessions ----

  async listSessions(includeArchived?: boolean): Promise<SessionMeta[]> {
    const msg: ClientMessage = { type: "list_sessions" };
    if (includeArchived !== undefined) msg.includeArchived = includeArchived;
    return (await this.call(msg, "session_list")).sessions;
  }

  async createSession(opts: { agentType: string; name?: string; projectId?: string }): Promise<SessionMeta> {
    return (await this.call({ type: "create_session", ...opts }, "session_created")).session;
  }

  async renameSession(sessionId: string, name: string): Promise<SessionMeta> {
    return (await this.call({ type: "rename_session", sessionId, name }, "session_updated")).session;
  }

  async archiveSession(sessionId: string): Promise<SessionMeta> {
    return (await this.call({ type: "archive_session", sessionId }, "session_updated")).session;
  }

  async unarchiveSession(sessionId: string): Promise<SessionMeta> {
    return (await this.call({ type: "unarchive_session", sessionId }, "session_updated")).session;
  }

  async deleteSession(sessionId: string): Promise<void> {
    await this.call({ type: "delete_session", sessionId }, "session_deleted");
  }

  /**
   * Joins a session: its snapshot, then its events. A session joined before
   * on this client resumes after the last seq delivered; after a reconnect
   * the client re-joins by itself. A snapshot with `replayComplete: false`
   * means nothing was replayed: rebuild from `getEvents` / `getHistory`.
   */
  async join(sessionId: string): Promise<StateSnapshot> {
    const msg: JoinSessionMessage = { type: "join_session", sessionId };
    const c = this.cursors.get(sessionId);
    if (c?.lastSeq !== undefined) {
      msg.afterSeq = c.lastSeq;
      if (c.epoch !== undefined) msg.epoch = c.epoch;
    }
    return this.call(msg, "state_snapshot");
  }

  async leave(sessionId: string): Promise<void> {
    await this.call({ type: "leave_session", sessionId }, "session_left");
  }

  // ---- turns ----

  /**
   * Starts a turn and resolves with its clientTurnId (generated when not
   * given), which the turn's `user_message` echoes. Join the session first
   * to see the turn's events.
   */
  async runTurn(sessionId: string, text: string, clientTurnId?: string): Promise<string> {
    const id = clientTurnId ?? this.newId("turn");
    await this.command({ type: "run_turn", sessionId, text, clientTurnId: id });
    return id;
  }

  async stopTurn(sessionId: string): Promise<void> {
    await this.command({ type: "stop_turn", sessionId });
  }

  async steer(sessionId: string, text: string): Promise<SteerAcceptedReply> {
    return this.call({ type: "steer", sessionId, text }, "steer_accepted");
  }

  /** Answers a `permission_requested` (approved) or `question_requested` (answers) prompt, or dismisses it. */
  async answer(
    sessionId: string,
    promptId: string,
    reply: { approved?: boolean; answers?: Record<string, unknown>; dismissed?: boolean },
  ): Promise<void> {
    await this.command({ type: "answer_question", sessionId, promptId, ...reply });
  }

  // ---- history and files ----

  async getHistory(sessionId: string, opts: { beforeTurnId?: string; limit?: number } = {}): Promise<HistoryReply> {
    return this.call({ type: "get_history", sessionId, ...opts }, "history");
  }

  async getEvents(sessionId: string, afterSeq: number, limit?: number): Promise<EventsReply> {
    const msg: ClientMessage = { type: "get_events", sessionId, afterSeq };
    if (limit !== undefined) msg.limit = limit;
    return this.call(msg, "events");
  }

  async listFiles(sessionId: string, path?: string, depth?: number): Promise<FileListReply> {
    const msg: ClientMessage = { type: "list_files", sessionId };
    if (path !== undefined) msg.path = path;
    if (depth !== undefined) msg.depth = depth;
    return this.call(msg, "file_list");
  }

  async readFile(sessionId: string, path: string): Promise<FileContentReply> {
    return this.call({ type: "read_file", sessionId, path }, "file_content");
  }

  async fileHistory(sessionId: string, path: string): Promise<FileHistoryReply> {
    return this.call({ type: "file_history", sessionId, path }, "file_history");
  }

  async fileAtIteration(sessionId: string, path: string, iteration: number): Promise<FileContentReply> {
    return this.call({ type: "file_at_iteration", sessionId, path, iteration }, "file_content");
  }

  // ---- tenant ----

  /** Lists the tenant's members, after applying the change `action` names (`list` changes nothing). */
  async manageMembers(opts: {
    action: "list" | "add" | "update" | "remove";
    userId?: string;
    email?: string;
    role?: Role;
  }): Promise<Member[]> {
    return (await this.call({ type: "manage_members", ...opts }, "member_list")).members;
  }

  async listAgentTypes(): Promise<AgentType[]> {
    return (await this.call({ type: "list_agent_types" }, "agent_types")).agentTypes;
  }

  // ---- internals: requests ----

  private newId(kind = "r"): string {
    this.nextId += 1;
    return `${kind}-${this.idPrefix}-${this.nextId}`;
  }

  /** A request whose reply must be of type `expect`. */
  private async call<T extends ServerEvent["type"]>(msg: ClientMessage, expect: T): Promise<EventOf<T>> {
    const reply = await this.request(msg);
    if (reply.type !== expect) {
      throw new DiminuendoError("INTERNAL", `expected ${expect} in reply to ${msg.type}, got ${reply.type}`, {
        requestId: (reply as { requestId?: string }).requestId,
      });
    }
    return reply as EventOf<T>;
  }

  /**
   * Sends a message the gateway answers only when it fails (run_turn,
   * stop_turn, answer_question), followed by a ping. A connection's messages
   * are handled one at a time and in order, so the pong arrives after any
   * error the message caused: a pong first means it was accepted.
   */
  private async command(msg: ClientMessage): Promise<void> {
    await this.whenOpen();
    const requestId = msg.requestId ?? this.newId();
    const refused = this.send({ ...msg, requestId });
    refused.catch(() => undefined);
    try {
      await Promise.race([refused, this.send({ type: "ping" })]);
    } finally {
      this.forget(requestId);
    }
  }

  private forget(requestId: string): void {
    const p = this.pending.get(requestId);
    if (p) {
      clearTimeout(p.timer);
      this.pending.delete(requestId);
    }
  }

  /** Sends on the current socket now, open or not; resolves with the reply. */
  private send(msg: ClientMessage): Promise<ServerEvent> {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) {
      return Promise.reject(new DiminuendoError("CONNECTION_LOST", `not connected; ${msg.type} was not sent`));
    }
    const frame = { ...msg, requestId: msg.requestId ?? this.newId() };
    if (frame.type === "join_session") this.trackJoin(frame);
    if (frame.type === "leave_session") this.cursors.delete(frame.sessionId);
    return new Promise<ServerEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(frame.requestId);
        reject(
          new DiminuendoError("TIMEOUT", `no reply to ${frame.type} within ${this.requestTimeoutMs} ms`, {
            requestId: frame.requestId,
          }),
        );
      }, this.requestTimeoutMs);
      this.pending.set(frame.requestId, { resolve, reject, timer });
      try {
        ws.send(JSON.stringify(frame));
      } catch (e) {
        this.forget(frame.requestId);
        reject(new DiminuendoError("CONNECTION_LOST", `sending ${frame.type} failed: ${String(e)}`));
      }
    });
  }

  /** Resolves when the connection is open; waits through (re)connecting up to the request timeout. */
  private whenOpen(): Promise<void> {
    if (this.current === "open") return Promise.resolve();
    if (this.current === "idle") return Promise.reject(new DiminuendoError("CLOSED", "not connected: call connect() first"));
    if (this.current === "closed") return Promise.reject(new DiminuendoError("CLOSED", "the client is closed"));
    return new Promise<void>((resolve, reject) => {
      const w: Waiter<void> = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.openWaiters = this.openWaiters.filter((x) => x !== w);
        reject(new DiminuendoError("TIMEOUT", `not connected within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.openWaiters.push(w);
    });
  }

  private failPending(err: DiminuendoError): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new DiminuendoError(err.code, err.message, { requestId: id }));
    }
    this.pending.clear();
  }

  // ---- internals: sessions and seqs ----

  /** A join sets the cursor the replay starts from; later events are delivered once each from there. */
  private trackJoin(msg: JoinSessionMessage): void {
    const c = this.cursors.get(msg.sessionId) ?? { lastSeq: undefined, epoch: undefined, resyncing: false };
    if (msg.afterSeq !== undefined) {
      c.lastSeq = msg.afterSeq;
      c.epoch = msg.epoch;
    } else {
      c.lastSeq = undefined;
    }
    this.cursors.set(msg.sessionId, c);
  }

  private onSnapshot(f: StateSnapshot): void {
    const c = this.cursors.get(f.sessionId);
    if (!c) return;
    if (c.lastSeq === undefined || c.epoch !== f.epoch) {
      // A fresh join, or another stream: live events follow latestSeq.
      c.lastSeq = f.latestSeq;
    } else if (!f.replayComplete) {
      // Nothing is replayed; live events follow latestSeq (the app fills the gap with get_events).
      c.lastSeq = Math.max(c.lastSeq, f.latestSeq);
    }
    // Otherwise the replay from lastSeq follows.
    c.epoch = f.epoch;
  }

  /** Whether a sequenced event is new; a jump past the next seq re-joins from the last one delivered. */
  private accept(ev: SessionEvent): boolean {
    const c = this.cursors.get(ev.sessionId);
    if (!c || c.lastSeq === undefined) return true;
    if (ev.seq <= c.lastSeq) return false;
    if (ev.seq > c.lastSeq + 1) {
      if (!c.resyncing) {
        c.resyncing = true;
        const msg: JoinSessionMessage = { type: "join_session", sessionId: ev.sessionId, afterSeq: c.lastSeq };
        if (c.epoch !== undefined) msg.epoch = c.epoch;
        this.send(msg)
          .catch(() => undefined)
          .finally(() => {
            c.resyncing = false;
          });
      }
      return false;
    }
    c.lastSeq = ev.seq;
    return true;
  }

  // ---- internals: the socket ----

  private setState(s: ConnectionState): void {
    if (this.current === s) return;
    this.current = s;
    for (const cb of [...this.stateListeners]) {
      try {
        cb(s);
      } catch (e) {
        console.error("diminuendo: state listener threw", e);
      }
    }
  }

  /**
   * Fetches a token, then opens a socket with it. viaMessage: the token goes
   * in a message even where it would go on the upgrade (the retry of a
   * socket refused before it opened).
   */
  private openSocket(viaMessage = false): void {
    this.reconnectTimer = undefined;
    this.setState(this.everOpened ? "reconnecting" : "connecting");
    const gen = ++this.dialGen;
    const getToken = this.getToken;
    if (!getToken) {
      this.dial(undefined, false);
      return;
    }
    Promise.resolve()
      .then(() => getToken())
      .then(
        (token) => {
          if (gen === this.dialGen && this.wanted) this.dial(token, !viaMessage && this.tokenInProtocol && !!token);
        },
        (e: unknown) => {
          if (gen === this.dialGen && this.wanted) this.lost(new DiminuendoError("AUTH_FAILED", `getToken failed: ${String(e)}`), true);
        },
      );
  }

  private dial(token: string | undefined, onUpgrade: boolean): void {
    let ws: WebSocketLike;
    try {
      ws = new this.WS(this.url, onUpgrade ? [BATCH_PROTOCOL, TOKEN_PROTOCOL_PREFIX + token] : BATCH_PROTOCOL);
    } catch (e) {
      this.lost(new DiminuendoError("CONNECTION_LOST", `cannot open ${this.url}: ${String(e)}`), true);
      return;
    }
    this.handshakeToken = token;
    this.tokenOnUpgrade = onUpgrade;
    let opened = false;
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      opened = true;
      if (!this.everOpened) this.setState("authenticating");
      this.armWatchdog();
    };
    ws.onmessage = (ev: { data: unknown }) => {
      if (this.ws !== ws) return;
      this.armWatchdog();
      // A batched frame holds messages joined by "\n"; JSON never holds a raw
      // newline, so splitting an unbatched frame leaves it whole.
      if (typeof ev.data === "string") for (const line of ev.data.split("\n")) this.onText(line);
    };
    ws.onclose = (ev: { code?: number; reason?: string }) => {
      if (this.ws !== ws) return;
      this.detach();
      if (onUpgrade && !opened && this.wanted) {
        // Refused before opening: the token in a message gets an answer that says why.
        this.openSocket(true);
        return;
      }
      const code = ev.code ?? 1006;
      const err = new DiminuendoError("CONNECTION_LOST", `connection closed (${code}${ev.reason ? ` ${ev.reason}` : ""})`);
      this.lost(err, !FINAL_CLOSE_CODES.has(code), code);
    };
    ws.onerror = () => {
      // onclose follows and decides
    };
  }

  /** Forgets the current socket so that nothing it still delivers counts. */
  private detach(): void {
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.onopen = null;
      ws.onmessage = null;
      ws.onclose = null;
      // A no-op rather than null: the `ws` package throws an error event nobody listens to.
      ws.onerror = () => undefined;
    }
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  /** Drops the current socket (dead, or refused) and goes on as if it had closed. */
  private abandon(err: DiminuendoError, retry: boolean, minDelayMs = 0): void {
    const ws = this.ws;
    if (!ws) return;
    this.detach();
    try {
      // A dead peer never answers a close handshake: where the implementation
      // can (the `ws` package), drop the socket at once.
      const terminate = (ws as { terminate?: () => void }).terminate;
      if (typeof terminate === "function") terminate.call(ws);
      else ws.close(4000, "abandoned");
    } catch {
      // already gone
    }
    this.lost(err, retry, undefined, minDelayMs);
  }

  private armWatchdog(): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      this.abandon(new DiminuendoError("CONNECTION_LOST", "no frame from the gateway within the heartbeat interval"), true);
    }, this.heartbeatMs + HEARTBEAT_GRACE_MS);
  }

  /** The socket is gone: fail what waited on it, then reconnect or stop. */
  private lost(err: DiminuendoError, retry: boolean, code?: number, minDelayMs = 0): void {
    this.failPending(err);
    if (!this.wanted) {
      this.finish(err);
      return;
    }
    if (!this.everOpened || !retry) {
      this.wanted = false;
      this.finish(err);
      return;
    }
    let delay: number;
    if (code === 1012 || code === 1001) {
      // The instance is going away: another one can take us at once.
      delay = backoffDelay(0, this.minBackoffMs, this.maxBackoffMs);
    } else if (code === 1013) {
      // The instance is full: back off from at least a second.
      delay = backoffDelay(this.attempt, Math.max(1000, this.minBackoffMs), Math.max(1000, this.maxBackoffMs));
    } else {
      delay = backoffDelay(this.attempt, this.minBackoffMs, this.maxBackoffMs);
    }
    this.attempt += 1;
    this.setState("reconnecting");
    this.reconnectTimer = setTimeout(() => this.openSocket(), Math.max(delay, minDelayMs));
  }

  /** Closed for good: every waiter and iterator learns of it. */
  private finish(err: DiminuendoError): void {
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.failPending(err);
    for (const w of this.connectWaiters.splice(0)) w.reject(err);
    for (const w of this.openWaiters.splice(0)) w.reject(err);
    this.setState("closed");
    for (const s of [...this.streams]) s.end();
    this.streams.clear();
  }

  private onText(text: string): void {
    let f: ServerEvent;
    try {
      f = JSON.parse(text) as ServerEvent;
    } catch {
      return;
    }
    if (f === null || typeof f !== "object" || typeof (f as { type?: unknown }).type !== "string") return;

    switch (f.type) {
      case "welcome":
        void this.authenticate(f.requiresAuth);
        break;
      case "connected":
        if (f.heartbeatIntervalMs > 0) this.heartbeatMs = f.heartbeatIntervalMs;
        this.armWatchdog();
        break;
      case "authenticated":
        if (this.current === "open") this.who = f.identity;
        else this.onAuthenticated(f.identity);
        break;
      case "auth_expiring":
        void this.refreshToken();
        break;
      case "state_snapshot":
        this.onSnapshot(f);
        break;
      case "session_deleted":
        this.cursors.delete(f.sessionId);
        break;
      default:
        if (isSequenced(f) && !this.accept(f)) return;
    }

    for (const cb of [...this.listeners]) {
      try {
        cb(f);
      } catch (e) {
        console.error("diminuendo: event listener threw", e);
      }
    }

    const requestId = (f as { requestId?: unknown }).requestId;
    if (typeof requestId === "string") {
      const p = this.pending.get(requestId);
      if (p) {
        this.forget(requestId);
        if (f.type === "error") p.reject(errorOf(f));
        else p.resolve(f);
      }
    }
  }

  /** The handshake: the token as the first message when the gateway requires one and the upgrade did not carry it. */
  private async authenticate(requiresAuth: boolean): Promise<void> {
    if (!requiresAuth || this.tokenOnUpgrade) return; // `authenticated` follows unprompted
    const ws = this.ws;
    const token = this.handshakeToken;
    if (!token) {
      this.abandon(new DiminuendoError("AUTH_REQUIRED", "the gateway requires a token and getToken gave none"), true);
      return;
    }
    try {
      await this.send({ type: "authenticate", token });
    } catch (e) {
      if (this.ws !== ws || this.current === "open") return;
      const err = e instanceof DiminuendoError ? e : new DiminuendoError("AUTH_FAILED", String(e));
      this.abandon(err, RETRYABLE_AUTH.has(err.code), err.retryAfterMs ?? 0);
    }
  }

  private onAuthenticated(identity: Identity): void {
    this.who = identity;
    this.attempt = 0;
    this.everOpened = true;
    // Re-join first, so that requests queued during the outage go out after
    // the joins and see the sessions attached.
    for (const sessionId of this.cursors.keys()) this.rejoin(sessionId, 0);
    this.setState("open");
    for (const w of this.connectWaiters.splice(0)) w.resolve(identity);
    for (const w of this.openWaiters.splice(0)) w.resolve();
  }

  /**
   * Joins a session again from its cursor. A refusal that may pass (the
   * agent is coming back, the instance is busy) is retried with backoff on
   * the same socket; a session that is gone is forgotten.
   */
  private rejoin(sessionId: string, attempt: number): void {
    const c = this.cursors.get(sessionId);
    const ws = this.ws;
    if (!c || !ws) return;
    const msg: JoinSessionMessage = { type: "join_session", sessionId };
    if (c.lastSeq !== undefined) {
      msg.afterSeq = c.lastSeq;
      if (c.epoch !== undefined) msg.epoch = c.epoch;
    }
    this.send(msg).catch((e: unknown) => {
      const code = e instanceof DiminuendoError ? e.code : "INTERNAL";
      if (code === "SESSION_NOT_FOUND" || code === "FORBIDDEN") {
        this.cursors.delete(sessionId);
        return;
      }
      if (code === "CONNECTION_LOST" || code === "CLOSED" || this.ws !== ws) return; // the next connection re-joins
      const retryAfter = e instanceof DiminuendoError ? (e.retryAfterMs ?? 0) : 0;
      const delay = Math.max(retryAfter, backoffDelay(attempt, this.minBackoffMs, this.maxBackoffMs));
      setTimeout(() => {
        if (this.ws === ws) this.rejoin(sessionId, attempt + 1);
      }, delay);
    });
  }

  /** On `auth_expiring`: a fresh token on the same socket, so nothing is interrupted. */
  private async refreshToken(): Promise<void> {
    try {
      const token = await this.getToken?.();
      if (token) await this.send({ type: "authenticate", token });
    } catch {
      // The error frame already reached the listeners. At expiry the gateway
      // closes with 4001 and the reconnect asks getToken again.
    }
  }
}
