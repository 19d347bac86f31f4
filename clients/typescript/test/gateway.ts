// Starts a real gateway binary in dev mode for the tests: embedded simulated
// upstreams, a free loopback port, and a scratch data directory.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, from dist-test/test/ of clients/typescript. */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

export interface Gateway {
  /** http://127.0.0.1:PORT */
  httpUrl: string;
  /** ws://127.0.0.1:PORT/ws */
  wsUrl: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** DIMINUENDO_BIN, or a binary built from this checkout into dir. */
function binary(dir: string): string {
  const fromEnv = process.env["DIMINUENDO_BIN"];
  if (fromEnv) return fromEnv;
  const out = join(dir, "diminuendo");
  execFileSync("go", ["build", "-o", out, "./cmd/diminuendo"], { cwd: repoRoot, stdio: "inherit", timeout: 300_000 });
  return out;
}

async function waitReady(url: string, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}:\n${log()}`);
    try {
      const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gateway not ready within ${timeoutMs} ms:\n${log()}`);
}

export async function startGateway(env: Record<string, string> = {}): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), "diminuendo-ts-"));
  const bin = binary(dir);
  const port = await freePort();
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
    await waitReady(httpUrl, child, () => output, 30_000);
  } catch (e) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    httpUrl,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise<void>((r) => child.once("exit", () => r()));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
