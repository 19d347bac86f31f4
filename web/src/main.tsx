import "@mantine/core/styles.css";
import "./app.css";
import { MantineProvider, createTheme } from "@mantine/core";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { getAuth } from "./auth";
import { createClient } from "./gateway";

const theme = createTheme({ primaryColor: "indigo", defaultRadius: "md" });

async function start() {
  const auth = await getAuth();
  const client = createClient(auth);
  createRoot(document.getElementById("root")!).render(
    <MantineProvider theme={theme} defaultColorScheme="light">
      <App client={client} auth={auth} />
    </MantineProvider>,
  );
}

void start();
