import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { paths } from "./generated/schema.js";

export interface RestClientOptions {
  /** The gateway's HTTP origin, e.g. `http://127.0.0.1:8080` (paths start with `/api`). */
  baseUrl: string;
  /** Called before every request; a token is sent as `Authorization: Bearer`. Undefined sends none (dev mode). */
  getToken?: () => string | undefined | Promise<string | undefined>;
  /** The fetch implementation; defaults to `globalThis.fetch` (browsers, Node 18+). */
  fetch?: (input: Request) => Promise<Response>;
}

export type RestClient = Client<paths>;

/**
 * A typed client for the gateway's REST API, generated from openapi.yaml:
 * `await rest.GET("/api/sessions")` gives `{data, error, response}` with
 * `data` typed by the operation's response and `error` the error body.
 */
export function createRestClient(opts: RestClientOptions): RestClient {
  const client = createClient<paths>({
    baseUrl: opts.baseUrl.replace(/\/+$/, ""),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const getToken = opts.getToken;
  if (getToken) {
    const auth: Middleware = {
      async onRequest({ request }) {
        const token = await getToken();
        if (token) request.headers.set("Authorization", `Bearer ${token}`);
        return request;
      },
    };
    client.use(auth);
  }
  return client;
}
