import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import {
  createRestClient,
  DiminuendoClient,
  DiminuendoError,
  TOKEN_PROTOCOL_PREFIX,
  type DiminuendoClientOptions,
  type WebSocketConstructor,
  type ServerEvent,
} from "../src/index.js";
import { startGateway, startIdp, type Gateway, type Idp } from "./gateway.js";

/** Waits until cond holds, checking every 10 ms, or fails after ms. */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Recorded {
  protocols: string | string[] | undefined;
  sent: string[];
  opened: boolean;
  selected: string;
}

/** A `ws` WebSocket that records the subprotocols it asked for and the types of the messages it sent. */
function recorder(): { sockets: Recorded[]; WS: WebSocketConstructor } {
  const sockets: Recorded[] = [];
  class Recording extends WebSocket {
    private readonly rec: Recorded;
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      this.rec = { protocols, sent: [], opened: false, selected: "" };
      sockets.push(this.rec);
      this.on("open", () => {
        this.rec.opened = true;
        this.rec.selected = this.protocol;
      });
      this.on("error", () => undefined);
    }
    override send(data: unknown, ...rest: unknown[]): void {
      this.rec.sent.push((JSON.parse(String(data)) as { type: string }).type);
      (super.send as (...a: unknown[]) => void)(data, ...rest);
    }
  }
  return { sockets, WS: Recording };
}

describe("authentication against a gateway with a local IdP", () => {
  let idp: Idp;
  let gw: Gateway;
  const clients: DiminuendoClient[] = [];
  const client = (
    getToken?: () => string | undefined | Promise<string | undefined>,
    more: Partial<DiminuendoClientOptions> = {},
  ) => {
    const c = new DiminuendoClient({
      url: gw.wsUrl,
      WebSocket,
      requestTimeoutMs: 10_000,
      ...(getToken ? { getToken } : {}),
      ...more,
    });
    clients.push(c);
    return c;
  };

  before(async () => {
    idp = await startIdp();
    // Warn 30 min ahead of exp: a 10 min token gets auth_expiring at once, a 2 h one not for 90 min.
    gw = await startGateway({
      DEV_MODE: "false",
      AUTH0_DOMAIN: idp.issuer,
      AUTH0_AUDIENCE: idp.audience,
      AUTH_EXPIRY_WARNING: "30m",
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await gw?.stop();
    await idp?.stop();
  });

  it("authenticates with the token callback and refreshes the token on auth_expiring", async () => {
    const issued: string[] = [];
    const c = client(async () => {
      const token = idp.mint({ sub: "u1", tenant: "acme", email: "u1@example.com", ttl: issued.length === 0 ? "10m" : "2h" });
      issued.push(token);
      return token;
    });
    const seen: ServerEvent[] = [];
    c.on((ev) => seen.push(ev));
    const identity = await c.connect();
    assert.equal(identity.userId, "u1");
    assert.equal(identity.tenantId, "acme");
    assert.equal(identity.role, "developer");

    // The refresh: after auth_expiring a second token, sent as authenticate and answered on the same socket.
    const types = () => seen.map((ev) => ev.type).join(",");
    await until(() => /auth_expiring.*authenticated/.test(types()), "authenticated after auth_expiring");
    assert.equal(issued.length, 2);
    assert.equal(seen.filter((ev) => ev.type === "welcome").length, 1, "one connection throughout");
    assert.equal(c.state, "open");
    assert.equal(c.identity?.userId, "u1");
    const session = await c.createSession({ agentType: "echo", name: "after refresh" });
    assert.equal(session.createdBy, "u1");
  });

  it("sends the token as a subprotocol on the upgrade, with no authenticate message", async () => {
    const rec = recorder();
    const token = idp.mint({ sub: "u3", tenant: "acme" });
    const c = client(() => token, { WebSocket: rec.WS });
    const identity = await c.connect();
    assert.equal(identity.userId, "u3");
    assert.equal(rec.sockets.length, 1);
    assert.deepEqual(rec.sockets[0]?.protocols, ["diminuendo.v1.batch", TOKEN_PROTOCOL_PREFIX + token]);
    assert.equal(rec.sockets[0]?.selected, "diminuendo.v1.batch", "the gateway selects the batch subprotocol, not the token's");
    assert.deepEqual(rec.sockets[0]?.sent, [], "nothing sent before authenticated");
    const session = await c.createSession({ agentType: "echo", name: "token on the upgrade" });
    assert.equal(session.createdBy, "u3");
  });

  it("sends the token in an authenticate message with tokenIn: message", async () => {
    const rec = recorder();
    const token = idp.mint({ sub: "u4", tenant: "acme" });
    const c = client(() => token, { WebSocket: rec.WS, tokenIn: "message" });
    assert.equal((await c.connect()).userId, "u4");
    assert.equal(rec.sockets.length, 1);
    assert.deepEqual(rec.sockets[0]?.protocols, "diminuendo.v1.batch");
    assert.deepEqual(rec.sockets[0]?.sent, ["authenticate"]);
  });

  it("rejects connect() with AUTH_FAILED for a token the gateway refuses", async () => {
    const rec = recorder();
    const c = client(() => "not-a-jwt", { WebSocket: rec.WS });
    await assert.rejects(c.connect(), (e: unknown) => {
      assert.ok(e instanceof DiminuendoError, String(e));
      assert.equal(e.code, "AUTH_FAILED");
      return true;
    });
    assert.equal(c.state, "closed");
    // The upgrade with the token was refused (401, which a browser does not
    // show); the retry with the token in a message got the reason.
    assert.equal(rec.sockets.length, 2);
    assert.deepEqual(rec.sockets[0]?.protocols, ["diminuendo.v1.batch", TOKEN_PROTOCOL_PREFIX + "not-a-jwt"]);
    assert.equal(rec.sockets[0]?.opened, false);
    assert.deepEqual(rec.sockets[1]?.sent, ["authenticate"]);
  });

  it("rejects connect() with AUTH_REQUIRED when the gateway needs a token and there is none", async () => {
    const c = client(() => undefined);
    await assert.rejects(c.connect(), (e: unknown) => e instanceof DiminuendoError && e.code === "AUTH_REQUIRED");
    assert.equal(c.state, "closed");
  });

  it("sends the REST client's token as a bearer header", async () => {
    const rest = createRestClient({ baseUrl: gw.httpUrl, getToken: () => idp.mint({ sub: "u2", tenant: "acme" }) });
    const me = await rest.GET("/api/me");
    assert.equal(me.response.status, 200);
    assert.equal(me.data?.userId, "u2");

    const anonymous = createRestClient({ baseUrl: gw.httpUrl });
    const refused = await anonymous.GET("/api/me");
    assert.equal(refused.response.status, 401);
    assert.equal(refused.error?.error.code, "AUTH_REQUIRED");
  });
});
