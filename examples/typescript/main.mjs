// Runs one turn of the echo agent on a Diminuendo gateway and prints every
// event of it. DIMINUENDO_URL is the gateway's WebSocket endpoint;
// DIMINUENDO_TOKEN, when set, authenticates (dev mode needs none).
import { DiminuendoClient, DiminuendoError } from "@diminuendo/client";
import WebSocket from "ws";

const url = process.env.DIMINUENDO_URL ?? "ws://127.0.0.1:8080/ws";

const client = new DiminuendoClient({
  url,
  WebSocket, // Node 20 has no global WebSocket; browsers leave this out
  getToken: () => process.env.DIMINUENDO_TOKEN,
});

client.onState((state) => console.log(`connection: ${state}`));

try {
  const me = await client.connect();
  console.log(`authenticated as ${me.userId} (tenant ${me.tenantId})`);

  const session = await client.createSession({ agentType: "echo", name: "typescript example" });
  const snapshot = await client.join(session.id);
  console.log(`joined ${session.id}: ${snapshot.state}, latestSeq ${snapshot.latestSeq}`);

  // Subscribe before starting the turn so that no event is missed.
  const events = client.events(session.id);
  await client.runTurn(session.id, "Hello from Node");
  for await (const ev of events) {
    if ("seq" in ev) console.log(`#${ev.seq} ${ev.type}${"text" in ev ? ` ${JSON.stringify(ev.text)}` : ""}`);
    else console.log(`   ${ev.type}${ev.type === "session_state" ? ` ${ev.previousState} -> ${ev.state}` : ""}`);
    if (ev.type === "turn_complete") {
      console.log(`final text: ${ev.finalText}`);
      break;
    }
    if (ev.type === "turn_error") throw new Error(`turn failed: ${ev.code} ${ev.message}`);
  }
} catch (e) {
  if (e instanceof DiminuendoError) console.error(`refused: ${e.code}: ${e.message}`);
  else console.error(e);
  process.exitCode = 1;
} finally {
  client.close();
}
