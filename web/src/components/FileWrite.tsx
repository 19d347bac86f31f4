import { Button, Loader, Text } from "@mantine/core";
import { useEffect, useState } from "react";
import { type Client, errorText, textOf } from "../gateway";
import { Diff } from "./Diff";

// FileWrite shows a file the agent wrote as a diff against the iteration
// before it. The write's iteration is the newest whose content is what the
// tool call wrote (a later turn may have written the file again). Each
// diff costs a few requests, and a connection's messages are rate limited:
// the newest turn's writes load at once, older ones when asked.
interface Props {
  client: Client;
  sessionId: string;
  path: string;
  content?: string;
  load: boolean;
}

export function FileWrite({ client, sessionId, path, content, load }: Props) {
  const [d, setD] = useState<{ before: string; after: string; iteration: number } | { error: string }>();
  const [wanted, setWanted] = useState(load);
  useEffect(() => {
    if (!wanted) return;
    let alive = true;
    (async () => {
      const its = (await client.fileHistory(sessionId, path)).iterations
        .map((x) => x.iteration)
        .sort((a, b) => b - a);
      const read = async (n: number) =>
        n < 1 ? "" : textOf(await client.fileAtIteration(sessionId, path, n));
      for (const n of its) {
        const after = await read(n);
        if (content === undefined || after === content) {
          const before = await read(its.find((m) => m < n) ?? 0);
          return { before, after, iteration: n };
        }
      }
      return { error: "this version is no longer in the workspace" };
    })()
      .catch((err) => ({ error: errorText(err) }))
      .then((r) => alive && setD(r));
    return () => {
      alive = false;
    };
  }, [client, sessionId, path, content, wanted]);
  if (!wanted)
    return (
      <Button size="compact-xs" variant="light" onClick={() => setWanted(true)} data-testid="show-diff">
        Show the change to {path}
      </Button>
    );
  if (!d) return <Loader size="xs" />;
  if ("error" in d) return <Text size="xs" c="dimmed">{d.error}</Text>;
  return (
    <div data-testid="file-write" data-path={path} data-iteration={d.iteration}>
      <Text size="xs" c="dimmed">
        {path} · iteration {d.iteration}
      </Text>
      <Diff before={d.before} after={d.after} />
    </div>
  );
}
