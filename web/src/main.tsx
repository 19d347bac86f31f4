import "@mantine/core/styles.css";
import "./app.css";
import { Center, MantineProvider, Stack, Text, Title, createTheme } from "@mantine/core";
import type { ReactNode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { getAuth } from "./auth";
import { createClient, errorText } from "./gateway";

const theme = createTheme({ primaryColor: "indigo", defaultRadius: "md" });
const root = createRoot(document.getElementById("root")!);
const render = (node: ReactNode) =>
  root.render(
    <MantineProvider theme={theme} defaultColorScheme="light">
      {node}
    </MantineProvider>,
  );

async function start() {
  let auth;
  try {
    auth = await getAuth();
  } catch (err) {
    render(
      <Center h="100dvh">
        <Stack align="center" gap="xs">
          <Title order={3}>Diminuendo</Title>
          <Text c="red" data-testid="fatal">
            Sign-in is not available: {errorText(err)}
          </Text>
        </Stack>
      </Center>,
    );
    return;
  }
  const client = createClient(auth);
  render(<App client={client} auth={auth} />);
}

void start();
