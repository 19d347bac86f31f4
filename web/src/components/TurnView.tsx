import { Badge, Button, Card, Code, Collapse, Group, Paper, Stack, Text, TextInput, UnstyledButton } from "@mantine/core";
import { memo, useState } from "react";
import { type Client, errorText } from "../gateway";
import type { Item, Turn } from "../transcript";
import { FileWrite } from "./FileWrite";
import { Markdown } from "./Markdown";

interface Ctx {
  client: Client;
  sessionId: string;
  latest: boolean;
}

interface TurnProps {
  turn: Turn;
  client: Client;
  sessionId: string;
  /** The newest turn: its file writes load their diffs at once, older ones on demand. */
  latest: boolean;
}

// A turn renders again only when its own events change it (transcript.ts
// copies on write).
export const TurnView = memo(function TurnView({ turn, client, sessionId, latest }: TurnProps) {
  const ctx: Ctx = { client, sessionId, latest };
  return (
    <Stack gap="xs" data-testid="turn" data-turn-id={turn.turnId} data-status={turn.status} className="turn">
      {turn.userText !== undefined && (
        <Paper className="user-message" p="sm" radius="md" data-testid="user-message">
          <Text style={{ whiteSpace: "pre-wrap" }}>{turn.userText}</Text>
        </Paper>
      )}
      {turn.items.map((it) => (
        <ItemView key={it.key} item={it} ctx={ctx} running={turn.status === "running"} />
      ))}
      <TurnFooter turn={turn} />
    </Stack>
  );
});

function TurnFooter({ turn }: { turn: Turn }) {
  if (turn.status === "running") {
    const asking = turn.items.some((it) => it.kind === "prompt" && !it.resolved);
    return (
      <Text size="xs" c="dimmed">
        {asking ? "waiting for an answer…" : "working…"}
      </Text>
    );
  }
  return (
    <Group gap="xs" data-testid="turn-end">
      {turn.error ? (
        <Badge color="red" variant="light" data-testid="turn-error">
          {turn.error.code}: {turn.error.message}
        </Badge>
      ) : (
        <Badge color={turn.status === "cancelled" ? "yellow" : "gray"} variant="light" data-testid="stop-reason">
          {turn.stopReason}
        </Badge>
      )}
      {turn.usage && (
        <Text size="xs" c="dimmed">
          {turn.usage.inputTokens} in · {turn.usage.outputTokens} out
        </Text>
      )}
    </Group>
  );
}

function ItemView({ item, ctx, running }: { item: Item; ctx: Ctx; running: boolean }) {
  switch (item.kind) {
    case "text":
      return <Markdown text={item.text} testId="assistant-text" />;
    case "thinking":
      return <Thinking text={item.text} done={item.done} />;
    case "tool":
      return <ToolCard item={item} ctx={ctx} />;
    case "terminal":
      return (
        <div className="terminal" data-testid="terminal">
          <pre>{item.data}</pre>
          {item.exitCode !== undefined && (
            <Badge size="sm" color={item.exitCode === 0 ? "teal" : "red"} data-testid="exit-code" data-exit-code={item.exitCode}>
              exit {item.exitCode}
            </Badge>
          )}
        </div>
      );
    case "prompt":
      return <PromptCard item={item} ctx={ctx} live={running} />;
    case "steer":
      return (
        <Text size="sm" c="dimmed" data-testid="steer-applied">
          ↪ steered: {item.text}
        </Text>
      );
    case "other":
      return (
        <Text size="xs" c="dimmed" data-testid="other-event">
          {item.type}
        </Text>
      );
  }
}

function Thinking({ text, done }: { text: string; done: boolean }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="thinking" data-testid="thinking" data-done={done}>
      <UnstyledButton onClick={() => setOpen((o) => !o)} data-testid="thinking-toggle" aria-expanded={open}>
        <Text size="sm" c="dimmed" fs="italic">
          {open ? "▾" : "▸"} {done ? "Thought" : "Thinking…"}
        </Text>
      </UnstyledButton>
      <Collapse expanded={open}>
        <Text size="sm" c="dimmed" fs="italic" pl="md" style={{ whiteSpace: "pre-wrap" }} data-testid="thinking-text">
          {text}
        </Text>
      </Collapse>
    </div>
  );
}

const toolColor = { running: "blue", called: "blue", done: "teal", error: "red" } as const;

function pretty(input: unknown, raw: string): string {
  if (input !== undefined) return JSON.stringify(input, null, 2);
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}

function ToolCard({ item, ctx }: { item: Extract<Item, { kind: "tool" }>; ctx: Ctx }) {
  const input = item.input as { path?: unknown; content?: unknown } | undefined;
  const writes = item.status === "done" && input && typeof input.path === "string";
  return (
    <Card withBorder padding="sm" radius="md" data-testid="tool-card" data-tool={item.toolName} data-status={item.status}>
      <Group justify="space-between" mb={4}>
        <Text fw={600} ff="monospace" size="sm">
          {item.toolName || "tool"}
        </Text>
        <Badge size="sm" variant="light" color={toolColor[item.status]} data-testid="tool-status">
          {item.status}
        </Badge>
      </Group>
      <Code block data-testid="tool-input">
        {pretty(item.input, item.inputText)}
      </Code>
      {item.output !== undefined && (
        <Code block mt={6} color={item.status === "error" ? "red.1" : undefined} data-testid="tool-output">
          {item.output}
        </Code>
      )}
      {writes && (
        <div style={{ marginTop: 8 }}>
          <FileWrite
            client={ctx.client}
            sessionId={ctx.sessionId}
            path={input.path as string}
            content={typeof input.content === "string" ? input.content : undefined}
            load={ctx.latest}
          />
        </div>
      )}
    </Card>
  );
}

const promptColor: Record<string, string> = {
  approved: "teal",
  answered: "teal",
  pending: "orange",
  denied: "red",
  dismissed: "gray",
  unanswered: "gray",
};

interface Question {
  id: string;
  label: string;
}

function questionsOf(q: unknown): Question[] {
  if (Array.isArray(q))
    return q.map((x, i) =>
      typeof x === "string"
        ? { id: String(i), label: x }
        : { id: String(x?.id ?? x?.key ?? i), label: String(x?.question ?? x?.text ?? x?.label ?? x?.id ?? i) },
    );
  if (q && typeof q === "object") return Object.entries(q).map(([id, v]) => ({ id, label: typeof v === "string" ? v : id }));
  return [{ id: "answer", label: "Answer" }];
}

function PromptCard({ item, ctx, live }: { item: Extract<Item, { kind: "prompt" }>; ctx: Ctx; live: boolean }) {
  const [answers, setAnswers] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const answer = async (a: { approved?: boolean; answers?: Record<string, unknown>; dismissed?: boolean }) => {
    setBusy(true);
    setError(undefined);
    try {
      await ctx.client.answer(ctx.sessionId, item.promptId, a);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };
  const r = item.resolved;
  const outcome = r
    ? r.dismissed
      ? "dismissed"
      : item.prompt === "permission"
        ? r.approved
          ? "approved"
          : "denied"
        : "answered"
    : live
      ? "pending"
      : "unanswered"; // the turn ended first
  return (
    <Card withBorder padding="sm" radius="md" className="prompt" data-testid="prompt" data-prompt-id={item.promptId} data-outcome={outcome}>
      <Group justify="space-between" mb={6}>
        <Text fw={600} size="sm">
          {item.prompt === "permission" ? `Permission: ${item.toolName ?? "tool"}` : "Question"}
        </Text>
        <Badge size="sm" color={promptColor[outcome]}>
          {outcome}
        </Badge>
      </Group>
      {item.description && <Text size="sm" mb={6}>{item.description}</Text>}
      {!r && live && item.prompt === "permission" && (
        <Group gap="xs">
          <Button size="xs" color="teal" loading={busy} onClick={() => answer({ approved: true })} data-testid="prompt-approve">
            Approve
          </Button>
          <Button size="xs" color="red" variant="light" disabled={busy} onClick={() => answer({ approved: false })} data-testid="prompt-deny">
            Deny
          </Button>
        </Group>
      )}
      {!r && live && item.prompt === "question" && (
        <Stack gap={6}>
          {questionsOf(item.questions).map((q) => (
            <TextInput
              key={q.id}
              size="xs"
              label={q.label}
              value={answers[q.id] ?? ""}
              onChange={(ev) => setAnswers((a) => ({ ...a, [q.id]: ev.currentTarget.value }))}
              data-testid="prompt-answer-input"
            />
          ))}
          <Group gap="xs">
            <Button size="xs" loading={busy} onClick={() => answer({ answers })} data-testid="prompt-submit">
              Answer
            </Button>
            <Button size="xs" variant="subtle" disabled={busy} onClick={() => answer({ dismissed: true })} data-testid="prompt-dismiss">
              Dismiss
            </Button>
          </Group>
        </Stack>
      )}
      {error && (
        <Text size="xs" c="red">
          {error}
        </Text>
      )}
    </Card>
  );
}
