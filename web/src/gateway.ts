import { DiminuendoClient } from "@diminuendo/client";
import type { Auth } from "./auth";

// Session, member and file records as the gateway sends them (docs/protocol.md).
export interface SessionMeta {
  id: string;
  name: string;
  agentType: string;
  projectId?: string;
  state: string;
  archived: boolean;
  createdBy?: string;
  createdAt?: number;
  updatedAt?: number;
  epoch?: string;
  latestSeq?: number;
}
export interface AgentType {
  id: string;
  name: string;
  description?: string;
}
export interface Member {
  userId: string;
  email: string;
  role: string;
  addedAt?: string;
}
export interface FileEntry {
  path: string;
  name: string;
  type: "file" | "dir";
  size: number;
  iteration: number;
}
export interface FileContent {
  path: string;
  content: string;
  encoding: "utf-8" | "base64";
  size: number;
  iteration: number;
}
export interface FileIteration {
  iteration: number;
  timestamp: number;
  size: number;
  hash: string;
}

// Every frame the app reads: a type, and for sequenced events a seq.
// The app reads frames field by field, so it keeps one loose view of them.
export interface Frame {
  type: string;
  sessionId?: string;
  seq?: number;
  turnId?: string;
  [field: string]: unknown;
}

export type Client = DiminuendoClient;

// The sockets the client opened, newest last, so the browser tests can cut
// the connection the way a network drop would.
const sockets: WebSocket[] = [];
class TrackedWebSocket extends WebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols);
    sockets.push(this);
  }
}

export function createClient(auth: Auth): Client {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const client = new DiminuendoClient({
    url: `${scheme}//${location.host}/ws`,
    getToken: () => auth.getToken(),
    WebSocket: TrackedWebSocket,
    minBackoffMs: 200,
    maxBackoffMs: 5000,
  });
  // The test hook: the client, and a way to drop its live socket.
  (window as unknown as { __diminuendo: unknown }).__diminuendo = {
    client,
    dropSocket() {
      const ws = sockets.filter((s) => s.readyState === WebSocket.OPEN).pop();
      ws?.close();
      return ws !== undefined;
    },
  };
  return client;
}

// The client's helpers answer with the reply frame; these read the part the
// app needs from it (and accept the bare value too).
function field<T>(reply: unknown, name: string): T {
  if (reply && typeof reply === "object" && !Array.isArray(reply) && name in reply) {
    return (reply as Record<string, unknown>)[name] as T;
  }
  return reply as T;
}

export const sessionsOf = (r: unknown) => field<SessionMeta[]>(r, "sessions") ?? [];
export const sessionOf = (r: unknown) => field<SessionMeta>(r, "session");
export const agentTypesOf = (r: unknown) => field<AgentType[]>(r, "agentTypes") ?? [];
export const membersOf = (r: unknown) => field<Member[]>(r, "members") ?? [];
export const entriesOf = (r: unknown) => field<FileEntry[]>(r, "entries") ?? [];
export const iterationsOf = (r: unknown) => field<FileIteration[]>(r, "iterations") ?? [];

export function textOf(f: FileContent): string {
  if (f.encoding !== "base64") return f.content;
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(f.content), (c) => c.charCodeAt(0)));
  } catch {
    return "";
  }
}

export function errorText(err: unknown): string {
  if (err && typeof err === "object") {
    const e = err as { code?: string; message?: string };
    return e.code ? `${e.code}: ${e.message ?? ""}` : (e.message ?? String(err));
  }
  return String(err);
}
