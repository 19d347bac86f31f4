// Starts a real gateway binary in dev mode for the tests: embedded simulated
// upstreams, a free loopback port, and a scratch data directory.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, from dist-test/test/ of clients/typescript. */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

export interface Gateway {
  port: number;
  /** http://127.0.0.1:PORT */
  httpUrl: string;
  /** ws://127.0.0.1:PORT/ws */
  wsUrl: string;
  stop(): Promise<void>;
}

// freePort finds a free loopback port below the kernel's ephemeral range.
// A port the kernel handed out for port 0 could be handed out again, between
// this check and the gateway's bind, to one of the simulators the gateway
// itself starts on port 0; a port outside that range cannot.
async function freePort(): Promise<number> {
  const low = ephemeralLow();
  for (let i = 0; i < 50; i++) {
    const port = 10_000 + Math.floor(Math.random() * (low - 10_000));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in 10000-${low - 1} after 50 tries`);
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux),
// or 32768 where that cannot be read (other systems start theirs higher).
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return low > 10_100 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once("error", () => res(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => res(true)));
  });
}

/** The binary named by envVar, or one built from ./cmd/<name> of this checkout into dir. */
function binary(name: string, envVar: string, dir: string): string {
  const fromEnv = process.env[envVar];
  if (fromEnv) return resolve(fromEnv); // the child runs in a scratch directory
  const out = join(dir, name);
  execFileSync("go", ["build", "-o", out, `./cmd/${name}`], { cwd: repoRoot, stdio: "inherit", timeout: 300_000 });
  return out;
}

async function waitReady(url: string, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url} exited with ${child.exitCode}:\n${log()}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms:\n${log()}`);
}

/** Stops a child process: SIGTERM, then SIGKILL if it lingers. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

/** A gateway process; `port` reuses a port (a restart at the same address). */
export async function startGateway(env: Record<string, string> = {}, opts: { port?: number } = {}): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), "diminuendo-ts-"));
  const bin = binary("diminuendo", "DIMINUENDO_BIN", dir);
  const port = opts.port ?? (await freePort());
  let output = "";
  // cwd is the scratch directory so that no .env of the checkout is read.
  const child = spawn(bin, [], {
    cwd: dir,
    env: {
      PATH: process.env["PATH"] ?? "",
      DEV_MODE: "true",
      HOST: "127.0.0.1",
      PORT: String(port),
      SIM_STEP_DELAY: "1ms",
      DATA_DIR: join(dir, "data"),
      LOG_LEVEL: "warn",
      SHUTDOWN_DRAIN: "1s",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const httpUrl = `http://127.0.0.1:${port}`;
  try {
    await waitReady(`${httpUrl}/readyz`, child, () => output, 30_000);
  } catch (e) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    port,
    httpUrl,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Idp {
  /** The issuer, http://127.0.0.1:PORT/: the gateway's AUTH0_DOMAIN. */
  issuer: string;
  audience: string;
  /** A token signed by the IdP's key (cmd/mint-token). */
  mint(claims: { sub: string; tenant: string; role?: string; email?: string; ttl?: string }): string;
  stop(): Promise<void>;
}

/** The local identity provider of cmd/mint-token, serving discovery and JWKS on a free loopback port. */
export async function startIdp(): Promise<Idp> {
  const dir = mkdtempSync(join(tmpdir(), "diminuendo-idp-"));
  const bin = binary("mint-token", "DIMINUENDO_MINT_TOKEN_BIN", dir);
  const key = join(dir, "idp-key.pem");
  const port = await freePort();
  let output = "";
  const child = spawn(bin, ["-serve", `127.0.0.1:${port}`, "-key", key], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const issuer = `http://127.0.0.1:${port}/`;
  try {
    await waitReady(`${issuer}.well-known/openid-configuration`, child, () => output, 30_000);
  } catch (e) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const audience = "diminuendo";
  return {
    issuer,
    audience,
    mint(c) {
      const args = ["-key", key, "-issuer", issuer, "-aud", audience, "-sub", c.sub, "-tenant", c.tenant];
      args.push("-role", c.role ?? "developer", "-ttl", c.ttl ?? "1h");
      if (c.email) args.push("-email", c.email);
      return execFileSync(bin, args, { cwd: dir, timeout: 10_000 }).toString().trim();
    },
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Fabric {
  /** PODIUM_URL, UNISON_URL and ENSEMBLE_URL for a gateway using these upstreams. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * The simulated upstreams as their own process (cmd/fabric-sim), so that
 * sessions and their agents outlive a gateway process.
 */
export async function startFabricSim(stepDelay: string): Promise<Fabric> {
  const dir = mkdtempSync(join(tmpdir(), "diminuendo-fabric-"));
  const bin = binary("fabric-sim", "DIMINUENDO_FABRIC_SIM_BIN", dir);
  const args = ["-podium", "127.0.0.1:0", "-unison", "127.0.0.1:0", "-ensemble", "127.0.0.1:0", "-step-delay", stepDelay];
  const child = spawn(bin, args, { cwd: dir, env: { PATH: process.env["PATH"] ?? "" }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const urls: Record<string, string> = {};
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fabric-sim printed no URLs within 30 s:\n${output}`)), 30_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`fabric-sim exited with ${code}:\n${output}`));
    });
    child.stdout?.on("data", (b: Buffer) => {
      output += b.toString();
      for (const line of output.split("\n")) {
        const [name, url] = line.trim().split(/\s+/);
        if (name && url?.startsWith("http")) urls[name] = url;
      }
      if (urls["podium"] && urls["unison"] && urls["ensemble"]) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on("data", (b: Buffer) => {
      output = (output + b.toString()).slice(-20_000);
    });
  });
  try {
    await ready;
  } catch (e) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    env: { PODIUM_URL: urls["podium"] ?? "", UNISON_URL: urls["unison"] ?? "", ENSEMBLE_URL: urls["ensemble"] ?? "" },
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
