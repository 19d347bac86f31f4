export { BATCH_PROTOCOL, DiminuendoClient, TOKEN_PROTOCOL_PREFIX } from "./session.js";
export type {
  ConnectionState,
  DiminuendoClientOptions,
  EventOf,
  WebSocketConstructor,
  WebSocketLike,
} from "./session.js";
export { DiminuendoError } from "./errors.js";
export type { ClientErrorCode } from "./errors.js";
export { createRestClient } from "./rest.js";
export type { RestClient, RestClientOptions } from "./rest.js";
export { backoffDelay } from "./backoff.js";
export type * from "./frames.js";
export type { components, paths, operations } from "./generated/schema.js";
