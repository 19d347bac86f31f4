import { ActionIcon, Button, Checkbox, Group, Menu, Modal, Select, Stack, Text, TextInput, UnstyledButton } from "@mantine/core";
import { useEffect, useMemo, useState } from "react";
import { type AgentType, type Client, type SessionMeta, errorText } from "../gateway";

interface Props {
  client: Client;
  sessions: SessionMeta[];
  selected?: string;
  includeArchived: boolean;
  onIncludeArchived(v: boolean): void;
  onSelect(id: string): void;
  onChanged(s: SessionMeta | { deleted: string }): void;
}

export function SessionList(p: Props) {
  const [query, setQuery] = useState("");
  const [renaming, setRenaming] = useState<SessionMeta>();
  const [deleting, setDeleting] = useState<SessionMeta>();
  const [error, setError] = useState<string>();
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    return p.sessions
      .filter((s) => !q || s.name.toLowerCase().includes(q) || s.agentType.toLowerCase().includes(q) || s.id.includes(q))
      .sort((a, b) => (b.updatedAt ?? 0) - (a.updatedAt ?? 0));
  }, [p.sessions, query]);

  const act = async (fn: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await fn();
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <Stack gap="xs" data-testid="session-list">
      <NewSession client={p.client} onCreated={(s) => (p.onChanged(s), p.onSelect(s.id))} />
      <TextInput
        placeholder="Search sessions"
        value={query}
        onChange={(e) => setQuery(e.currentTarget.value)}
        data-testid="session-search"
        aria-label="Search sessions"
      />
      <Checkbox
        size="xs"
        label="Show archived"
        checked={p.includeArchived}
        onChange={(e) => p.onIncludeArchived(e.currentTarget.checked)}
        data-testid="show-archived"
      />
      {error && (
        <Text size="xs" c="red" data-testid="session-error">
          {error}
        </Text>
      )}
      {shown.length === 0 && (
        <Text size="xs" c="dimmed">
          {query ? "No session matches." : "No sessions yet."}
        </Text>
      )}
      {shown.map((s) => (
        <Group
          key={s.id}
          gap={4}
          wrap="nowrap"
          className={s.id === p.selected ? "session-item active" : "session-item"}
          data-testid="session-item"
          data-session-id={s.id}
          data-archived={s.archived}
        >
          <UnstyledButton style={{ flex: 1, minWidth: 0 }} onClick={() => p.onSelect(s.id)} data-testid="session-open">
            <Text size="sm" fw={500} truncate data-testid="session-name">
              {s.name}
            </Text>
            <Text size="xs" c="dimmed" truncate>
              {s.agentType}
              {s.archived ? " · archived" : ""}
            </Text>
          </UnstyledButton>
          <Menu position="bottom-end" withinPortal>
            <Menu.Target>
              <ActionIcon variant="subtle" color="gray" aria-label="Session actions" data-testid="session-menu">
                ⋯
              </ActionIcon>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Item onClick={() => setRenaming(s)} data-testid="session-rename">
                Rename
              </Menu.Item>
              <Menu.Item
                onClick={() =>
                  act(async () => {
                    p.onChanged(s.archived ? await p.client.unarchiveSession(s.id) : await p.client.archiveSession(s.id));
                  })
                }
                data-testid="session-archive"
              >
                {s.archived ? "Unarchive" : "Archive"}
              </Menu.Item>
              <Menu.Item
                color="red"
                onClick={() => setDeleting(s)}
                data-testid="session-delete"
              >
                Delete
              </Menu.Item>
            </Menu.Dropdown>
          </Menu>
        </Group>
      ))}
      <Modal opened={!!deleting} onClose={() => setDeleting(undefined)} title="Delete session">
        <Text size="sm">
          Delete <b>{deleting?.name}</b>? Its history and workspace are gone for good.
        </Text>
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={() => setDeleting(undefined)}>
            Cancel
          </Button>
          <Button
            color="red"
            data-testid="confirm-delete"
            onClick={() =>
              act(async () => {
                const s = deleting!;
                setDeleting(undefined);
                await p.client.deleteSession(s.id);
                p.onChanged({ deleted: s.id });
              })
            }
          >
            Delete
          </Button>
        </Group>
      </Modal>
      <RenameDialog
        session={renaming}
        onClose={() => setRenaming(undefined)}
        onSave={(name) =>
          act(async () => {
            const s = renaming!;
            p.onChanged(await p.client.renameSession(s.id, name));
            setRenaming(undefined);
          })
        }
      />
    </Stack>
  );
}

function RenameDialog({ session, onClose, onSave }: { session?: SessionMeta; onClose(): void; onSave(name: string): void }) {
  const [name, setName] = useState("");
  useEffect(() => {
    setName(session?.name ?? "");
  }, [session]);
  return (
    <Modal opened={!!session} onClose={onClose} title="Rename session">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) onSave(name.trim());
        }}
      >
        <TextInput value={name} onChange={(e) => setName(e.currentTarget.value)} data-autofocus data-testid="rename-input" aria-label="Name" />
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" data-testid="rename-save">
            Save
          </Button>
        </Group>
      </form>
    </Modal>
  );
}

function NewSession({ client, onCreated }: { client: Client; onCreated(s: SessionMeta): void }) {
  const [types, setTypes] = useState<AgentType[]>();
  const [typesFailed, setTypesFailed] = useState(false);
  const [agentType, setAgentType] = useState<string>("");
  const [name, setName] = useState("");
  const [error, setError] = useState<string>();
  useEffect(() => {
    client
      .listAgentTypes()
      .then((list) => {
        setTypes(list);
        if (list.length > 0) setAgentType((cur) => cur || list[0].id);
      })
      .catch(() => setTypesFailed(true));
  }, [client]);

  const create = async () => {
    setError(undefined);
    try {
      const s = await client.createSession({ agentType: agentType.trim(), name: name.trim() || undefined });
      setName("");
      onCreated(s);
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <Stack gap={6} className="new-session">
      {typesFailed || (types && types.length === 0) ? (
        <TextInput
          size="xs"
          label="Agent type"
          placeholder="e.g. coding-agent"
          value={agentType}
          onChange={(e) => setAgentType(e.currentTarget.value)}
          data-testid="agent-type-input"
        />
      ) : (
        <Select
          size="xs"
          label="Agent type"
          data={(types ?? []).map((t) => ({ value: t.id, label: !t.name || t.name === t.id ? t.id : `${t.name} (${t.id})` }))}
          value={agentType || null}
          onChange={(v) => setAgentType(v ?? "")}
          allowDeselect={false}
          data-testid="agent-type-select"
          description={types?.find((t) => t.id === agentType)?.description}
        />
      )}
      <TextInput size="xs" placeholder="Name (optional)" value={name} onChange={(e) => setName(e.currentTarget.value)} data-testid="new-session-name" aria-label="Session name" />
      <Button size="xs" onClick={create} disabled={!agentType.trim()} data-testid="new-session">
        New session
      </Button>
      {error && (
        <Text size="xs" c="red">
          {error}
        </Text>
      )}
    </Stack>
  );
}
