import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "@playwright/test";

// Sign-in outside dev mode, as with Auth0: a gateway that requires tokens,
// trusting the local IdP (cmd/mint-token -serve), both started here on
// loopback. The page reads GET /api/auth/config, Auth0's SPA SDK sends the
// browser to the IdP's sign-in page (Authorization Code with PKCE), and the
// browser comes back signed in, its socket authenticated by the token.

const repo = fileURLToPath(new URL("../..", import.meta.url));
const clientId = "diminuendo-web-e2e";
const audience = "diminuendo-e2e";

let work: string;
let gatewayURL: string;
let idpURL: string;
const procs: ChildProcess[] = [];

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
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

// start runs bin and resolves with the first match of ready in its output.
function start(bin: string, args: string[], env: Record<string, string>, ready: RegExp): Promise<RegExpMatchArray> {
  const p = spawn(bin, args, { cwd: work, env: { PATH: process.env.PATH ?? "", HOME: work, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  procs.push(p);
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${bin} did not start:\n${out}`)), 30_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = out.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    p.stdout!.on("data", onData);
    p.stderr!.on("data", onData);
    p.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${bin} exited with ${code}:\n${out}`));
    });
  });
}

test.beforeAll(async () => {
  test.setTimeout(240_000);
  work = mkdtempSync(join(tmpdir(), "diminuendo-signin-"));
  execFileSync("go", ["build", "-o", work, "./cmd/diminuendo", "./cmd/mint-token"], { cwd: repo, stdio: "inherit" });

  const gatewayPort = await freePort();
  gatewayURL = `http://127.0.0.1:${gatewayPort}`;
  // The IdP picks its own port and prints its issuer; the page's origin is
  // its one allowed callback.
  const [, issuer] = await start(
    join(work, "mint-token"),
    ["-serve", "127.0.0.1:0", "-key", join(work, "idp-key.pem"), "-aud", audience, "-client-id", clientId, "-redirect-uris", `${gatewayURL}/`],
    {},
    /local IdP serving (http:\/\/127\.0\.0\.1:\d+\/)/,
  );
  idpURL = issuer.replace(/\/$/, "");
  await start(
    join(work, "diminuendo"),
    [],
    {
      DEV_MODE: "false",
      HOST: "127.0.0.1",
      PORT: String(gatewayPort),
      AUTH0_DOMAIN: issuer,
      AUTH0_CLIENT_ID: clientId,
      AUTH0_AUDIENCE: audience,
      ALLOWED_ORIGINS: gatewayURL,
      SIM_STEP_DELAY: "5ms",
      DATA_DIR: join(work, "data"),
    },
    /diminuendo listening/,
  );
});

test.afterAll(async () => {
  for (const p of procs) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => p.once("exit", r)) : undefined)));
  if (work) rmSync(work, { recursive: true, force: true });
});

test("signs in through the local IdP with PKCE and reaches the gateway as that user", async ({ page, request }, info) => {
  // The settings the page reads need no token; the API behind them does.
  const cfg = await (await request.get(`${gatewayURL}/api/auth/config`)).json();
  expect(cfg).toEqual({ domain: idpURL, clientId, audience, devMode: false });
  expect((await request.get(`${gatewayURL}/api/sessions`)).status()).toBe(401);

  const tokenCalls: string[] = [];
  page.on("request", (r) => {
    if (r.url().startsWith(`${idpURL}/oauth/token`) && r.method() === "POST") tokenCalls.push(r.postData() ?? "");
  });

  // What the page's sockets send: the token goes on the upgrade, as a
  // subprotocol, so no socket sends an authenticate message.
  const sockets: string[] = [];
  const sent: string[] = [];
  page.on("websocket", (ws) => {
    sockets.push(ws.url());
    ws.on("framesent", (f) => {
      for (const line of String(f.payload).split("\n")) {
        try {
          sent.push((JSON.parse(line) as { type: string }).type);
        } catch {
          sent.push("(not JSON)");
        }
      }
    });
  });

  await page.goto(`${gatewayURL}/`);

  // Universal Login on the IdP: the SDK asked for a code with PKCE S256.
  await expect(page).toHaveURL(new RegExp(`^${idpURL}/authorize\\?`));
  const authorize = new URL(page.url());
  expect(authorize.searchParams.get("client_id")).toBe(clientId);
  expect(authorize.searchParams.get("redirect_uri")).toBe(`${gatewayURL}/`);
  expect(authorize.searchParams.get("audience")).toBe(audience);
  expect(authorize.searchParams.get("response_type")).toBe("code");
  expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await page.getByLabel("Email").fill("ada@example.com");
  await page.getByLabel("Tenant").fill("acme");
  await page.getByLabel("Role").selectOption("admin");
  await page.screenshot({ path: info.outputPath("idp-sign-in.png"), fullPage: true });
  await page.getByRole("button", { name: "Continue" }).click();

  // Back on the app, signed in: the socket authenticated with the token,
  // and the code is gone from the address bar.
  await expect(page.getByTestId("connection-state")).toHaveAttribute("data-state", "open");
  await expect(page.getByTestId("identity")).toHaveText("ada@example.com · admin");
  await expect(page).toHaveURL(`${gatewayURL}/`);
  expect(tokenCalls).toHaveLength(1);
  expect(tokenCalls[0]).toContain("grant_type=authorization_code");
  expect(tokenCalls[0]).toContain("code_verifier=");
  expect(sockets.length).toBeGreaterThan(0);
  expect(sent.filter((t) => t === "authenticate")).toEqual([]);
  // An admin of tenant acme sees the members page the gateway guards.
  await expect(page.getByTestId("nav-members")).toBeVisible();
  await expect(page.getByTestId("session-list")).toBeVisible();
  await page.screenshot({ path: info.outputPath("signed-in.png"), fullPage: true });

  // A reload stays signed in without another trip to the IdP.
  await page.reload();
  await expect(page.getByTestId("identity")).toHaveText("ada@example.com · admin");
  await expect(page).toHaveURL(`${gatewayURL}/`);

  // Signing out goes through the IdP's logout and back to a page that
  // asks to sign in again.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(new RegExp(`^${idpURL}/authorize\\?`));
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
});
