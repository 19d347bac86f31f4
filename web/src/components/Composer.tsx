import { Button, Group, Text, Textarea } from "@mantine/core";
import { useState } from "react";
import { type Client, errorText } from "../gateway";

// Composer sends a turn, or, while one runs, steers it; Stop cancels it.
export function Composer({ client, sessionId, state }: { client: Client; sessionId: string; state?: string }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string>();
  const busy = state === "running" || state === "waiting";
  const submit = async () => {
    const t = text.trim();
    if (!t) return;
    setError(undefined);
    try {
      if (busy) await client.steer(sessionId, t);
      else await client.runTurn(sessionId, t, `ct-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
      setText("");
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <div className="composer">
      <Group align="flex-end" gap="xs" wrap="nowrap">
        <Textarea
          style={{ flex: 1 }}
          autosize
          minRows={1}
          maxRows={8}
          placeholder={busy ? "Steer the running turn…" : "Ask the agent… (Ctrl+Enter sends)"}
          value={text}
          onChange={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void submit();
          }}
          data-testid="composer-input"
          aria-label="Message"
        />
        <Button onClick={submit} disabled={!text.trim()} data-testid={busy ? "steer-button" : "send-button"}>
          {busy ? "Steer" : "Send"}
        </Button>
        <Button
          color="red"
          variant="light"
          disabled={!busy}
          onClick={() => client.stopTurn(sessionId).catch((err: unknown) => setError(errorText(err)))}
          data-testid="stop-button"
        >
          Stop
        </Button>
      </Group>
      {error && (
        <Text size="xs" c="red" mt={4} data-testid="composer-error">
          {error}
        </Text>
      )}
    </div>
  );
}
