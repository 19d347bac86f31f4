// Test harness: real gateway processes built from this checkout, the local
// identity provider, the simulated upstreams as their own process, and ACP
// clients made with the official SDK whose every received message is
// checked against the ACP JSON schema shipped in that SDK.
import { execFileSync, spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import * as acp from "@agentclientprotocol/sdk";
import { createWebSocketStream } from "@agentclientprotocol/sdk/experimental/ws-client";
import Ajv2020 from "ajv/dist/2020.js";
import WebSocket from "ws";

export { acp };

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const binDir = mkdtempSync(join(tmpdir(), "diminuendo-acp-bin-"));

/** The binary named by envVar, or one built from ./cmd/<name> of this checkout. */
export function binary(name, envVar) {
  if (process.env[envVar]) return resolve(process.env[envVar]);
  const out = join(binDir, name);
  try {
    readFileSync(out);
  } catch {
    execFileSync("go", ["build", "-o", out, `./cmd/${name}`], { cwd: repoRoot, stdio: "inherit", timeout: 300_000 });
  }
  return out;
}

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const port = srv.address().port;
      srv.close(() => res(port));
    });
  });
}

async function waitReady(url, child, log, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url} exited with ${child.exitCode}:\n${log()}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms:\n${log()}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

function spawnLogged(bin, args, opts) {
  const child = spawn(bin, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (b) => {
    output = (output + b.toString()).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  return { child, log: () => output };
}

/** A gateway process in dev mode unless env says otherwise; opts.port reuses a port (a restart). */
export async function startGateway(env = {}, opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), "diminuendo-acp-gw-"));
  const bin = binary("diminuendo", "DIMINUENDO_BIN");
  const port = opts.port ?? (await freePort());
  const { child, log } = spawnLogged(bin, [], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? "",
      DEV_MODE: "true",
      HOST: "127.0.0.1",
      PORT: String(port),
      SIM_STEP_DELAY: "5ms",
      DATA_DIR: join(dir, "data"),
      LOG_LEVEL: "warn",
      SHUTDOWN_DRAIN: "1s",
      ...env,
    },
  });
  const httpUrl = `http://127.0.0.1:${port}`;
  try {
    await waitReady(`${httpUrl}/readyz`, child, log, 30_000);
  } catch (e) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    port,
    httpUrl,
    acpUrl: `ws://127.0.0.1:${port}/acp`,
    log,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
      // A gateway built with -race reports data races on stderr.
      if (log().includes("WARNING: DATA RACE")) throw new Error(`the gateway reported a data race:\n${log()}`);
    },
  };
}

/** The local identity provider (cmd/mint-token -serve). */
export async function startIdp() {
  const dir = mkdtempSync(join(tmpdir(), "diminuendo-acp-idp-"));
  const bin = binary("mint-token", "DIMINUENDO_MINT_TOKEN_BIN");
  const key = join(dir, "idp-key.pem");
  const port = await freePort();
  const { child, log } = spawnLogged(bin, ["-serve", `127.0.0.1:${port}`, "-key", key], { cwd: dir });
  const issuer = `http://127.0.0.1:${port}/`;
  await waitReady(`${issuer}.well-known/openid-configuration`, child, log, 30_000);
  const audience = "diminuendo";
  return {
    issuer,
    audience,
    env: { DEV_MODE: "false", AUTH0_DOMAIN: issuer, AUTH0_AUDIENCE: audience },
    mint(c) {
      const args = ["-key", key, "-issuer", issuer, "-aud", audience, "-sub", c.sub, "-tenant", c.tenant, "-role", c.role ?? "developer", "-ttl", c.ttl ?? "1h"];
      return execFileSync(bin, args, { cwd: dir, timeout: 10_000 }).toString().trim();
    },
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The simulated upstreams as their own process, so sessions outlive a gateway. */
export async function startFabricSim(stepDelay) {
  const dir = mkdtempSync(join(tmpdir(), "diminuendo-acp-fabric-"));
  const bin = binary("fabric-sim", "DIMINUENDO_FABRIC_SIM_BIN");
  const args = ["-podium", "127.0.0.1:0", "-unison", "127.0.0.1:0", "-ensemble", "127.0.0.1:0", "-step-delay", stepDelay];
  const child = spawn(bin, args, { cwd: dir, env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const urls = {};
  await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`fabric-sim printed no URLs:\n${output}`)), 30_000);
    child.once("exit", (code) => rej(new Error(`fabric-sim exited with ${code}:\n${output}`)));
    child.stdout.on("data", (b) => {
      output += b.toString();
      for (const line of output.split("\n")) {
        const [name, url] = line.trim().split(/\s+/);
        if (name && url?.startsWith("http")) urls[name] = url;
      }
      if (urls.podium && urls.unison && urls.ensemble) {
        clearTimeout(timer);
        res();
      }
    });
    child.stderr.on("data", (b) => {
      output = (output + b.toString()).slice(-20_000);
    });
  });
  return {
    env: { PODIUM_URL: urls.podium, UNISON_URL: urls.unison, ENSEMBLE_URL: urls.ensemble },
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- the ACP schema shipped in the SDK ----

const require = createRequire(import.meta.url);
const schema = JSON.parse(readFileSync(require.resolve("@agentclientprotocol/sdk/schema/v1/schema.json"), "utf8"));
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema(schema, "acp");
const agentMessage = ajv.compile({ $ref: "acp#/anyOf/0" });
const def = (name) => ajv.getSchema(`acp#/$defs/${name}`);

// What each answer to a client request must be, by the request's method.
const responseDefs = {
  initialize: "InitializeResponse",
  "session/new": "NewSessionResponse",
  "session/load": "LoadSessionResponse",
  "session/resume": "ResumeSessionResponse",
  "session/list": "ListSessionsResponse",
  "session/close": "CloseSessionResponse",
  "session/delete": "DeleteSessionResponse",
  "session/set_config_option": "SetSessionConfigOptionResponse",
  "session/prompt": "PromptResponse",
};
const requestDefs = { "session/update": "SessionNotification", "session/request_permission": "RequestPermissionRequest", "elicitation/create": "CreateElicitationRequest" };

/** Every message the gateway sent, checked; shared by every connection of this process. */
export const validation = { checked: 0, failures: [] };

/**
 * Reports this file's count (as a test diagnostic, and appended to the file
 * ACP_TALLY names, which make acp-test sums).
 */
export function reportValidation(t, file) {
  t.diagnostic(`ACP messages validated against @agentclientprotocol/sdk schema/v1/schema.json: ${validation.checked}`);
  if (process.env.ACP_TALLY) appendFileSync(process.env.ACP_TALLY, `${file} ${validation.checked}\n`);
}

/** Checks one message from the gateway; method is the method of the request it answers, if any. */
export function validate(msg, method) {
  validation.checked++;
  const fail = (what, errors) => validation.failures.push({ what, msg, errors: ajv.errorsText(errors) });
  if (!agentMessage(msg)) fail("not an ACP agent message", agentMessage.errors);
  let v;
  if (msg.method) v = requestDefs[msg.method] && def(requestDefs[msg.method]);
  else if (msg.error) v = def("Error");
  else if (method && responseDefs[method]) v = def(responseDefs[method]);
  else if (method) fail(`answer to ${method}, which the tests do not expect`, null);
  else fail("an answer to no request of the client", null);
  if (v && !v(msg.method ? msg.params : msg.error ?? msg.result)) fail(msg.method ?? `answer to ${method}`, v.errors);
}

/** Wraps an SDK stream so every message is seen (and validated) on its way. */
function tapped(stream, received) {
  const sent = new Map(); // request id -> method
  const out = new TransformStream({
    transform(msg, ctl) {
      if (msg.method && msg.id !== undefined) sent.set(msg.id, msg.method);
      ctl.enqueue(msg);
    },
  });
  out.readable.pipeTo(stream.writable).catch(() => {});
  const inbound = new TransformStream({
    transform(msg, ctl) {
      const method = msg.method ? undefined : sent.get(msg.id);
      validate(msg, method);
      received.push(msg);
      ctl.enqueue(msg);
    },
  });
  return { writable: out.writable, readable: stream.readable.pipeThrough(inbound) };
}

/**
 * An ACP client made with the SDK, initialized. Permission requests are
 * answered by client.onPermission (allow by default); session/update
 * notifications collect in client.updates.
 */
export async function connect(url, { token, caps = {}, stream } = {}) {
  const received = [];
  const s =
    stream ?? createWebSocketStream(url, { WebSocket, headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const client = {
    updates: [],
    permissions: [],
    received,
    onPermission: async () => ({ outcome: { outcome: "selected", optionId: "allow_once" } }),
  };
  const app = acp
    .client({ name: "diminuendo-acp-tests" })
    .onNotification(acp.methods.client.session.update, ({ params }) => {
      client.updates.push(params);
    })
    .onRequest(acp.methods.client.session.requestPermission, async ({ params }) => {
      client.permissions.push(params);
      return client.onPermission(params);
    });
  const conn = app.connect(tapped(s, received));
  client.conn = conn;
  client.agent = conn.agent;
  client.init = await conn.agent.request(acp.methods.agent.initialize, {
    protocolVersion: acp.PROTOCOL_VERSION,
    clientCapabilities: caps,
    clientInfo: { name: "diminuendo-acp-tests", version: "0.0.0" },
  });
  client.close = () => conn.close();
  return client;
}

/** The updates of one session, in order. */
export const updatesOf = (client, sessionId) => client.updates.filter((u) => u.sessionId === sessionId).map((u) => u.update);

/** The agent's text of a list of updates. */
export const agentText = (ups) =>
  ups.filter((u) => u.sessionUpdate === "agent_message_chunk").map((u) => u.content.text).join("");

/** Waits until pred() holds, polling; fails after ms. */
export async function until(pred, ms = 10_000, what = "condition") {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (pred()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A raw WebSocket to /acp that speaks whatever the test writes; every message it gets is validated. */
export function rawSocket(url, headers = {}) {
  return new Promise((res, rej) => {
    const ws = new WebSocket(url, { headers });
    const inbox = [];
    const waiters = [];
    const sent = new Map();
    ws.on("message", (d) => {
      const msg = JSON.parse(d.toString());
      validate(msg, msg.method ? undefined : sent.get(msg.id));
      inbox.push(msg);
      waiters.splice(0).forEach((w) => w());
    });
    ws.on("unexpected-response", (_req, resp) => rej(Object.assign(new Error(`upgrade refused: ${resp.statusCode}`), { status: resp.statusCode })));
    ws.on("error", rej);
    ws.on("open", () =>
      res({
        ws,
        inbox,
        send: (v) => {
          if (typeof v === "object" && v && v.method && v.id !== undefined) sent.set(v.id, v.method);
          ws.send(typeof v === "string" ? v : JSON.stringify(v));
        },
        async next(ms = 5000) {
          const deadline = Date.now() + ms;
          while (inbox.length === 0) {
            if (Date.now() > deadline) throw new Error("no message");
            await new Promise((r) => {
              waiters.push(r);
              setTimeout(r, 50);
            });
          }
          return inbox.shift();
        },
        close: () => ws.close(),
      }),
    );
  });
}
