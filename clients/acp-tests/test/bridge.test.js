// cmd/diminuendo-acp between the official SDK (over stdio, as an editor
// launches it) and /acp of real gateways.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { after, before, describe, test } from "node:test";

import { acp, agentText, binary, connect, startFabricSim, startGateway, startIdp, updatesOf, reportValidation, validation } from "./harness.js";

/** The bridge as an editor runs it: a child process speaking ACP on stdio. */
function startBridge(env) {
  const child = spawn(binary("diminuendo-acp", "DIMINUENDO_ACP_BIN"), [], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let log = "";
  child.stderr.on("data", (b) => {
    log = (log + b.toString()).slice(-20_000);
  });
  const stream = acp.ndJsonStream(Writable.toWeb(child.stdin), Readable.toWeb(child.stdout));
  return {
    stream,
    log: () => log,
    stop() {
      child.stdin.end();
      child.kill("SIGTERM");
      // A bridge built with -race reports data races on stderr.
      if (log.includes("WARNING: DATA RACE")) throw new Error(`the bridge reported a data race:\n${log}`);
    },
  };
}

const cwd = "/work/project";
const prompt = (c, sessionId, text) => c.agent.request(acp.methods.agent.session.prompt, { sessionId, prompt: [{ type: "text", text }] });
const seqOf = (u) => u._meta?.diminuendo?.seq;

describe("through the stdio bridge", () => {
  let fabric, gw;
  before(async () => {
    // Slow steps, so a turn is still running while the gateway restarts.
    fabric = await startFabricSim("40ms");
    gw = await startGateway({ ...fabric.env });
  });
  after(async () => {
    await gw?.stop();
    await fabric?.stop();
  });

  test("a coding-agent turn and a permission, as over /acp", async () => {
    const br = startBridge({ DIMINUENDO_URL: gw.acpUrl });
    const c = await connect(undefined, { stream: br.stream });
    try {
      assert.equal(c.init.agentCapabilities.loadSession, true);
      const { sessionId } = await c.agent.request(acp.methods.agent.session.new, { cwd, mcpServers: [], _meta: { diminuendo: { agentType: "guarded-agent" } } });
      assert.equal((await prompt(c, sessionId, "via the bridge")).stopReason, "end_turn");
      assert.equal(c.permissions.length, 1);
      const ups = updatesOf(c, sessionId);
      assert.equal(agentText(ups), "Done. I saved your request to notes.md (iteration 1).");
      assert.ok(ups.some((u) => u.sessionUpdate === "tool_call" && u.toolCallId === "call_turn_1"));
    } finally {
      c.close();
      br.stop();
    }
  });

  test("the gateway restarts mid-prompt: the bridge reconnects and the prompt ends right, with nothing doubled or missing", async (t) => {
    const br = startBridge({ DIMINUENDO_URL: gw.acpUrl });
    const c = await connect(undefined, { stream: br.stream });
    try {
      const { sessionId } = await c.agent.request(acp.methods.agent.session.new, { cwd, mcpServers: [] });
      const done = prompt(c, sessionId, "survive this");
      const deadline = Date.now() + 10_000;
      while (!updatesOf(c, sessionId).some((u) => u.sessionUpdate === "agent_thought_chunk")) {
        assert.ok(Date.now() < deadline, "the turn started");
        await new Promise((r) => setTimeout(r, 10));
      }
      const port = gw.port;
      await gw.stop();
      const seenDuringOutage = updatesOf(c, sessionId).length;
      gw = await startGateway({ ...fabric.env }, { port });
      const res = await done;
      assert.equal(res.stopReason, "end_turn");
      const ups = updatesOf(c, sessionId);
      t.diagnostic(`updates before the restart: ${seenDuringOutage}, after: ${ups.length - seenDuringOutage}`);
      assert.ok(ups.length > seenDuringOutage, "updates came after the restart");
      assert.equal(agentText(ups), "Done. I saved your request to notes.md (iteration 1).");
      assert.ok(!ups.some((u) => u.sessionUpdate === "user_message_chunk"), "the editor's own message is not shown again");
      const sequenced = ups.filter((u) => seqOf(u) !== undefined);
      const distinct = [...new Set(sequenced.map(seqOf))];
      assert.deepEqual(distinct, Array.from({ length: distinct.length }, (_, i) => i + 1), "no gap, in order");
      const keys = sequenced.map((u) => `${seqOf(u)}/${u.sessionUpdate}/${u.toolCallId ?? ""}/${u._meta.diminuendo.event}`);
      assert.equal(new Set(keys).size, keys.length, "nothing doubled");
      assert.ok(sequenced.some((u) => u._meta.diminuendo.event === "turn_complete"));
      // The session goes on over the new connection.
      assert.equal((await prompt(c, sessionId, "and after")).stopReason, "end_turn");
    } finally {
      c.close();
      br.stop();
    }
  });

  for (const when of ["during the outage", "after the reconnection"]) {
    test(`a permission open across a gateway restart, answered ${when}, reaches the agent once`, async () => {
      const br = startBridge({ DIMINUENDO_URL: gw.acpUrl, DIMINUENDO_ACP_DEBUG: "1" });
      const c = await connect(undefined, { stream: br.stream });
      try {
        const { sessionId } = await c.agent.request(acp.methods.agent.session.new, { cwd, mcpServers: [], _meta: { diminuendo: { agentType: "guarded-agent" } } });
        let answer, asked;
        const askedP = new Promise((r) => (asked = r));
        const answered = new Promise((r) => (answer = r));
        c.onPermission = async () => {
          asked();
          await answered;
          return { outcome: { outcome: "selected", optionId: "allow_once" } };
        };
        const done = prompt(c, sessionId, "across");
        await askedP;
        const port = gw.port;
        await gw.stop();
        if (when === "during the outage") answer();
        gw = await startGateway({ ...fabric.env }, { port });
        if (when !== "during the outage") {
          // The bridge reconnects, reloads, and the gateway asks again: the
          // editor's open request stands for both.
          const deadline = Date.now() + 15_000;
          while (!br.log().includes("the editor's open request stands for it")) {
            assert.ok(Date.now() < deadline, `the bridge did not link the prompt asked again:\n${br.log()}`);
            await new Promise((r) => setTimeout(r, 20));
          }
          answer();
        }
        assert.equal((await done).stopReason, "end_turn");
        assert.equal(c.permissions.length, 1, "the editor was asked once");
        const ups = updatesOf(c, sessionId);
        assert.equal(agentText(ups), "Done. I saved your request to notes.md (iteration 1).");
        assert.ok(ups.some((u) => u.toolCallId === "call_turn_1"), "the tool ran");
      } finally {
        c.close();
        br.stop();
      }
    });
  }
});

describe("bridge tokens", () => {
  let idp, gw;
  before(async () => {
    idp = await startIdp();
    gw = await startGateway(idp.env);
  });
  after(async () => {
    await gw?.stop();
    await idp?.stop();
  });

  test("a token command is run for the connection; a refused token is an authentication error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "diminuendo-acp-token-"));
    const file = join(dir, "token");
    writeFileSync(file, idp.mint({ sub: "tom", tenant: "acme" }) + "\n");
    const br = startBridge({ DIMINUENDO_URL: gw.acpUrl, DIMINUENDO_TOKEN_COMMAND: `cat ${file}` });
    const c = await connect(undefined, { stream: br.stream });
    try {
      assert.equal(c.init._meta.diminuendo.userId, "tom");
      const { sessionId } = await c.agent.request(acp.methods.agent.session.new, { cwd, mcpServers: [], _meta: { diminuendo: { agentType: "echo" } } });
      assert.equal((await prompt(c, sessionId, "hi")).stopReason, "end_turn");
    } finally {
      c.close();
      br.stop();
    }
    const bad = startBridge({ DIMINUENDO_URL: gw.acpUrl, DIMINUENDO_TOKEN: "not-a-token" });
    try {
      await assert.rejects(connect(undefined, { stream: bad.stream }), (e) => e.code === -32000 && e.data?.code === "AUTH_FAILED");
    } finally {
      bad.stop();
    }
  });
});

test("every message the editor got through the bridge matches the ACP schema of the SDK", (t) => {
  reportValidation(t, "bridge");
  assert.ok(validation.checked > 50, `only ${validation.checked} messages checked`);
  assert.deepEqual(validation.failures.slice(0, 3), []);
});
