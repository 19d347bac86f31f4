import { Badge } from "@mantine/core";

const colors: Record<string, string> = {
  open: "teal",
  connecting: "gray",
  authenticating: "gray",
  reconnecting: "orange",
  closed: "red",
  idle: "gray",
};

export function ConnectionBadge({ state }: { state: string }) {
  return (
    <Badge variant="dot" color={colors[state] ?? "gray"} data-testid="connection-state" data-state={state} aria-live="polite">
      {state === "open" ? "connected" : state}
    </Badge>
  );
}
