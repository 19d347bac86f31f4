import { DiminuendoClient } from "@diminuendo/client";
import type { FileContentReply } from "@diminuendo/client";
import type { Auth } from "./auth";

export type {
  AgentType,
  FileContentReply as FileContent,
  FileEntry,
  FileIteration,
  Member,
  SessionMeta,
} from "@diminuendo/client";

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

export function textOf(f: FileContentReply): string {
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
