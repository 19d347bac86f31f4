import { Badge, Group, Loader, Stack, Tabs, Text, Title } from "@mantine/core";
import { useEffect, useRef } from "react";
import type { Client, SessionMeta } from "../gateway";
import { totalUsage } from "../transcript";
import { useSessionFeed } from "../useSessionFeed";
import { Composer } from "./Composer";
import { FileBrowser } from "./FileBrowser";
import { TurnView } from "./TurnView";

const stateColor: Record<string, string> = {
  ready: "teal",
  running: "blue",
  waiting: "orange",
  error: "red",
  activating: "gray",
  inactive: "gray",
  deactivating: "gray",
};

export function SessionView({ client, session }: { client: Client; session: SessionMeta }) {
  const feed = useSessionFeed(client, session.id);
  const t = feed.transcript;
  const usage = totalUsage(t);
  const bottom = useRef<HTMLDivElement>(null);
  // Follow the stream while the reader is at the end; leave them be when
  // they scrolled up to read.
  const following = useRef(true);
  useEffect(() => {
    if (following.current) bottom.current?.scrollIntoView({ block: "end" });
  }, [t.lastSeq]);

  return (
    <Stack gap={0} h="100%" className="session-view" data-testid="session-view" data-session-id={session.id}>
      <Group justify="space-between" px="md" py="xs" className="session-head">
        <Group gap="sm">
          <Title order={4} data-testid="session-title">
            {session.name}
          </Title>
          <Badge variant="light" color="gray">
            {session.agentType}
          </Badge>
          {feed.state && (
            <Badge variant="dot" color={stateColor[feed.state] ?? "gray"} data-testid="session-state" data-state={feed.state}>
              {feed.state}
            </Badge>
          )}
        </Group>
        <Group gap="md">
          <Text size="xs" c="dimmed" data-testid="token-usage">
            {usage ? `tokens: ${usage.inputTokens} in · ${usage.outputTokens} out` : "tokens: —"}
          </Text>
          <Text size="xs" c="dimmed">
            seq {t.lastSeq}
          </Text>
        </Group>
      </Group>
      <Tabs defaultValue="conversation" keepMounted={false} style={{ flex: 1, minHeight: 0, display: "flex", flexDirection: "column" }}>
        <Tabs.List px="md">
          <Tabs.Tab value="conversation">Conversation</Tabs.Tab>
          <Tabs.Tab value="files" data-testid="files-tab">
            Files
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="conversation" style={{ flex: 1, minHeight: 0, display: "flex", flexDirection: "column" }}>
          <div
            className="transcript-scroll"
            onScroll={(e) => {
              const el = e.currentTarget;
              following.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 48;
            }}
          >
            <Stack gap="lg" py="md" data-testid="transcript" data-seqs={t.seqs.join(",")} data-last-seq={t.lastSeq}>
              {feed.loading && <Loader size="sm" />}
              {feed.error && (
                <Text c="red" size="sm" data-testid="feed-error">
                  {feed.error}
                </Text>
              )}
              {!feed.loading && t.turns.length === 0 && (
                <Text c="dimmed" size="sm">
                  No turns yet. Say something below.
                </Text>
              )}
              {t.turns.map((turn, i) => (
                <TurnView key={turn.key} turn={turn} client={client} sessionId={session.id} latest={i === t.turns.length - 1} />
              ))}
              <div ref={bottom} />
            </Stack>
          </div>
          <div className="composer-wrap">
            <Composer client={client} sessionId={session.id} state={feed.state} />
          </div>
        </Tabs.Panel>
        <Tabs.Panel value="files" p="md" style={{ flex: 1, minHeight: 0, overflow: "auto" }}>
          <FileBrowser client={client} sessionId={session.id} latestSeq={t.turns.filter((x) => x.status !== "running").length} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
