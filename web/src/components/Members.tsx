import { Button, Group, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useCallback, useEffect, useState } from "react";
import type { Role } from "@diminuendo/client";
import { type Client, type Member, errorText } from "../gateway";

const roles: Role[] = ["owner", "admin", "developer", "viewer", "guest"];

// Members lists the tenant's members and lets an admin or owner add,
// change and remove them. The gateway enforces who may grant what.
export function Members({ client, myUserId }: { client: Client; myUserId?: string }) {
  const [members, setMembers] = useState<Member[]>();
  const [error, setError] = useState<string>();
  const [add, setAdd] = useState<{ userId: string; email: string; role: Role }>({ userId: "", email: "", role: "developer" });

  const run = useCallback(
    async (msg: { action: "list" | "add" | "update" | "remove"; userId?: string; email?: string; role?: Role }) => {
      setError(undefined);
      try {
        setMembers(await client.manageMembers(msg));
        return true;
      } catch (err) {
        setError(errorText(err));
        return false;
      }
    },
    [client],
  );
  useEffect(() => {
    void run({ action: "list" });
  }, [run]);

  return (
    <Stack p="md" gap="md" data-testid="members-page" maw={900}>
      <Title order={3}>Members</Title>
      {error && (
        <Text c="red" size="sm" data-testid="members-error">
          {error}
        </Text>
      )}
      <Table striped highlightOnHover withTableBorder>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Email</Table.Th>
            <Table.Th>User id</Table.Th>
            <Table.Th>Role</Table.Th>
            <Table.Th>Added</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {members?.map((m) => (
            <Table.Tr key={m.userId} data-testid="member-row" data-user-id={m.userId}>
              <Table.Td>{m.email}</Table.Td>
              <Table.Td>
                <Text size="xs" ff="monospace">
                  {m.userId}
                </Text>
              </Table.Td>
              <Table.Td>
                <Select
                  size="xs"
                  w={130}
                  data={roles}
                  value={m.role}
                  allowDeselect={false}
                  onChange={(role) => role && role !== m.role && run({ action: "update", userId: m.userId, role: role as Role })}
                  aria-label={`Role of ${m.email}`}
                  data-testid="member-role"
                />
              </Table.Td>
              <Table.Td>
                <Text size="xs">{m.addedAt ? new Date(m.addedAt).toLocaleDateString() : ""}</Text>
              </Table.Td>
              <Table.Td>
                <Button
                  size="compact-xs"
                  color="red"
                  variant="subtle"
                  disabled={m.userId === myUserId}
                  onClick={() => run({ action: "remove", userId: m.userId })}
                  data-testid="member-remove"
                >
                  Remove
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {members?.length === 0 && (
        <Text size="sm" c="dimmed">
          No members recorded yet: add the first below.
        </Text>
      )}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (await run({ action: "add", ...add })) setAdd({ userId: "", email: "", role: "developer" });
        }}
      >
        <Group align="flex-end" gap="xs">
          <TextInput label="User id" required value={add.userId} onChange={(e) => setAdd({ ...add, userId: e.currentTarget.value })} data-testid="member-add-id" />
          <TextInput label="Email" required type="email" value={add.email} onChange={(e) => setAdd({ ...add, email: e.currentTarget.value })} data-testid="member-add-email" />
          <Select label="Role" w={130} data={roles} value={add.role} allowDeselect={false} onChange={(r) => setAdd({ ...add, role: (r as Role | null) ?? "developer" })} />
          <Button type="submit" data-testid="member-add">
            Add member
          </Button>
        </Group>
      </form>
    </Stack>
  );
}
