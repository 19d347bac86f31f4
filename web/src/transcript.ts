import type { Frame } from "./gateway";

// A session's transcript, built from its sequenced events. Each event is
// applied once: apply() ignores a seq at or below the last applied one, so
// a replay after a resume or a page of get_events that overlaps live
// events cannot render anything twice.

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export type Item =
  | { kind: "text"; key: number; text: string }
  | { kind: "thinking"; key: number; text: string; done: boolean }
  | {
      kind: "tool";
      key: number;
      toolCallId: string;
      toolName: string;
      inputText: string;
      input?: unknown;
      status: "running" | "called" | "done" | "error";
      output?: string;
    }
  | { kind: "terminal"; key: number; data: string; exitCode?: number }
  | {
      kind: "prompt";
      key: number;
      promptId: string;
      prompt: "permission" | "question";
      toolName?: string;
      description?: string;
      questions?: unknown;
      resolved?: { approved?: boolean; answers?: unknown; dismissed?: boolean };
    }
  | { kind: "steer"; key: number; text: string }
  | { kind: "other"; key: number; type: string; detail: unknown };

export interface Turn {
  key: string; // turnId, or the seq that opened it
  turnId?: string;
  userText?: string;
  items: Item[];
  status: "running" | "complete" | "cancelled" | "error";
  stopReason?: string;
  finalText?: string;
  usage?: Usage;
  error?: { code: string; message: string };
}

export interface Transcript {
  lastSeq: number;
  seqs: number[]; // every applied seq, in order
  turns: Turn[];
  usage?: Usage;
}

export const emptyTranscript = (): Transcript => ({ lastSeq: 0, seqs: [], turns: [] });

const str = (v: unknown) => (typeof v === "string" ? v : v === undefined || v === null ? "" : String(v));
const num = (v: unknown) => (typeof v === "number" ? v : Number(v ?? 0));

// applyAll returns a new transcript with evs applied in seq order.
export function applyAll(t: Transcript, evs: Frame[]): Transcript {
  const fresh = evs
    .filter((e) => typeof e.seq === "number" && e.seq > t.lastSeq)
    .sort((a, b) => (a.seq as number) - (b.seq as number));
  if (fresh.length === 0) return t;
  // Copy on write: only the turns an event touches are new objects, so the
  // views of the others need not render again.
  const next: Transcript = { ...t, seqs: [...t.seqs], turns: [...t.turns] };
  const copied = new Set<Turn>();
  for (const e of fresh) {
    if ((e.seq as number) <= next.lastSeq) continue; // a duplicate within the batch
    step(next, e, copied);
    next.lastSeq = e.seq as number;
    next.seqs.push(e.seq as number);
  }
  return next;
}

// writable returns turn i of t as a copy this batch may change.
function writable(t: Transcript, i: number, copied: Set<Turn>): Turn {
  let turn = t.turns[i];
  if (!copied.has(turn)) {
    turn = { ...turn, items: [...turn.items] };
    t.turns[i] = turn;
    copied.add(turn);
  }
  return turn;
}

function turnFor(t: Transcript, e: Frame, copied: Set<Turn>): Turn {
  const id = e.turnId;
  if (id) {
    for (let i = t.turns.length - 1; i >= 0; i--) if (t.turns[i].turnId === id) return writable(t, i, copied);
  } else if (t.turns.length > 0) {
    return writable(t, t.turns.length - 1, copied);
  }
  const turn: Turn = { key: id ?? `seq-${e.seq}`, turnId: id, items: [], status: "running" };
  t.turns.push(turn);
  copied.add(turn);
  return turn;
}

function last<K extends Item["kind"]>(turn: Turn, kind: K): Extract<Item, { kind: K }> | undefined {
  const it = turn.items[turn.items.length - 1];
  return it && it.kind === kind ? (it as Extract<Item, { kind: K }>) : undefined;
}

function replaceItem(turn: Turn, item: Item) {
  const i = turn.items.findIndex((x) => x.key === item.key);
  if (i >= 0) turn.items[i] = item;
}

function step(t: Transcript, e: Frame, copied: Set<Turn>) {
  const seq = e.seq as number;
  switch (e.type) {
    case "user_message": {
      const turn = turnFor(t, e, copied);
      turn.userText = str(e.text);
      return;
    }
    case "turn_started":
      turnFor(t, e, copied).status = "running";
      return;
    case "text_delta": {
      const turn = turnFor(t, e, copied);
      const prev = last(turn, "text");
      if (prev) replaceItem(turn, { ...prev, text: prev.text + str(e.text) });
      else turn.items.push({ kind: "text", key: seq, text: str(e.text) });
      return;
    }
    case "thinking.start":
      turnFor(t, e, copied).items.push({ kind: "thinking", key: seq, text: "", done: false });
      return;
    case "thinking.progress":
    case "thinking.complete": {
      const turn = turnFor(t, e, copied);
      let th = [...turn.items].reverse().find((x) => x.kind === "thinking" && !x.done) as
        | Extract<Item, { kind: "thinking" }>
        | undefined;
      if (!th) {
        th = { kind: "thinking", key: seq, text: "", done: false };
        turn.items.push(th);
      }
      replaceItem(turn, {
        ...th,
        text: th.text + (e.type === "thinking.progress" ? str(e.text) : ""),
        done: e.type === "thinking.complete",
      });
      return;
    }
    case "tool_call_start":
    case "tool_call_delta":
    case "tool_call":
    case "tool_result":
    case "tool_error": {
      const turn = turnFor(t, e, copied);
      const id = str(e.toolCallId);
      let tool = turn.items.find((x) => x.kind === "tool" && x.toolCallId === id) as
        | Extract<Item, { kind: "tool" }>
        | undefined;
      if (!tool) {
        tool = { kind: "tool", key: seq, toolCallId: id, toolName: str(e.toolName), inputText: "", status: "running" };
        turn.items.push(tool);
      }
      const next = { ...tool };
      if (e.type === "tool_call_delta") next.inputText += str(e.delta);
      if (e.type === "tool_call") {
        next.toolName = str(e.toolName) || next.toolName;
        next.input = e.input;
        next.status = "called";
      }
      if (e.type === "tool_result") {
        next.output = typeof e.output === "string" ? e.output : JSON.stringify(e.output, null, 2);
        next.status = e.isError ? "error" : "done";
      }
      if (e.type === "tool_error") {
        next.output = str(e.message);
        next.status = "error";
      }
      replaceItem(turn, next);
      return;
    }
    case "terminal.stream": {
      const turn = turnFor(t, e, copied);
      const prev = [...turn.items].reverse().find((x) => x.kind === "terminal" && x.exitCode === undefined) as
        | Extract<Item, { kind: "terminal" }>
        | undefined;
      if (prev) replaceItem(turn, { ...prev, data: prev.data + str(e.data) });
      else turn.items.push({ kind: "terminal", key: seq, data: str(e.data) });
      return;
    }
    case "terminal.complete": {
      const turn = turnFor(t, e, copied);
      const prev = [...turn.items].reverse().find((x) => x.kind === "terminal" && x.exitCode === undefined) as
        | Extract<Item, { kind: "terminal" }>
        | undefined;
      if (prev) replaceItem(turn, { ...prev, exitCode: num(e.exitCode) });
      else turn.items.push({ kind: "terminal", key: seq, data: "", exitCode: num(e.exitCode) });
      return;
    }
    case "permission_requested":
    case "question_requested":
      turnFor(t, e, copied).items.push({
        kind: "prompt",
        key: seq,
        promptId: str(e.promptId),
        prompt: e.type === "permission_requested" ? "permission" : "question",
        toolName: e.toolName as string | undefined,
        description: e.description as string | undefined,
        questions: e.questions,
      });
      return;
    case "approval_resolved": {
      for (let i = 0; i < t.turns.length; i++) {
        const p = t.turns[i].items.find((x) => x.kind === "prompt" && x.promptId === e.promptId);
        if (p && p.kind === "prompt") {
          replaceItem(writable(t, i, copied), {
            ...p,
            resolved: {
              approved: e.approved as boolean | undefined,
              answers: e.answers,
              dismissed: e.dismissed as boolean | undefined,
            },
          });
        }
      }
      return;
    }
    case "steer_applied":
      turnFor(t, e, copied).items.push({ kind: "steer", key: seq, text: str(e.text) });
      return;
    case "usage.updated":
      t.usage = { inputTokens: num(e.inputTokens), outputTokens: num(e.outputTokens) };
      turnFor(t, e, copied).usage = t.usage;
      return;
    case "turn_complete": {
      const turn = turnFor(t, e, copied);
      turn.status = e.stopReason === "cancelled" ? "cancelled" : "complete";
      turn.stopReason = str(e.stopReason);
      turn.finalText = str(e.finalText);
      const u = e.usage as Partial<Usage> | undefined;
      if (u) {
        turn.usage = { inputTokens: num(u.inputTokens), outputTokens: num(u.outputTokens) };
        t.usage = turn.usage;
      }
      return;
    }
    case "turn_error": {
      const turn = turnFor(t, e, copied);
      turn.status = "error";
      turn.error = { code: str(e.code), message: str(e.message) };
      return;
    }
    default:
      // sandbox.*, plan.*, agent_event and anything newer: shown compactly.
      if (e.turnId || t.turns.length > 0) {
        const { type, sessionId: _s, seq: _q, ts: _t, turnId: _u, ...detail } = e;
        turnFor(t, e, copied).items.push({ kind: "other", key: seq, type, detail });
      }
  }
}

// totalUsage adds up the usage of every turn: what the session has cost so far.
export function totalUsage(t: Transcript): Usage | undefined {
  let total: Usage | undefined;
  for (const turn of t.turns) {
    if (!turn.usage) continue;
    total = {
      inputTokens: (total?.inputTokens ?? 0) + turn.usage.inputTokens,
      outputTokens: (total?.outputTokens ?? 0) + turn.usage.outputTokens,
    };
  }
  return total;
}
