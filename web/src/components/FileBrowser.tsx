import { Button, Code, Group, Loader, NavLink, Stack, Text } from "@mantine/core";
import { useCallback, useEffect, useState } from "react";
import { type Client, type FileContent, type FileEntry, type FileIteration, errorText, textOf } from "../gateway";
import { Diff } from "./Diff";

// FileBrowser lists the session's workspace; a file shows its content and
// its history, each iteration as a diff against the one before.
export function FileBrowser({ client, sessionId, latestSeq }: { client: Client; sessionId: string; latestSeq: number }) {
  const [entries, setEntries] = useState<FileEntry[]>();
  const [error, setError] = useState<string>();
  const [path, setPath] = useState<string>();

  const load = useCallback(() => {
    client
      .listFiles(sessionId, undefined, 8)
      .then((r) => {
        setEntries([...r.entries].sort((a, b) => a.path.localeCompare(b.path)));
        setError(undefined);
      })
      .catch((err: unknown) => setError(errorText(err)));
  }, [client, sessionId]);
  useEffect(load, [load, latestSeq]);

  return (
    <Group align="flex-start" gap="md" wrap="nowrap" className="files" data-testid="file-browser">
      <Stack gap={2} w={240} style={{ flexShrink: 0 }}>
        <Group justify="space-between">
          <Text fw={600} size="sm">
            Workspace
          </Text>
          <Button size="compact-xs" variant="subtle" onClick={load}>
            Refresh
          </Button>
        </Group>
        {error && <Text size="xs" c="dimmed">{error.startsWith("NOT_FOUND") ? "No workspace yet: run a turn first." : error}</Text>}
        {!entries && !error && <Loader size="xs" />}
        {entries?.length === 0 && <Text size="xs" c="dimmed">The workspace is empty.</Text>}
        {entries?.map((e) => (
          <NavLink
            key={e.path}
            label={e.path}
            description={e.type === "dir" ? "folder" : `${e.size} bytes · iteration ${e.iteration}`}
            active={e.path === path}
            disabled={e.type === "dir"}
            onClick={() => setPath(e.path)}
            data-testid="file-entry"
            data-path={e.path}
          />
        ))}
      </Stack>
      <div style={{ flex: 1, minWidth: 0 }}>
        {path ? <FileView key={path} client={client} sessionId={sessionId} path={path} latestSeq={latestSeq} /> : <Text c="dimmed" size="sm">Pick a file.</Text>}
      </div>
    </Group>
  );
}

function FileView({ client, sessionId, path, latestSeq }: { client: Client; sessionId: string; path: string; latestSeq: number }) {
  const [file, setFile] = useState<FileContent>();
  const [history, setHistory] = useState<FileIteration[]>([]);
  const [picked, setPicked] = useState<number>();
  const [diff, setDiff] = useState<{ before: string; after: string; iteration: number }>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    Promise.all([client.readFile(sessionId, path), client.fileHistory(sessionId, path)])
      .then(([f, h]) => {
        setFile(f);
        setHistory([...h.iterations].sort((a, b) => b.iteration - a.iteration));
      })
      .catch((err: unknown) => setError(errorText(err)));
  }, [client, sessionId, path, latestSeq]);

  useEffect(() => {
    if (picked === undefined) return;
    const prev = history.find((h) => h.iteration < picked)?.iteration;
    const read = (n?: number) =>
      n === undefined ? Promise.resolve("") : client.fileAtIteration(sessionId, path, n).then(textOf);
    Promise.all([read(prev), read(picked)])
      .then(([before, after]) => setDiff({ before, after, iteration: picked }))
      .catch((err: unknown) => setError(errorText(err)));
  }, [client, sessionId, path, picked, history]);

  if (error) return <Text c="red" size="sm">{error}</Text>;
  if (!file) return <Loader size="xs" />;
  return (
    <Stack gap="sm" data-testid="file-view" data-path={path}>
      <Text fw={600} ff="monospace">
        {path} <Text span c="dimmed" size="xs">iteration {file.iteration} · {file.size} bytes</Text>
      </Text>
      <Code block data-testid="file-content" className="file-content">
        {textOf(file)}
      </Code>
      <Text fw={600} size="sm">
        History
      </Text>
      <Group gap={6}>
        {history.map((h) => (
          <Button
            key={h.iteration}
            size="compact-xs"
            variant={picked === h.iteration ? "filled" : "light"}
            onClick={() => setPicked(h.iteration)}
            title={new Date(h.timestamp).toLocaleString()}
            data-testid="file-iteration"
          >
            #{h.iteration}
          </Button>
        ))}
      </Group>
      {diff && diff.iteration === picked && (
        <div>
          <Text size="xs" c="dimmed">
            iteration {diff.iteration} against the one before
          </Text>
          <Diff before={diff.before} after={diff.after} testId="history-diff" />
        </div>
      )}
    </Stack>
  );
}
