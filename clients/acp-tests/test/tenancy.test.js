// /acp outside dev mode: tokens from the local identity provider, the
// simulated upstreams in their own process so sessions outlive a gateway
// restart.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { acp, agentText, connect, rawSocket, startFabricSim, startGateway, startIdp, until, updatesOf, reportValidation, validation } from "./harness.js";

let fabric, idp, gw;
before(async () => {
  fabric = await startFabricSim("5ms");
  idp = await startIdp();
  gw = await startGateway({ ...fabric.env, ...idp.env });
});
after(async () => {
  await gw?.stop();
  await idp?.stop();
  await fabric?.stop();
});

const cwd = "/work/project";
const newSession = (c, agentType = "coding-agent") => c.agent.request(acp.methods.agent.session.new, { cwd, mcpServers: [], _meta: { diminuendo: { agentType } } });
const prompt = (c, sessionId, text) => c.agent.request(acp.methods.agent.session.prompt, { sessionId, prompt: [{ type: "text", text }] });

describe("authentication", () => {
  test("no socket without a valid token", async () => {
    await assert.rejects(rawSocket(gw.acpUrl), (e) => e.status === 401);
    await assert.rejects(rawSocket(gw.acpUrl, { Authorization: "Bearer not-a-token" }), (e) => e.status === 401);
    const token = idp.mint({ sub: "u1", tenant: "acme" });
    await assert.rejects(rawSocket(`${gw.acpUrl}?token=${token}`, {}), (e) => e.status === 401);
  });

  test("a token of another tenant sees nothing of this tenant's sessions", async () => {
    const a = await connect(gw.acpUrl, { token: idp.mint({ sub: "alice", tenant: "acme" }) });
    const b = await connect(gw.acpUrl, { token: idp.mint({ sub: "bob", tenant: "globex", role: "owner" }) });
    try {
      assert.equal(a.init._meta.diminuendo.tenantId, "acme");
      const { sessionId } = await newSession(a, "echo");
      assert.equal((await prompt(a, sessionId, "secret")).stopReason, "end_turn");
      const notFound = (e) => e.code === -32002 && e.data?.code === "SESSION_NOT_FOUND";
      await assert.rejects(b.agent.request(acp.methods.agent.session.load, { sessionId, cwd, mcpServers: [] }), notFound);
      await assert.rejects(b.agent.request(acp.methods.agent.session.resume, { sessionId, cwd }), notFound);
      await assert.rejects(prompt(b, sessionId, "let me in"), notFound);
      // The SDK reports -32002 to session/delete and session/close as done
      // (the session is gone either way): the gateway's answer is checked.
      await b.agent.request(acp.methods.agent.session.delete, { sessionId });
      await b.agent.request(acp.methods.agent.session.close, { sessionId });
      const answers = b.received.slice(-2);
      assert.deepEqual(answers.map((m) => [m.error?.code, m.error?.data?.code]), [[-32002, "SESSION_NOT_FOUND"], [-32002, "SESSION_NOT_FOUND"]]);
      await assert.rejects(
        b.agent.request(acp.methods.agent.session.setConfigOption, { sessionId, configId: "agent_type", value: "echo" }),
        notFound,
      );
      const listed = await b.agent.request(acp.methods.agent.session.list, {});
      assert.ok(!listed.sessions.some((s) => s.sessionId === sessionId));
      assert.ok(!updatesOf(b, sessionId).length, "nothing of it reached the other tenant");
      // The owner still has it whole.
      assert.ok((await a.agent.request(acp.methods.agent.session.list, {})).sessions.some((s) => s.sessionId === sessionId));
    } finally {
      a.close();
      b.close();
    }
  });

  test("roles apply as on /ws: a viewer cannot create or prompt", async () => {
    const owner = await connect(gw.acpUrl, { token: idp.mint({ sub: "olga", tenant: "acme", role: "owner" }) });
    const viewer = await connect(gw.acpUrl, { token: idp.mint({ sub: "vic", tenant: "acme", role: "viewer" }) });
    try {
      const forbidden = (e) => e.code === -32001 && e.data?.code === "FORBIDDEN";
      await assert.rejects(newSession(viewer), forbidden);
      const { sessionId } = await newSession(owner, "echo");
      await prompt(owner, sessionId, "shared");
      await viewer.agent.request(acp.methods.agent.session.load, { sessionId, cwd, mcpServers: [] });
      assert.equal(agentText(updatesOf(viewer, sessionId)), "shared");
      await assert.rejects(prompt(viewer, sessionId, "mine now"), forbidden);
    } finally {
      owner.close();
      viewer.close();
    }
  });
});

describe("restart", () => {
  test("session/load after a gateway restart replays the whole history from the platform", async () => {
    const token = idp.mint({ sub: "rita", tenant: "acme" });
    const a = await connect(gw.acpUrl, { token });
    const { sessionId } = await newSession(a);
    await prompt(a, sessionId, "before the restart");
    const before = updatesOf(a, sessionId).filter((u) => u._meta?.diminuendo?.seq !== undefined);
    a.close();

    const port = gw.port;
    await gw.stop();
    gw = await startGateway({ ...fabric.env, ...idp.env }, { port });

    const b = await connect(gw.acpUrl, { token });
    try {
      await b.agent.request(acp.methods.agent.session.load, { sessionId, cwd, mcpServers: [] });
      const ups = updatesOf(b, sessionId);
      assert.deepEqual(ups.filter((u) => u.sessionUpdate === "user_message_chunk").map((u) => u.content.text), ["before the restart"]);
      assert.equal(agentText(ups), "Done. I saved your request to notes.md (iteration 1).");
      // The same events, in the same order, as first streamed live (the
      // live prompt's own message travels only in _meta).
      const shape = (u) => `${u._meta.diminuendo.seq}/${u.sessionUpdate}/${u.toolCallId ?? ""}`;
      const live = before.filter((u) => u._meta.diminuendo.event !== "user_message").map(shape);
      const replay = ups.filter((u) => u._meta?.diminuendo?.seq !== undefined && u._meta.diminuendo.event !== "user_message").map(shape);
      assert.deepEqual(replay, live);
      assert.equal((await prompt(b, sessionId, "after the restart")).stopReason, "end_turn");
      await until(() => agentText(updatesOf(b, sessionId)).endsWith("(iteration 2)."), 5000, "turn 2 text");
    } finally {
      b.close();
    }
  });
});

test("every message the gateway sent on /acp matches the ACP schema of the SDK", (t) => {
  reportValidation(t, "tenancy");
  assert.ok(validation.checked > 20, `only ${validation.checked} messages checked`);
  assert.deepEqual(validation.failures.slice(0, 3), []);
});
