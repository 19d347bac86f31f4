// The official ACP SDK drives GET /acp of a real gateway (dev mode, the
// embedded simulated upstreams).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { acp, agentText, connect, rawSocket, startGateway, until, updatesOf, validate, reportValidation, validation } from "./harness.js";

let gw;
before(async () => {
  gw = await startGateway();
});
after(async () => {
  await gw?.stop();
});

const newSession = (c, meta) => c.agent.request(acp.methods.agent.session.new, { cwd: "/work/project", mcpServers: [], ...(meta ? { _meta: meta } : {}) });
const prompt = (c, sessionId, text) => c.agent.request(acp.methods.agent.session.prompt, { sessionId, prompt: [{ type: "text", text }] });
const seqOf = (u) => u._meta?.diminuendo?.seq;

describe("initialize and session/new", () => {
  test("negotiates version 1 and advertises load, list, resume, close and delete", async () => {
    const c = await connect(gw.acpUrl);
    try {
      assert.equal(c.init.protocolVersion, 1);
      const caps = c.init.agentCapabilities;
      assert.equal(caps.loadSession, true);
      for (const k of ["list", "resume", "close", "delete"]) assert.ok(caps.sessionCapabilities[k], k);
      assert.equal(caps.promptCapabilities.embeddedContext, true);
      assert.equal(c.init.agentInfo.name, "diminuendo");
    } finally {
      c.close();
    }
  });

  test("session/new defaults to coding-agent and offers the platform's agent types as a config option", async () => {
    const c = await connect(gw.acpUrl);
    try {
      const s = await newSession(c);
      const opt = s.configOptions.find((o) => o.id === "agent_type");
      assert.equal(opt.type, "select");
      assert.equal(opt.currentValue, "coding-agent");
      assert.deepEqual(opt.options.map((o) => o.value).sort(), ["coding-agent", "echo", "guarded-agent"]);
      const e = await newSession(c, { diminuendo: { agentType: "echo" } });
      assert.equal(e.configOptions[0].currentValue, "echo");
      const set = await c.agent.request(acp.methods.agent.session.setConfigOption, { sessionId: s.sessionId, configId: "agent_type", value: "echo" });
      assert.equal(set.configOptions[0].currentValue, "echo");
      assert.equal((await prompt(c, s.sessionId, "ping back")).stopReason, "end_turn");
      assert.equal(agentText(updatesOf(c, s.sessionId)), "ping back");
      // Once the session ran, its agent is fixed.
      await assert.rejects(
        c.agent.request(acp.methods.agent.session.setConfigOption, { sessionId: s.sessionId, configId: "agent_type", value: "coding-agent" }),
        (e) => e.code === -32003 && e.data?.code === "INVALID_STATE",
      );
      await assert.rejects(
        c.agent.request(acp.methods.agent.session.setConfigOption, { sessionId: s.sessionId, configId: "agent_type", value: "no-such-agent" }),
        (e) => e.code === -32602 && e.data?.code === "INVALID_MESSAGE",
      );
    } finally {
      c.close();
    }
  });
});

describe("session/prompt", () => {
  test("a coding-agent turn streams updates matching the mapping table, then answers end_turn", async () => {
    const c = await connect(gw.acpUrl);
    try {
      const { sessionId } = await newSession(c);
      const res = await prompt(c, sessionId, "write a note");
      // The answer comes after every update of the turn: they are all here.
      const ups = updatesOf(c, sessionId);
      assert.equal(res.stopReason, "end_turn");
      const last = res._meta.diminuendo.seq;
      const kinds = new Set(ups.map((u) => u.sessionUpdate));
      for (const k of ["agent_thought_chunk", "tool_call", "tool_call_update", "usage_update", "agent_message_chunk"]) assert.ok(kinds.has(k), k);
      assert.ok(!kinds.has("user_message_chunk"), "a live prompt is not echoed back");
      assert.equal(
        ups.filter((u) => u.sessionUpdate === "agent_thought_chunk").map((u) => u.content.text).join(""),
        "Reading the request. I will record it in notes.md.",
      );
      assert.equal(agentText(ups), "Done. I saved your request to notes.md (iteration 1).");
      const call = ups.find((u) => u.sessionUpdate === "tool_call" && u.toolCallId === "call_turn_1");
      assert.equal(call.kind, "edit");
      assert.equal(call.status, "pending");
      const input = ups.find((u) => u.toolCallId === "call_turn_1" && u.rawInput);
      assert.deepEqual(input.rawInput, { path: "notes.md", content: "# Notes\n\nwrite a note\n" });
      assert.deepEqual(input.locations, [{ path: "notes.md" }]);
      assert.deepEqual(input.content, [{ type: "diff", path: "notes.md", oldText: null, newText: "# Notes\n\nwrite a note\n" }]);
      const result = ups.find((u) => u.toolCallId === "call_turn_1" && u.status === "completed");
      const body = "# Notes\n\nwrite a note\n";
      assert.equal(result.rawOutput, `wrote ${body.length} bytes to notes.md (iteration 1)`);
      const term = ups.filter((u) => u.toolCallId?.startsWith("term_"));
      assert.equal(term[0].sessionUpdate, "tool_call");
      assert.equal(term[0].kind, "execute");
      assert.equal(term.at(-2).content[0].content.text, "```\n$ wc -c notes.md\n" + body.length + " notes.md\n```");
      assert.equal(term.at(-1).status, "completed");
      const usage = ups.filter((u) => u.sessionUpdate === "usage_update");
      assert.ok(usage.length >= 2 && usage.every((u) => u.used > 0));
      // Nothing dropped: every event of the turn is accounted for, in order.
      const seqs = [...new Set(ups.map(seqOf).filter((s) => s !== undefined))];
      assert.deepEqual(seqs, Array.from({ length: last }, (_, i) => i + 1));
      assert.ok(ups.some((u) => u.sessionUpdate === "session_info_update" && u._meta.diminuendo.event === "turn_started"));
    } finally {
      c.close();
    }
  });

  test("terminal output uses the _meta terminal convention when the client advertises it", async () => {
    const c = await connect(gw.acpUrl, { caps: { _meta: { terminal_output: true } } });
    try {
      const { sessionId } = await newSession(c);
      await prompt(c, sessionId, "run it");
      const term = updatesOf(c, sessionId).filter((u) => u.toolCallId?.startsWith("term_"));
      assert.equal(term[0].content[0].type, "terminal");
      assert.equal(term[0]._meta.terminal_info.terminal_id, term[0].toolCallId);
      assert.equal(term.filter((u) => u._meta.terminal_output).map((u) => u._meta.terminal_output.data).join(""), `$ wc -c notes.md\n${"# Notes\n\nrun it\n".length} notes.md\n`);
      assert.equal(term.at(-1)._meta.terminal_exit.exit_code, 0);
    } finally {
      c.close();
    }
  });

  test("guarded-agent: a permission allowed, then rejected, then cancelled (a denial)", async () => {
    const c = await connect(gw.acpUrl);
    try {
      const { sessionId } = await newSession(c, { diminuendo: { agentType: "guarded-agent" } });
      assert.equal((await prompt(c, sessionId, "first")).stopReason, "end_turn");
      assert.equal(c.permissions.length, 1);
      const req = c.permissions[0];
      assert.equal(req.sessionId, sessionId);
      assert.deepEqual(req.options.map((o) => o.kind), ["allow_once", "reject_once"]);
      assert.equal(req.toolCall.title, "Write notes.md in the workspace");
      let ups = updatesOf(c, sessionId);
      assert.ok(ups.some((u) => u.toolCallId === "call_turn_1"), "the tool ran");
      assert.equal(ups.find((u) => u.toolCallId === req.toolCall.toolCallId && u.sessionUpdate === "tool_call_update").status, "completed");

      c.onPermission = async () => ({ outcome: { outcome: "selected", optionId: "reject_once" } });
      const before = c.updates.length;
      assert.equal((await prompt(c, sessionId, "second")).stopReason, "end_turn");
      ups = c.updates.slice(before).map((u) => u.update);
      assert.equal(agentText(ups), "I did not run write_file: permission was not granted.");
      assert.ok(!ups.some((u) => u.toolCallId === "call_turn_2"), "the tool did not run");
      assert.equal(ups.find((u) => u.toolCallId === c.permissions[1].toolCall.toolCallId && u.sessionUpdate === "tool_call_update").status, "failed");

      c.onPermission = async () => ({ outcome: { outcome: "cancelled" } });
      const mark = c.updates.length;
      assert.equal((await prompt(c, sessionId, "third")).stopReason, "end_turn");
      assert.equal(agentText(c.updates.slice(mark).map((u) => u.update)), "I did not run write_file: permission was not granted.");
    } finally {
      c.close();
    }
  });

  test("session/cancel stops the turn and the prompt ends cancelled", async () => {
    const c = await connect(gw.acpUrl);
    try {
      const { sessionId } = await newSession(c, { diminuendo: { agentType: "guarded-agent" } });
      let asked;
      const waiting = new Promise((r) => (asked = r));
      // The client holds the permission open, cancels, then answers cancelled as ACP asks.
      c.onPermission = async () => {
        asked();
        await waiting.then(() => c.agent.notify(acp.methods.agent.session.cancel, { sessionId }));
        return { outcome: { outcome: "cancelled" } };
      };
      const res = await prompt(c, sessionId, "never mind");
      assert.equal(res.stopReason, "cancelled");
      // And a cancel that comes before the turn has started also wins.
      const p = prompt(c, sessionId, "stop at once");
      await c.agent.notify(acp.methods.agent.session.cancel, { sessionId });
      assert.equal((await p).stopReason, "cancelled");
    } finally {
      c.close();
    }
  });

  test("prompt content: a resource link and an embedded text resource become the turn's text; images are refused", async () => {
    const c = await connect(gw.acpUrl);
    try {
      const { sessionId } = await newSession(c, { diminuendo: { agentType: "echo" } });
      await c.agent.request(acp.methods.agent.session.prompt, {
        sessionId,
        prompt: [
          { type: "text", text: "look at" },
          { type: "resource_link", uri: "file:///work/a.go", name: "a.go" },
          { type: "resource", resource: { uri: "file:///work/b.txt", text: "bee" } },
        ],
      });
      assert.equal(agentText(updatesOf(c, sessionId)), "look at\n\nfile:///work/a.go\n\nfile:///work/b.txt\n```\nbee\n```");
      await assert.rejects(
        c.agent.request(acp.methods.agent.session.prompt, { sessionId, prompt: [{ type: "image", data: "AAAA", mimeType: "image/png" }] }),
        (e) => e.code === -32602 && e.data?.code === "INVALID_MESSAGE",
      );
    } finally {
      c.close();
    }
  });
});

describe("sessions", () => {
  test("session/load after a dropped connection replays everything once, then the live rest of the turn", async () => {
    const a = await connect(gw.acpUrl);
    const { sessionId } = await newSession(a);
    await prompt(a, sessionId, "one");
    const second = prompt(a, sessionId, "two").catch(() => "dropped");
    await until(() => updatesOf(a, sessionId).some((u) => u._meta?.diminuendo?.turnId === "turn_2" && u.sessionUpdate === "tool_call"), 10_000, "turn 2 mid-way");
    a.close(); // dropped mid-turn
    assert.equal(await second, "dropped");

    const b = await connect(gw.acpUrl);
    try {
      await b.agent.request(acp.methods.agent.session.load, { sessionId, cwd: "/work/project", mcpServers: [] });
      await until(() => updatesOf(b, sessionId).some((u) => u._meta?.diminuendo?.event === "turn_complete" && u._meta.diminuendo.turnId === "turn_2"), 15_000, "turn 2 to end");
      const ups = updatesOf(b, sessionId);
      const users = ups.filter((u) => u.sessionUpdate === "user_message_chunk").map((u) => u.content.text);
      assert.deepEqual(users, ["one", "two"]);
      assert.equal(agentText(ups), "Done. I saved your request to notes.md (iteration 1).Done. I saved your request to notes.md (iteration 2).");
      const seqs = ups.map(seqOf).filter((s) => s !== undefined);
      const distinct = [...new Set(seqs)];
      assert.deepEqual(distinct, Array.from({ length: distinct.length }, (_, i) => i + 1), "no gap, in order");
      // Nothing doubled: each event's updates appear once.
      const keys = ups.filter((u) => seqOf(u) !== undefined).map((u) => `${seqOf(u)}/${u.sessionUpdate}/${u.toolCallId ?? ""}`);
      assert.equal(new Set(keys).size, keys.length);
    } finally {
      b.close();
    }
  });

  test("a permission left open by a dropped client is asked again of the client that loads the session", async () => {
    const a = await connect(gw.acpUrl);
    const { sessionId } = await newSession(a, { diminuendo: { agentType: "guarded-agent" } });
    a.onPermission = () => new Promise(() => {}); // never answered
    const first = prompt(a, sessionId, "hold on").catch(() => "dropped");
    await until(() => a.permissions.length === 1, 10_000, "the permission request");
    a.close();
    assert.equal(await first, "dropped");

    const b = await connect(gw.acpUrl);
    try {
      await b.agent.request(acp.methods.agent.session.load, { sessionId, cwd: "/work/project", mcpServers: [] });
      await until(() => b.permissions.length === 1, 10_000, "the permission asked again");
      assert.equal(b.permissions[0].toolCall.toolCallId, a.permissions[0].toolCall.toolCallId);
      await until(() => updatesOf(b, sessionId).some((u) => u._meta?.diminuendo?.event === "turn_complete"), 10_000, "the turn to end");
      const ups = updatesOf(b, sessionId);
      assert.equal(agentText(ups), "Done. I saved your request to notes.md (iteration 1).");
      assert.equal(ups.find((u) => u._meta?.diminuendo?.event === "turn_complete")._meta.diminuendo.stopReason, "end_turn");
    } finally {
      b.close();
    }
  });

  test("list, close and delete", async () => {
    const c = await connect(gw.acpUrl);
    try {
      const { sessionId } = await newSession(c, { diminuendo: { agentType: "echo", name: "listed" } });
      await prompt(c, sessionId, "hello");
      let list = await c.agent.request(acp.methods.agent.session.list, {});
      const info = list.sessions.find((s) => s.sessionId === sessionId);
      assert.equal(info.title, "listed");
      assert.equal(info.cwd, "/work/project");
      assert.equal(info._meta.diminuendo.agentType, "echo");
      await c.agent.request(acp.methods.agent.session.close, { sessionId });
      list = await c.agent.request(acp.methods.agent.session.list, {});
      assert.ok(list.sessions.some((s) => s.sessionId === sessionId), "a closed session stays");
      await c.agent.request(acp.methods.agent.session.resume, { sessionId, cwd: "/work/project" });
      assert.equal((await prompt(c, sessionId, "again")).stopReason, "end_turn");
      await c.agent.request(acp.methods.agent.session.delete, { sessionId });
      list = await c.agent.request(acp.methods.agent.session.list, {});
      assert.ok(!list.sessions.some((s) => s.sessionId === sessionId), "a deleted session is gone");
      await assert.rejects(
        c.agent.request(acp.methods.agent.session.load, { sessionId, cwd: "/", mcpServers: [] }),
        (e) => e.code === -32002 && e.data?.code === "SESSION_NOT_FOUND",
      );
    } finally {
      c.close();
    }
  });
});

describe("malformed JSON-RPC", () => {
  test("each gets the right JSON-RPC error code", async () => {
    const s = await rawSocket(gw.acpUrl);
    try {
      s.send("{not json");
      let m = await s.next();
      assert.equal(m.error.code, -32700);
      assert.equal(m.id, null);
      s.send([{ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: 1 } }]);
      m = await s.next();
      assert.equal(m.error.code, -32600);
      assert.equal(m.id, null);
      s.send({ id: 2, method: "initialize", params: { protocolVersion: 1 } });
      m = await s.next();
      assert.equal(m.error.code, -32600);
      s.send({ jsonrpc: "2.0", id: 3, method: "session/new", params: { cwd: "/", mcpServers: [] } });
      m = await s.next();
      assert.equal(m.error.code, -32600, "initialize comes first");
      s.send({ jsonrpc: "2.0", id: 4, method: "initialize", params: { protocolVersion: "one" } });
      m = await s.next();
      assert.equal(m.error.code, -32602);
      s.send({ jsonrpc: "2.0", id: 5, method: "initialize", params: { protocolVersion: 1 } });
      m = await s.next();
      assert.equal(m.result.protocolVersion, 1);
      s.send({ jsonrpc: "2.0", id: 6, method: "session/fly", params: {} });
      m = await s.next();
      assert.equal(m.error.code, -32601);
      assert.equal(m.id, 6);
      s.send({ jsonrpc: "2.0", id: "seven", method: "session/new", params: { mcpServers: [] } });
      m = await s.next();
      assert.equal(m.error.code, -32602);
      assert.equal(m.id, "seven");
      assert.equal(m.error.data.code, "INVALID_MESSAGE");
      s.send({ jsonrpc: "2.0", id: 8, method: "session/prompt", params: { sessionId: "ses_nope", prompt: [{ type: "text", text: "x" }] } });
      m = await s.next();
      assert.equal(m.error.code, -32002);
      assert.equal(m.error.data.code, "SESSION_NOT_FOUND");
      s.send({ jsonrpc: "2.0", method: "no/such/notification", params: {} }); // ignored, as JSON-RPC asks
      s.send({ jsonrpc: "2.0", id: 9, method: "session/list" });
      m = await s.next();
      assert.ok(Array.isArray(m.result.sessions));
    } finally {
      s.close();
    }
  });
});

test("the schema check catches a message that breaks the schema", () => {
  const before = { checked: validation.checked, failures: validation.failures.length };
  validate({ jsonrpc: "2.0", method: "session/update", params: { sessionId: "s", update: { sessionUpdate: "agent_message_chunk" } } });
  validate({ jsonrpc: "2.0", id: 1, result: { stopReason: "error" } }, "session/prompt");
  assert.equal(validation.failures.length - before.failures, 2);
  validation.failures.splice(before.failures);
  validation.checked = before.checked;
});

test("every message the gateway sent on /acp matches the ACP schema of the SDK", (t) => {
  reportValidation(t, "acp");
  assert.ok(validation.checked > 100, `only ${validation.checked} messages checked`);
  assert.deepEqual(validation.failures.slice(0, 3), []);
});
