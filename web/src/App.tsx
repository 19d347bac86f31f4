import { AppShell, Burger, Button, Center, Group, Loader, Stack, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useCallback, useEffect, useState } from "react";
import type { Auth } from "./auth";
import { ConnectionBadge } from "./components/ConnectionBadge";
import { Members } from "./components/Members";
import { SessionList } from "./components/SessionList";
import { SessionView } from "./components/SessionView";
import type { Identity } from "@diminuendo/client";
import { type Client, type Frame, type SessionMeta, errorText } from "./gateway";

export function App({ client, auth }: { client: Client; auth: Auth }) {
  const [conn, setConn] = useState<string>(client.state);
  const [identity, setIdentity] = useState<Identity>();
  const [fatal, setFatal] = useState<string>();
  const [sessions, setSessions] = useState<SessionMeta[]>([]);
  const [includeArchived, setIncludeArchived] = useState(false);
  const [selected, setSelected] = useState<string>(() => new URLSearchParams(location.hash.slice(1)).get("session") ?? "");
  const [page, setPage] = useState<"sessions" | "members">("sessions");
  const [navOpen, nav] = useDisclosure(false);

  const refresh = useCallback(() => {
    client
      .listSessions(includeArchived)
      .then(setSessions)
      .catch(() => {});
  }, [client, includeArchived]);

  useEffect(() => {
    const offState = client.onState((s) => {
      setConn(s);
      if (s === "open") refresh();
    });
    // Other tabs and devices change sessions too: follow what the gateway says.
    const offFrames = client.on((raw) => {
      const e = raw as unknown as Frame;
      if (e.type === "session_deleted") setSessions((l) => l.filter((s) => s.id !== e.sessionId));
      if (e.type === "session_updated" || e.type === "session_created") {
        const s = e.session as SessionMeta;
        setSessions((l) => [s, ...l.filter((x) => x.id !== s.id)]);
      }
    });
    return () => {
      offState();
      offFrames();
    };
  }, [client, refresh]);

  useEffect(() => {
    client
      .connect()
      .then((id) => {
        setIdentity(id);
        setConn(client.state);
        refresh();
      })
      .catch((err: unknown) => setFatal(errorText(err)));
    // connect once; refresh is stable enough for the first list
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client]);

  useEffect(refresh, [refresh]);

  useEffect(() => {
    history.replaceState(null, "", selected ? `#session=${selected}` : location.pathname);
  }, [selected]);

  const onChanged = (c: SessionMeta | { deleted: string }) => {
    if ("deleted" in c) {
      setSessions((l) => l.filter((s) => s.id !== c.deleted));
      if (selected === c.deleted) setSelected("");
      return;
    }
    setSessions((l) => [c, ...l.filter((s) => s.id !== c.id)].filter((s) => includeArchived || !s.archived));
  };

  // Nothing below may ask the gateway anything before the first connection
  // is authenticated: the client refuses requests until connect() was called.
  if (!identity) {
    return (
      <Center h="100dvh">
        <Stack align="center" gap="sm">
          <Title order={3}>Diminuendo</Title>
          {fatal ? (
            <Text c="red" data-testid="fatal">
              Cannot connect to the gateway: {fatal}
            </Text>
          ) : (
            <Group gap="xs">
              <Loader size="sm" />
              <ConnectionBadge state={conn} />
            </Group>
          )}
        </Stack>
      </Center>
    );
  }

  const admin = identity?.role === "owner" || identity?.role === "admin";
  const current = sessions.find((s) => s.id === selected);

  return (
    <AppShell header={{ height: 52 }} navbar={{ width: 280, breakpoint: "sm", collapsed: { mobile: !navOpen } }} padding={0}>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={navOpen} onClick={nav.toggle} hiddenFrom="sm" size="sm" aria-label="Sessions" />
            <Title order={4} className="brand">
              Diminuendo
            </Title>
            <ConnectionBadge state={conn} />
          </Group>
          <Group gap="xs" wrap="nowrap">
            <Button
              size="xs"
              variant={page === "sessions" ? "light" : "subtle"}
              onClick={() => setPage("sessions")}
              data-testid="nav-sessions"
              visibleFrom="xs"
            >
              Sessions
            </Button>
            {admin && (
              <Button size="xs" variant={page === "members" ? "light" : "subtle"} onClick={() => setPage("members")} data-testid="nav-members">
                Members
              </Button>
            )}
            {identity && (
              <Text size="xs" c="dimmed" data-testid="identity" visibleFrom="sm">
                {identity.email} · {identity.role}
              </Text>
            )}
            {auth.user && (
              <Button size="xs" variant="default" onClick={() => auth.signOut()}>
                Sign out
              </Button>
            )}
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm" style={{ overflowY: "auto" }}>
        <SessionList
          client={client}
          sessions={sessions}
          selected={selected}
          includeArchived={includeArchived}
          onIncludeArchived={setIncludeArchived}
          onSelect={(id) => {
            setSelected(id);
            setPage("sessions");
            nav.close();
          }}
          onChanged={onChanged}
        />
      </AppShell.Navbar>
      <AppShell.Main className="main">
        {page === "members" && admin ? (
          <Members client={client} myUserId={identity?.userId} />
        ) : current ? (
          <SessionView key={current.id} client={client} session={current} />
        ) : (
          <Text c="dimmed" p="xl">
            Create a session or pick one on the left.
          </Text>
        )}
      </AppShell.Main>
    </AppShell>
  );
}
