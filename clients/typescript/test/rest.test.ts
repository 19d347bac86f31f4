import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createRestClient } from "../src/index.js";
import { startGateway, type Gateway } from "./gateway.js";

describe("createRestClient against a gateway", () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway();
  });
  after(async () => {
    await gw?.stop();
  });

  it("creates a session and lists it, sending the token it is given", async () => {
    const tokensAsked: number[] = [];
    const rest = createRestClient({
      baseUrl: gw.httpUrl,
      getToken: () => {
        tokensAsked.push(Date.now());
        return "dev-mode-ignores-this";
      },
    });
    const created = await rest.POST("/api/sessions", { body: { agentType: "echo", name: "from rest" } });
    assert.equal(created.response.status, 201);
    assert.ok(created.data);
    assert.equal(created.data.name, "from rest");
    assert.equal(created.data.state, "inactive");

    const listed = await rest.GET("/api/sessions", { params: { query: { includeArchived: false } } });
    assert.equal(listed.response.status, 200);
    assert.ok(listed.data?.sessions.some((s) => s.id === created.data?.id));

    const one = await rest.GET("/api/sessions/{sessionId}", { params: { path: { sessionId: created.data.id } } });
    assert.equal(one.data?.agentType, "echo");
    assert.equal(tokensAsked.length, 3);
  });

  it("lists the agent types", async () => {
    const rest = createRestClient({ baseUrl: gw.httpUrl });
    const r = await rest.GET("/api/agent-types");
    assert.equal(r.response.status, 200);
    assert.ok(r.data?.agentTypes.some((t) => t.id === "coding-agent"));
  });

  it("returns the error body of a refusal", async () => {
    const rest = createRestClient({ baseUrl: gw.httpUrl });
    const r = await rest.GET("/api/sessions/{sessionId}", { params: { path: { sessionId: "ses_nope" } } });
    assert.equal(r.response.status, 404);
    assert.equal(r.data, undefined);
    assert.equal(r.error?.error.code, "SESSION_NOT_FOUND");
  });

  it("rejects an invalid body with INVALID_MESSAGE", async () => {
    const rest = createRestClient({ baseUrl: gw.httpUrl + "/" });
    const r = await rest.POST("/api/sessions", { body: { agentType: "" } });
    assert.equal(r.response.status, 400);
    assert.equal(r.error?.error.code, "INVALID_MESSAGE");
  });
});
