import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { DiminuendoClient, type ConnectionState, type SessionEvent } from "../src/index.js";
import { startFabricSim, startGateway, type Fabric, type Gateway } from "./gateway.js";

/** Waits until cond holds, checking every 10 ms, or fails after ms. */
async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("a gateway restarted under a running turn", () => {
  let fabric: Fabric;
  const gateways: Gateway[] = [];
  let client: DiminuendoClient | undefined;

  before(async () => {
    // Slow enough that the turn is still running across the restart.
    fabric = await startFabricSim("40ms");
  });
  after(async () => {
    client?.close();
    for (const gw of gateways) await gw.stop();
    await fabric?.stop();
  });

  it("reconnects after close 1012 and resumes the turn with every seq once", async () => {
    const first = await startGateway({ ...fabric.env, SHUTDOWN_DRAIN: "1s" });
    gateways.push(first);

    const closes: number[] = [];
    class Recording extends WebSocket {
      constructor(url: string) {
        super(url);
        this.on("close", (code: number) => closes.push(code));
      }
    }
    const c = new DiminuendoClient({
      url: first.wsUrl,
      WebSocket: Recording,
      minBackoffMs: 20,
      maxBackoffMs: 200,
      requestTimeoutMs: 10_000,
    });
    client = c;
    const states: ConnectionState[] = [];
    c.onState((s) => states.push(s));
    const seen: SessionEvent[] = [];
    c.on((ev) => {
      if (typeof (ev as { seq?: unknown }).seq === "number") seen.push(ev as SessionEvent);
    });

    await c.connect();
    const session = await c.createSession({ agentType: "coding-agent" });
    const snap = await c.join(session.id);
    await c.runTurn(session.id, "survive a restart", "ct-restart");
    await until(() => seen.length >= 3, "the turn under way");
    assert.ok(!seen.some((e) => e.type === "turn_complete"), "the turn is still running");

    // SIGTERM: the gateway tells its clients to reconnect (1012) and exits; a new process takes its address.
    await first.stop();
    gateways.push(await startGateway({ ...fabric.env }, { port: first.port }));

    await until(() => seen.some((e) => e.type === "turn_complete"), "the turn's end on the new gateway");
    assert.equal(closes[0], 1012);
    assert.ok(states.includes("reconnecting"), states.join(","));
    assert.equal(c.state, "open");

    const seqs = seen.map((e) => e.seq);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
      "gapless, no duplicates",
    );
    const page = await c.getEvents(session.id, 0);
    assert.equal(page.epoch, snap.epoch);
    assert.deepEqual(
      page.events.map((e) => `${e.seq}:${e.type}`),
      seen.map((e) => `${e.seq}:${e.type}`),
    );
  });
});
